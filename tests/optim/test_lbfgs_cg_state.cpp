// L-BFGS and nonlinear CG as states with start / step / resume (the shape of
// SCG's): stepping a state by hand, and resuming a saved copy mid-run, give
// minimize()'s results bit for bit on every function of the zoo.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using namespace curv::optim;
using curv::optim::test::Problem;

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every field of two iteration records except the wall-clock time.
void expect_same_record(const IterationInfo& a, const IterationInfo& b, const std::string& where) {
  EXPECT_EQ(a.iteration, b.iteration) << where;
  EXPECT_TRUE(same_bits(a.loss, b.loss)) << where << ": loss " << a.loss << " vs " << b.loss;
  EXPECT_TRUE(same_bits(a.alpha, b.alpha)) << where << ": alpha " << a.alpha << " vs " << b.alpha;
  EXPECT_TRUE(same_bits(a.grad_norm, b.grad_norm)) << where;
  EXPECT_TRUE(same_bits(a.grad_mean, b.grad_mean)) << where;
  EXPECT_TRUE(same_bits(a.p_norm, b.p_norm)) << where;
  EXPECT_TRUE(same_bits(a.p_mean, b.p_mean)) << where;
  EXPECT_EQ(a.restarted, b.restarted) << where;
  EXPECT_EQ(a.passes, b.passes) << where;
}

template <class Opt, class Options>
void expect_stepping_and_resuming_match_minimize(const Options& options, const char* who) {
  for (const Problem& p : test::zoo()) {
    const std::string where = std::string(who) + " on " + p.name;
    auto obj = make_objective<double>(p.f, p.x0.size());
    const Opt opt(options);
    const auto full = opt.minimize(obj, p.x0);
    // A line search may fail near a minimum at rounding level (which zoo
    // function does depends on the BLAS kernels); the states must agree then too.
    ASSERT_TRUE(full.stop_reason == StopReason::gradient_tolerance || full.stop_reason == StopReason::max_iterations ||
                full.stop_reason == StopReason::line_search_failed)
        << where << ": stop reason " << static_cast<int>(full.stop_reason) << ": " << full.message;
    ASSERT_GE(full.iterations, 2u) << where;

    // By hand: start, then step until the gradient tolerance or the iteration limit.
    auto st = opt.start(obj, p.x0);
    std::size_t steps = 0;
    while (detail::norm(st.g) > options.gradient_tolerance && st.iteration < options.max_iterations) {
      const LineSearchStep s = opt.step(obj, st);
      if (!s.accepted) {
        EXPECT_EQ(full.stop_reason, StopReason::line_search_failed) << where << ": " << s.message;
        break;
      }
      ASSERT_LT(steps, full.trace.size()) << where;
      expect_same_record(s.info, full.trace[steps], where + ", step " + std::to_string(steps + 1));
      ++steps;
    }
    EXPECT_EQ(steps, full.iterations) << where;
    EXPECT_TRUE(same_bits(st.w, full.x)) << where << ": stepped point differs from minimize's";
    EXPECT_TRUE(same_bits(st.loss, full.value)) << where;
    EXPECT_EQ(st.passes, full.passes) << where;

    // Stopped half way, then resumed from a copy of the state.
    Options first_half = options;
    first_half.max_iterations = full.iterations / 2;
    const auto part = Opt(first_half).minimize(obj, p.x0);
    ASSERT_EQ(part.stop_reason, StopReason::max_iterations) << where;
    auto saved = part.state;  // what a checkpoint holds
    const auto rest = opt.resume(obj, saved);
    EXPECT_EQ(rest.stop_reason, full.stop_reason) << where;
    EXPECT_EQ(rest.iterations, full.iterations) << where;
    EXPECT_TRUE(same_bits(rest.x, full.x)) << where << ": resumed point differs";
    EXPECT_TRUE(same_bits(rest.value, full.value)) << where;
    EXPECT_EQ(rest.passes, full.passes) << where;
    ASSERT_EQ(part.trace.size() + rest.trace.size(), full.trace.size()) << where;
    for (std::size_t i = 0; i < rest.trace.size(); ++i)
      expect_same_record(rest.trace[i], full.trace[part.trace.size() + i], where + ", resumed record " + std::to_string(i));
  }
}

TEST(LbfgsState, SteppingAndResumingAHalfwayStateMatchMinimizeBitForBitOnTheZoo) {
  LbfgsOptions o;
  o.max_iterations = 2000;
  o.gradient_tolerance = 1e-9;
  expect_stepping_and_resuming_match_minimize<LBFGS<double>>(o, "LBFGS");
  o.memory = 3;  // the memory fills up and drops its oldest pairs before the halfway state
  expect_stepping_and_resuming_match_minimize<LBFGS<double>>(o, "LBFGS m=3");
}

