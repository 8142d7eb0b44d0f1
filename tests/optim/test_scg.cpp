// SCG against the properties Møller's algorithm promises: the conjugate-
// gradient property on quadratics, convergence on Rosenbrock, the δ ≤ 0 fix,
// retreat from non-finite losses, its three curvature sources, its cost per
// iteration, its restart counters and bit-identical resumption.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using namespace curv::optim;
using curv::optim::test::Problem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ScgOnQuadratic : public ::testing::TestWithParam<std::size_t> {};

// The conjugate-gradient property: with exact H·p and λ negligible against the
// curvature, SCG is linear CG with exact line searches and terminates in n
// steps up to rounding. (λ₁ = 1e-6 perturbs the first steps at 1e-6 relative;
// see DefaultLambdaConvergesWithinTwoN.)
TEST_P(ScgOnQuadratic, ExactCurvatureReachesTinyGradientWithinNPlusTwoIterations) {
  const std::size_t n = GetParam();
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const Problem p = test::quadratic(n, seed);
    auto obj = make_objective<double>(p.f, n);
    ScgOptions opt;
    opt.max_iterations = n + 2;
    opt.gradient_tolerance = 1e-10;
    opt.lambda_initial = opt.lambda_min;
    const auto r = SCG<double>(opt).minimize(obj, p.x0);
    std::printf("[ measure ] SCG exact, lambda_1 = 1e-15, quadratic n = %zu seed %u: %zu iterations, |g| = %.3g\n", n,
                seed, r.iterations, r.trace.back().grad_norm);
    EXPECT_EQ(r.stop_reason, StopReason::gradient_tolerance) << "seed " << seed << ": " << r.message;
    EXPECT_TRUE(r.converged);
    EXPECT_LE(r.iterations, n + 2);
    EXPECT_LT(r.trace.back().grad_norm, 1e-10);
    EXPECT_LT(test::distance_to_minimum(r.x, p.minima), 1e-9);
    EXPECT_NEAR(r.value, p.f_min, 1e-12 * std::abs(p.f_min) + 1e-12);
    // Each iteration succeeded and cost one hvp and one gradient: 2n + 1 passes at most.
    EXPECT_LE(r.passes, 2.0 * static_cast<double>(r.iterations) + 1);
  }
}

TEST_P(ScgOnQuadratic, DefaultLambdaConvergesWithinTwoN) {
  const std::size_t n = GetParam();
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const Problem p = test::quadratic(n, seed);
    auto obj = make_objective<double>(p.f, n);
    ScgOptions opt;  // λ₁ = 1e-6
    opt.max_iterations = 2 * n;
    opt.gradient_tolerance = 1e-10;
    const auto r = SCG<double>(opt).minimize(obj, p.x0);
    std::printf("[ measure ] SCG exact, default lambda_1, quadratic n = %zu seed %u: %zu iterations\n", n, seed,
                r.iterations);
    EXPECT_TRUE(r.converged) << "seed " << seed << ": " << r.message;
    EXPECT_LT(test::distance_to_minimum(r.x, p.minima), 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Dimensions, ScgOnQuadratic, ::testing::Values(std::size_t{10}, std::size_t{50}));

TEST(Scg, RosenbrockFromClassicStartReachesOneOneWithinHundredIterations) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 100;
  opt.gradient_tolerance = 1e-10;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  std::printf("[ measure ] SCG exact, Rosenbrock (-1.2, 1): %zu iterations (%zu failed), %g passes\n", r.iterations,
              static_cast<std::size_t>(std::count_if(r.trace.begin(), r.trace.end(),
                                                     [](const IterationInfo& i) { return !i.success; })),
              r.passes);
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_LE(r.iterations, 100u);
  EXPECT_NEAR(r.x(0), 1.0, 1e-6);
  EXPECT_NEAR(r.x(1), 1.0, 1e-6);
}

