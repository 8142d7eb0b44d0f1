// Non-finite values never become an optimizer's state: a step that would
// make the weights, a buffer or SCG's curvature NaN or ±inf is refused with a
// NonFiniteError naming the step and element, the state stays as it was
// (bit for bit, counters included), and so it does when the objective throws
// mid-iteration; a state handed to resume() is checked field by field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using namespace curv::optim;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

using test::message_of;

auto squares() {
  return make_objective<double>([](const Var<double>& w) { return curv::ad::sum(w * w); }, 2);
}

TEST(NonFinite, SgdRefusesAStepThatOverflowsTheWeightsAndKeepsTheState) {
  auto obj = squares();
  SgdOptions o;
  o.learning_rate = 1e308;  // w₁ ← 1 − 1e308·2 = −inf; w₀ = 0 stays 0
  const SGD<double> sgd(o);
  SgdState<double> st = sgd.start(Tensor<double>{0.0, 1.0});
  try {
    sgd.step(obj, st);
    FAIL() << "a step to -inf was taken";
  } catch (const NonFiniteError& e) {
    EXPECT_EQ(e.where().quantity, "the updated weights");
    EXPECT_EQ(e.where().iteration, 1u);
    EXPECT_EQ(e.where().index, 1u);
    EXPECT_EQ(e.where().value, -kInf);
    const std::string m = e.what();
    EXPECT_NE(m.find("step 1"), std::string::npos) << m;
    EXPECT_NE(m.find("[1] = -inf"), std::string::npos) << m;
  }
  EXPECT_EQ(st.step, 0u);
  EXPECT_EQ(st.passes, 0.0);
  EXPECT_TRUE(same_bits(st.w, Tensor<double>{0.0, 1.0}));

  const auto r = sgd.minimize(obj, Tensor<double>{0.0, 1.0});
  EXPECT_EQ(r.stop_reason, StopReason::non_finite) << r.message;
  EXPECT_EQ(r.iterations, 0u);
  EXPECT_TRUE(same_bits(r.x, Tensor<double>{0.0, 1.0}));
  EXPECT_TRUE(same_bits(r.state.w, Tensor<double>{0.0, 1.0}));
}

TEST(NonFinite, SgdRefusesAMomentumBufferThatOverflows) {
  auto obj = squares();
  SgdOptions o;
  o.learning_rate = 1e-300;  // the weights barely move …
  o.momentum = 0.5;
  const SGD<double> sgd(o);
  SgdState<double> st = sgd.start(Tensor<double>{1e308, 1.0});  // … but the gradient 2e308 is already inf
  EXPECT_THROW(sgd.step(obj, st), NonFiniteError);
  EXPECT_EQ(st.step, 0u);
  EXPECT_EQ(st.momentum_buffer.dimension(), 0u) << "the buffer was created by a refused step";
}

TEST(NonFinite, AdamRefusesAnOverflowingStepAndKeepsItsMoments) {
  auto obj = squares();
  AdamOptions o;
  o.learning_rate = 1e308;  // lr/(1 − β₁) = inf
  const Adam<double> adam(o);
  AdamState<double> st = adam.start(Tensor<double>{0.5, -0.25});
  const AdamState<double> before = st;
  EXPECT_THROW(adam.step(obj, st), NonFiniteError);
  EXPECT_EQ(st.step, 0u);
  EXPECT_TRUE(same_bits(st.w, before.w));
  EXPECT_TRUE(same_bits(st.exp_avg, before.exp_avg));
  EXPECT_TRUE(same_bits(st.exp_avg_sq, before.exp_avg_sq));
  const auto r = adam.minimize(obj, Tensor<double>{0.5, -0.25});
  EXPECT_EQ(r.stop_reason, StopReason::non_finite) << r.message;
  EXPECT_NE(r.message.find("the updated weights"), std::string::npos) << r.message;
  EXPECT_TRUE(same_bits(r.x, before.w));
}

// Three minibatches, the second of which turns NaN at step 5 (epoch 1).
struct NanInSecondEpoch {
  std::size_t calls = 0;
  std::size_t dim() const { return 1; }
  std::size_t num_batches() const { return 3; }
  void begin_epoch(std::size_t) {}
  double batch_value_and_grad(std::size_t, const Tensor<double>& w, Tensor<double>& g) {
    ++calls;
    g = Tensor<double>{calls == 5 ? kNaN : w(0)};
    return 0.5 * w(0) * w(0);
  }
  double value(const Tensor<double>& w) { return 0.5 * w(0) * w(0); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    g = w;
    return value(w);
  }
};