TEST(NonlinearCgState, SteppingAndResumingAHalfwayStateMatchMinimizeBitForBitOnTheZoo) {
  NonlinearCgOptions o;
  o.max_iterations = 2000;
  o.gradient_tolerance = 1e-9;
  expect_stepping_and_resuming_match_minimize<NonlinearCG<double>>(o, "NonlinearCG");
  o.restart_interval = 3;  // slow on rosenbrock_10: some runs end at the iteration limit
  o.max_iterations = 500;
  expect_stepping_and_resuming_match_minimize<NonlinearCG<double>>(o, "NonlinearCG restart 3");
}

TEST(LbfgsState, StartHoldsTheFirstPointAndAnEmptyMemoryAndTheMemoryIsBounded) {
  auto obj = make_objective<double>(test::rosenbrock, 10);
  LbfgsOptions o;
  o.memory = 4;
  const LBFGS<double> lbfgs(o);
  const Tensor<double> x0 = xt::zeros<double>({10});
  auto st = lbfgs.start(obj, x0);
  EXPECT_TRUE(same_bits(st.w, x0));
  EXPECT_EQ(st.loss, 9.0);  // Σᵢ₌₁⁹ (1 − 0)²
  EXPECT_EQ(st.iteration, 0u);
  EXPECT_EQ(st.passes, 1.0);
  EXPECT_TRUE(st.memory.empty());
  std::size_t most = 0;
  for (int k = 0; k < 12; ++k) {
    ASSERT_TRUE(lbfgs.step(obj, st).accepted);
    most = std::max(most, st.memory.size());
    for (const auto& pair : st.memory) EXPECT_NEAR(pair.rho * detail::dot(pair.s, pair.y), 1.0, 1e-12);
  }
  EXPECT_EQ(most, 4u);
  EXPECT_EQ(st.iteration, 12u);
}

TEST(LineSearchStates, AFailedLineSearchLeavesThePointAndSaysWhy) {
  // A gradient pointing the wrong way: no step along −g decreases f.
  test::WrongGradient obj;
  const Tensor<double> x0 = {1.0, 1.0};
  const LBFGS<double> lbfgs;
  auto l = lbfgs.start(obj, x0);
  const LineSearchStep ls = lbfgs.step(obj, l);
  EXPECT_FALSE(ls.accepted);
  EXPECT_NE(ls.message.find("line search failed at iteration 1"), std::string::npos) << ls.message;
  EXPECT_TRUE(same_bits(l.w, x0));
  EXPECT_EQ(l.iteration, 0u);
  EXPECT_GT(l.passes, 1.0) << "the failed search's evaluations are counted";
  EXPECT_EQ(lbfgs.minimize(obj, x0).message, ls.message);

  const NonlinearCG<double> cg;
  auto c = cg.start(obj, x0);
  const LineSearchStep cs = cg.step(obj, c);
  EXPECT_FALSE(cs.accepted);
  EXPECT_NE(cs.message.find("line search failed at iteration 1"), std::string::npos) << cs.message;
  EXPECT_TRUE(same_bits(c.w, x0));
  EXPECT_EQ(c.iteration, 0u);
  EXPECT_EQ(cg.minimize(obj, x0).stop_reason, StopReason::line_search_failed);
}

TEST(LineSearchStates, ResumeCountsTheIterationsAlreadyDoneAndRefusesAStateOfAnotherSize) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  LbfgsOptions o;
  o.max_iterations = 5;
  const auto r = LBFGS<double>(o).minimize(obj, Tensor<double>{-1.2, 1.0});
  EXPECT_EQ(r.iterations, 5u);
  const auto again = LBFGS<double>(o).resume(obj, r.state);  // already at max_iterations
  EXPECT_EQ(again.stop_reason, StopReason::max_iterations);
  EXPECT_EQ(again.iterations, 5u);
  EXPECT_TRUE(again.trace.empty());

  auto other = make_objective<double>(test::rosenbrock, 3);
  EXPECT_THROW(LBFGS<double>(o).resume(other, r.state), std::invalid_argument);
  NonlinearCgOptions co;
  const auto c = NonlinearCG<double>(co).minimize(obj, Tensor<double>{-1.2, 1.0});
  EXPECT_THROW(NonlinearCG<double>(co).resume(other, c.state), std::invalid_argument);
}

}  // namespace