TEST(Scg, FiniteDifferenceCurvatureAlsoConvergesOnRosenbrock) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.curvature = Curvature::finite_difference;
  opt.max_iterations = 1000;
  opt.gradient_tolerance = 1e-7;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  std::printf("[ measure ] SCG finite difference, Rosenbrock: %zu iterations\n", r.iterations);
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_NEAR(r.x(0), 1.0, 1e-5);
  EXPECT_NEAR(r.x(1), 1.0, 1e-5);
  EXPECT_EQ(obj.counts().hvp, 0u);  // Møller's s_k needs gradients only
}

TEST(Scg, NegativeCurvatureRunsStepFourAndStillConverges) {
  // f(x) = Σ x⁴/4 − x²/2: f″(0.1) = 3·0.01 − 1 < 0, so δ₁ = p₁ᵀHp₁ + λ₁|p₁|² < 0.
  auto f = [](const Var<double>& x) { return curv::ad::sum(0.25 * (x * x * x * x) - 0.5 * (x * x)); };
  auto obj = make_objective<double>(f, 3);
  ScgOptions opt;
  opt.gradient_tolerance = 1e-10;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{0.1, 0.2, -0.3});
  ASSERT_FALSE(r.trace.empty());
  EXPECT_LE(r.trace.front().delta, 0.0);
  EXPECT_TRUE(r.trace.front().delta_fixed);
  // After step 4, λ_k = 2(λ_k − δ_k/|p_k|²) > 0 and α_k = μ_k/δ_k with the new, positive δ_k.
  EXPECT_GT(r.trace.front().lambda, 0.0);
  EXPECT_GT(r.trace.front().alpha, 0.0);
  EXPECT_TRUE(r.converged) << r.message;
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(std::abs(r.x(i)), 1.0, 1e-8);
}

TEST(Scg, NonFiniteTrialLossIsAFailedStepAndTheRunStillConverges) {
  // f(x) = Σ xᵢ − log xᵢ, minimum at (1, …, 1). From x = 3 the Newton step
  // lands at x = −3 where log gives NaN: SCG must retreat, not take it.
  auto f = [](const Var<double>& x) { return curv::ad::sum(x - curv::ad::log(x)); };
  auto obj = make_objective<double>(f, 4);
  ScgOptions opt;
  opt.gradient_tolerance = 1e-10;
  const Tensor<double> x0 = {3.0, 3.0, 3.0, 3.0};
  const auto r = SCG<double>(opt).minimize(obj, x0);
  ASSERT_FALSE(r.trace.empty());
  const IterationInfo& first = r.trace.front();
  EXPECT_FALSE(first.success);
  EXPECT_FALSE(std::isfinite(first.comparison));
  EXPECT_TRUE(std::isfinite(first.loss));
  EXPECT_GT(r.trace[1].lambda, first.lambda);  // λ grew
  EXPECT_TRUE(r.converged) << r.message;
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(r.x(i), 1.0, 1e-8);
  for (const IterationInfo& i : r.trace) EXPECT_TRUE(std::isfinite(i.loss));
}

TEST(Scg, CostIsOneCurvaturePassPlusOneGradientPassPerSuccess) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 60;
  opt.gradient_tolerance = 0;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  // An iteration computes curvature when the one before it succeeded (or it is the first).
  std::size_t curvature_steps = 0;
  bool previous_success = true;
  for (const IterationInfo& i : r.trace) {
    if (previous_success) ++curvature_steps;
    previous_success = i.success;
  }
  EXPECT_EQ(obj.counts().hvp, curvature_steps);
  EXPECT_EQ(obj.counts().gradient, 1 + r.iterations);  // x0, then one trial point per iteration
  EXPECT_EQ(obj.counts().value, 0u);
  EXPECT_DOUBLE_EQ(r.passes, static_cast<double>(obj.counts().hvp + obj.counts().gradient));
  EXPECT_DOUBLE_EQ(r.trace.back().passes, r.passes);
}