TEST(NonFinite, FirstOrderErrorNamesTheStepEpochMinibatchAndElement) {
  NanInSecondEpoch obj;
  SgdOptions o;
  o.learning_rate = 0.1;
  const auto r = SGD<double>(o).minimize(obj, Tensor<double>{1.0});
  EXPECT_EQ(r.stop_reason, StopReason::non_finite);
  EXPECT_EQ(r.iterations, 4u);
  EXPECT_NE(r.message.find("the gradient has a non-finite element [0] = nan at step 5 (epoch 1, minibatch 1)"),
            std::string::npos)
      << r.message;
  EXPECT_DOUBLE_EQ(r.x(0), std::pow(0.9, 4));  // the four good steps were kept
}

TEST(NonFinite, FirstOrderStartRefusesNonFiniteWeights) {
  EXPECT_NE(message_of([] { SGD<double>().start(Tensor<double>{1.0, kNaN}); }).find("x0[1] = nan"),
            std::string::npos);
  EXPECT_NE(message_of([] { Adam<double>().start(Tensor<double>{kInf}); }).find("x0[0] = inf"), std::string::npos);
}

// |w|² with an H·v that overflows.
struct OverflowingCurvature {
  std::size_t dim() const { return 2; }
  double value(const Tensor<double>& w) { return w(0) * w(0) + w(1) * w(1); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    g = 2.0 * w;
    return value(w);
  }
  double hvp(const Tensor<double>& w, const Tensor<double>&, Tensor<double>& g, Tensor<double>& hv) {
    hv = Tensor<double>{kInf, 0.0};
    return value_and_grad(w, g);
  }
};

void expect_same_state(const ScgState<double>& a, const ScgState<double>& b) {
  EXPECT_TRUE(same_bits(a.w, b.w));
  EXPECT_TRUE(same_bits(a.r, b.r));
  EXPECT_TRUE(same_bits(a.p, b.p));
  EXPECT_TRUE(same_bits(a.loss, b.loss));
  EXPECT_TRUE(same_bits(a.lambda, b.lambda));
  EXPECT_TRUE(same_bits(a.lambda_bar, b.lambda_bar));
  EXPECT_TRUE(same_bits(a.delta, b.delta));
  EXPECT_EQ(a.success, b.success);
  EXPECT_EQ(a.iteration, b.iteration);
  EXPECT_EQ(a.restart_counter, b.restart_counter);
  EXPECT_TRUE(same_bits(a.passes, b.passes));
}

TEST(NonFinite, ScgMinimizeStopsOnANonFiniteCurvatureKeepingWFinite) {
  // SCG cannot form δ and stops with the reason, keeping the start.
  OverflowingCurvature obj;
  const auto r = SCG<double>().minimize(obj, Tensor<double>{1.0, 1.0});
  EXPECT_EQ(r.stop_reason, StopReason::non_finite) << r.message;
  EXPECT_EQ(r.x(0), 1.0);
  EXPECT_EQ(r.x(1), 1.0);
}

TEST(NonFinite, ScgRefusesANonFiniteCurvatureWithoutTouchingItsState) {
  OverflowingCurvature obj;
  const SCG<double> scg;
  ScgState<double> st = scg.start(obj, Tensor<double>{1.0, 1.0});
  st.p = Tensor<double>{-1.0, 0.0};  // not downhill: step 2 restarts p = r before the curvature
  const ScgState<double> before = st;
  try {
    scg.step(obj, st);
    FAIL() << "a non-finite curvature was accepted";
  } catch (const NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("curvature"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("iteration 1"), std::string::npos) << e.what();
  }
  expect_same_state(st, before);
}

// Booth's function through make_objective, throwing once `allowed` calls are used up.
struct ThrowsAfter {
  decltype(make_objective<double>(test::booth, 2)) inner = make_objective<double>(test::booth, 2);
  std::size_t allowed;
  std::size_t dim() const { return 2; }
  void spend() {
    if (allowed == 0) throw std::runtime_error("cancelled");
    --allowed;
  }
  double value(const Tensor<double>& w) { return spend(), inner.value(w); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) { return spend(), inner.value_and_grad(w, g); }
  double hvp(const Tensor<double>& w, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& hv) {
    return spend(), inner.hvp(w, v, g, hv);
  }
};