TEST(Scg, ResumingFromASavedStateContinuesBitIdentically) {
  auto obj = make_objective<double>(test::rosenbrock, 6);
  const Tensor<double> x0 = {-1.2, 1.0, -1.2, 1.0, 0.5, 0.0};
  ScgOptions opt;
  opt.max_iterations = 80;
  opt.gradient_tolerance = 0;
  const auto whole = SCG<double>(opt).minimize(obj, x0);

  ScgOptions first_half = opt;
  first_half.max_iterations = 33;
  const auto part = SCG<double>(first_half).minimize(obj, x0);
  const ScgState<double> saved = part.state;  // a checkpoint
  const auto rest = SCG<double>(opt).resume(obj, saved);

  ASSERT_EQ(rest.iterations, whole.iterations);
  ASSERT_EQ(rest.x.size(), whole.x.size());
  for (std::size_t i = 0; i < whole.x.size(); ++i) EXPECT_EQ(rest.x(i), whole.x(i));
  EXPECT_EQ(rest.value, whole.value);
  EXPECT_EQ(rest.state.lambda, whole.state.lambda);
  ASSERT_EQ(part.trace.size() + rest.trace.size(), whole.trace.size());
  for (std::size_t k = 0; k < rest.trace.size(); ++k) {
    const IterationInfo& a = rest.trace[k];
    const IterationInfo& b = whole.trace[part.trace.size() + k];
    EXPECT_EQ(a.iteration, b.iteration);
    EXPECT_EQ(a.loss, b.loss);
    EXPECT_EQ(a.alpha, b.alpha);
    EXPECT_EQ(a.lambda, b.lambda);
    EXPECT_EQ(a.passes, b.passes);
  }
}

TEST(Scg, StartAndStepAreWhatMinimizeIsBuiltOn) {
  auto obj = make_objective<double>(test::beale, 2);
  ScgOptions opt;
  opt.max_iterations = 12;
  opt.gradient_tolerance = 0;
  const SCG<double> scg(opt);
  const auto r = scg.minimize(obj, Tensor<double>{1.0, 1.0});
  ScgState<double> st = scg.start(obj, Tensor<double>{1.0, 1.0});
  ASSERT_EQ(r.trace.size(), 12u);
  for (std::size_t k = 0; k < 12; ++k) {
    const IterationInfo info = scg.step(obj, st);
    EXPECT_EQ(info.alpha, r.trace[k].alpha);
  }
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(st.w(i), r.x(i));
}

TEST(Scg, MollerRestartCounterRestartsOnlyAtSuccessesWhereKIsAMultipleOfN) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 60;
  opt.gradient_tolerance = 1e-12;
  opt.restart_interval = 3;
  opt.restart_counter = RestartCounter::iterations;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  std::size_t restarts = 0;
  for (const IterationInfo& i : r.trace)
    if (i.success && i.iteration % 3 == 0) {
      EXPECT_TRUE(i.restarted) << "iteration " << i.iteration;
      ++restarts;
    }
  EXPECT_GT(restarts, 0u);
}

TEST(Scg, NetlabRestartCounterCountsSuccesses) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 200;
  opt.gradient_tolerance = 1e-10;
  opt.restart_interval = 4;
  opt.restart_counter = RestartCounter::successes;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  EXPECT_TRUE(r.converged) << r.message;
  // Successes since the last restart: never more than N = 4 without one, and
  // periodic restarts after exactly 4 (the μ ≤ 0 safeguard may restart sooner).
  std::size_t since = 0, periodic = 0;
  for (const IterationInfo& i : r.trace) {
    if (i.success) ++since;
    if (i.restarted) {
      EXPECT_LE(since, 4u) << "iteration " << i.iteration;
      if (since == 4) ++periodic;
      since = 0;
    } else {
      EXPECT_LT(since, 4u) << "iteration " << i.iteration;
    }
  }
  EXPECT_GT(periodic, 0u);
}

// ½|Ax − b|² with its Gauss–Newton product AᵀA·v (= the Hessian here).
struct LeastSquares {
  Tensor<double> a, b;
  std::size_t gnvp_calls = 0;
  std::size_t dim() const { return a.shape()[1]; }
  double value(const Tensor<double>& w) {
    const Tensor<double> r = xt::linalg::dot(a, w) - b;
    return 0.5 * xt::linalg::dot(r, r)();
  }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    const Tensor<double> r = xt::linalg::dot(a, w) - b;
    g = xt::linalg::dot(xt::transpose(a), r);
    return 0.5 * xt::linalg::dot(r, r)();
  }
  double gnvp(const Tensor<double>& w, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) {
    ++gnvp_calls;
    const Tensor<double> av = xt::linalg::dot(a, v);
    gv = xt::linalg::dot(xt::transpose(a), av);
    return value_and_grad(w, g);
  }
};
static_assert(GaussNewtonObjective<LeastSquares, double>);
static_assert(!CurvatureObjective<LeastSquares, double>);

TEST(Scg, GaussNewtonCurvatureUsesGnvp) {
  xt::random::seed(3);
  LeastSquares obj{xt::random::randn<double>({30, 8}), xt::random::randn<double>({30}), 0};
  ScgOptions opt;
  opt.curvature = Curvature::gauss_newton;
  opt.gradient_tolerance = 1e-10;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>(xt::zeros<double>({8})));
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_LE(r.iterations, 2 * 8u);
  EXPECT_GT(obj.gnvp_calls, 0u);
}

TEST(Scg, ExactCurvatureOnAGradientOnlyObjectiveSaysWhatIsMissing) {
  xt::random::seed(3);
  LeastSquares obj{xt::random::randn<double>({5, 3}), xt::random::randn<double>({5}), 0};
  try {
    SCG<double>().minimize(obj, Tensor<double>(xt::zeros<double>({3})));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "curvature = exact needs an objective with hvp")) << e.what();
  }
}

TEST(Scg, GaussNewtonOnAnObjectiveWithoutGnvpSaysWhatIsMissing) {
  auto obj = make_objective<double>(test::booth, 2);
  ScgOptions opt;
  opt.curvature = Curvature::gauss_newton;
  try {
    SCG<double>(opt).minimize(obj, Tensor<double>{0.0, 0.0});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "gauss_newton needs an objective with gnvp")) << e.what();
  }
}

TEST(Scg, WorksInSinglePrecision) {
  auto f = [](const Var<float>& x) {
    const Var<float> head = curv::ad::slice(x, 0, 1);
    const Var<float> tail = curv::ad::slice(x, 1, 2);
    const Var<float> a = tail - head * head;
    const Var<float> b = 1.0f - head;
    return curv::ad::sum(100.0f * (a * a) + b * b);
  };
  auto obj = make_objective<float>(f, 2);
  ScgOptions opt;
  opt.gradient_tolerance = 1e-3;
  const auto r = SCG<float>(opt).minimize(obj, Tensor<float>{-1.2f, 1.0f});
  EXPECT_NEAR(r.x(0), 1.0f, 1e-3f) << r.message;
  EXPECT_NEAR(r.x(1), 1.0f, 1e-3f);
}

TEST(Scg, TraceRecordsEveryIterationWithItsNumbers) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 10;
  opt.gradient_tolerance = 0;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  ASSERT_EQ(r.trace.size(), 10u);
  for (std::size_t k = 0; k < r.trace.size(); ++k) {
    const IterationInfo& i = r.trace[k];
    EXPECT_EQ(i.iteration, k + 1);
    if (!i.delta_fixed) {
      EXPECT_DOUBLE_EQ(i.alpha, i.mu / i.delta);  // step 5
    }
    EXPECT_GT(i.alpha, 0.0);
    EXPECT_GT(i.p_norm, 0.0);
    EXPECT_TRUE(std::isfinite(i.p_mean));
    EXPECT_TRUE(std::isfinite(i.grad_mean));
    EXPECT_GE(i.seconds, 0.0);
    if (k > 0) {
      EXPECT_GT(i.passes, r.trace[k - 1].passes);
    }
  }
}

}  // namespace