TEST(NonFinite, AnIterationAbandonedByAnExceptionLeavesTheStateAsItWas) {
  {  // SCG: the curvature pass is done, the trial point's gradient pass throws.
    ThrowsAfter obj{.allowed = 2};
    const SCG<double> scg;
    ScgState<double> st = scg.start(obj, Tensor<double>{0.0, 0.0});
    const ScgState<double> before = st;
    EXPECT_THROW(scg.step(obj, st), std::runtime_error);
    expect_same_state(st, before);
  }
  {  // L-BFGS with a full memory whose direction is lost: the line search throws.
    ThrowsAfter obj{.allowed = 1000};
    const LBFGS<double> lbfgs;
    LbfgsState<double> st = lbfgs.start(obj, Tensor<double>{0.0, 0.0});
    ASSERT_TRUE(lbfgs.step(obj, st).accepted);
    ASSERT_FALSE(st.memory.empty());
    obj.allowed = 0;
    const LbfgsState<double> before = st;
    EXPECT_THROW(lbfgs.step(obj, st), std::runtime_error);
    EXPECT_EQ(st.memory.size(), before.memory.size());
    EXPECT_TRUE(same_bits(st.w, before.w));
    EXPECT_TRUE(same_bits(st.passes, before.passes));
    EXPECT_EQ(st.iteration, before.iteration);
  }
  {  // Nonlinear CG from a direction that is not downhill (a restart) whose line search throws.
    ThrowsAfter obj{.allowed = 1000};
    const NonlinearCG<double> cg;
    NonlinearCgState<double> st = cg.start(obj, Tensor<double>{0.0, 0.0});
    st.d = -1.0 * st.d;
    st.restarted = false;
    obj.allowed = 0;
    const NonlinearCgState<double> before = st;
    EXPECT_THROW(cg.step(obj, st), std::runtime_error);
    EXPECT_TRUE(same_bits(st.d, before.d));
    EXPECT_FALSE(st.restarted);
    EXPECT_TRUE(same_bits(st.passes, before.passes));
  }
}

TEST(NonFinite, ResumeRefusesAStateWithBadValuesNamingTheField) {
  auto obj = make_objective<double>(test::booth, 2);
  const SCG<double> scg;
  const ScgState<double> good = scg.start(obj, Tensor<double>{0.0, 0.0});
  auto scg_message = [&](auto edit) {
    ScgState<double> st = good;
    edit(st);
    return message_of([&] { scg.resume(obj, st); });
  };
  EXPECT_NE(scg_message([](auto& s) { s.lambda = -1; }).find("state.lambda = -1"), std::string::npos);
  EXPECT_NE(scg_message([](auto& s) { s.lambda = kNaN; }).find("state.lambda = nan"), std::string::npos);
  EXPECT_NE(scg_message([](auto& s) { s.lambda_bar = -1; }).find("state.lambda_bar = -1"), std::string::npos);
  EXPECT_NE(scg_message([](auto& s) { s.w(1) = kNaN; }).find("state.w[1] = nan"), std::string::npos);
  EXPECT_NE(scg_message([](auto& s) { s.p = Tensor<double>{1.0}; }).find("state.p has 1 elements, expected 2"),
            std::string::npos);
  EXPECT_EQ(scg_message([](auto&) {}), "no exception");

  const Adam<double> adam;
  AdamState<double> a = adam.start(Tensor<double>{0.0, 0.0});
  a.exp_avg_sq(0) = -1;
  EXPECT_NE(message_of([&] { adam.resume(obj, a); }).find("state.exp_avg_sq[0] = -1, expected a finite value >= 0"),
            std::string::npos);

  const LBFGS<double> lbfgs;
  LbfgsState<double> l = lbfgs.start(obj, Tensor<double>{0.0, 0.0});
  ASSERT_TRUE(lbfgs.step(obj, l).accepted);
  ASSERT_EQ(l.memory.size(), 1u);
  l.memory[0].rho = 0;
  EXPECT_NE(message_of([&] { lbfgs.resume(obj, l); }).find("state.memory[0].rho = 0"), std::string::npos);

  const NonlinearCG<double> cg;
  NonlinearCgState<double> c = cg.start(obj, Tensor<double>{0.0, 0.0});
  c.d(0) = kInf;
  EXPECT_NE(message_of([&] { cg.resume(obj, c); }).find("state.d[0] = inf"), std::string::npos);
}

}  // namespace
