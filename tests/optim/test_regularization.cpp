// The L2 penalty adaptor (value, gradient, H·v and minibatches exactly as
// ½ Σ_g λ_g |w_g|² adds them, groups outside untouched, the minimizer of a
// penalized quadratic) and SGD/Adam's gradient clipping by norm and by value.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using namespace curv::optim;
using curv::optim::test::message_of;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Rosenbrock on R⁶ with two groups: [0, 2) at λ = 0.5 and [3, 5) at λ = 2;
// elements 2 and 5 are in no group.
const std::vector<L2Group> kGroups = {{"a", 0, 2, 0.5}, {"b", 3, 2, 2.0}};
const Tensor<double> kW = {-1.2, 0.7, 0.3, -0.4, 1.1, 0.9};
const Tensor<double> kV = {0.3, -1.0, 0.5, 2.0, -0.7, 0.1};

auto rosenbrock6() { return make_objective<double>(curv::optim::test::rosenbrock, 6); }

double lambda_at(std::size_t i) { return i < 2 ? 0.5 : (i == 3 || i == 4) ? 2.0 : 0.0; }

TEST(L2Penalty, AddsHalfLambdaSquaredNormToTheValue) {
  auto f = rosenbrock6();
  auto F = with_l2<double>(f, kGroups);
  const double closed = 0.5 * 0.5 * (1.44 + 0.49) + 0.5 * 2.0 * (0.16 + 1.21);
  EXPECT_NEAR(F.penalty(kW), closed, 1e-15);
  EXPECT_EQ(F.value(kW), f.value(kW) + F.penalty(kW));
  Tensor<double> g;
  EXPECT_EQ(F.value_and_grad(kW, g), F.value(kW));
}

TEST(L2Penalty, GradientAndHvpAddLambdaTimesTheGroupAndLeaveOtherEntriesBitForBit) {
  auto f = rosenbrock6();
  auto F = with_l2<double>(f, kGroups);
  Tensor<double> g0, hv0, g, hv, g2;
  const double f0 = f.hvp(kW, kV, g0, hv0);
  const double F0 = F.hvp(kW, kV, g, hv);
  F.value_and_grad(kW, g2);
  EXPECT_EQ(F0, f0 + F.penalty(kW));
  for (std::size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    const double lambda = lambda_at(i);
    if (lambda == 0) {
      EXPECT_TRUE(same_bits(g(i), g0(i)));
      EXPECT_TRUE(same_bits(g2(i), g0(i)));
      EXPECT_TRUE(same_bits(hv(i), hv0(i)));
    } else {
      EXPECT_EQ(g(i), g0(i) + lambda * kW(i));
      EXPECT_EQ(g2(i), g(i));
      EXPECT_EQ(hv(i), hv0(i) + lambda * kV(i));
    }
  }
}

TEST(L2Penalty, GradientAndHvpAgreeWithFiniteDifferencesOfThePenalizedObjective) {
  auto f = rosenbrock6();
  auto F = with_l2<double>(f, kGroups);
  const double h = 1e-6;
  Tensor<double> g, hv;
  F.hvp(kW, kV, g, hv);
  for (std::size_t i = 0; i < 6; ++i) {
    Tensor<double> plus = kW, minus = kW;
    plus(i) += h;
    minus(i) -= h;
    EXPECT_NEAR(g(i), (F.value(plus) - F.value(minus)) / (2 * h), 1e-6 * (1 + std::abs(g(i)))) << i;
  }
  Tensor<double> gp, gm;
  F.value_and_grad(Tensor<double>(kW + h * kV), gp);
  F.value_and_grad(Tensor<double>(kW - h * kV), gm);
  for (std::size_t i = 0; i < 6; ++i)
    EXPECT_NEAR(hv(i), (gp(i) - gm(i)) / (2 * h), 1e-5 * (1 + std::abs(hv(i)))) << i;
}

// ½cᵦ|w|² per minibatch b (cᵦ = b + 1), with a Gauss–Newton product (cᵦ's mean · v).
struct Batches {
  std::size_t dim() const { return 3; }
  std::size_t num_batches() const { return 3; }
  void begin_epoch(std::size_t e) { begun.push_back(e); }
  double batch_value_and_grad(std::size_t b, const Tensor<double>& w, Tensor<double>& g) {
    const double c = static_cast<double>(b + 1);
    g = c * w;
    return 0.5 * c * xt::sum(w * w)();
  }
  double value(const Tensor<double>& w) { return xt::sum(w * w)(); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    g = 2.0 * w;
    return value(w);
  }
  double gnvp(const Tensor<double>& w, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) {
    gv = 2.0 * v;
    return value_and_grad(w, g);
  }
  std::vector<std::size_t> begun;
};

using PenalizedBatches = L2Penalty<double, Batches>;
using PenalizedFunction = L2Penalty<double, decltype(rosenbrock6())>;
static_assert(StochasticObjective<PenalizedBatches, double>);
static_assert(GaussNewtonObjective<PenalizedBatches, double>);
static_assert(!CurvatureObjective<PenalizedBatches, double>);
static_assert(CurvatureObjective<PenalizedFunction, double>);
static_assert(!StochasticObjective<PenalizedFunction, double>);
static_assert(!GaussNewtonObjective<PenalizedFunction, double>);

TEST(L2Penalty, EachMinibatchAndTheGaussNewtonProductCarryThePenalty) {
  Batches b;
  auto F = with_l2<double>(b, {{"w", 1, 2, 3.0}});
  const Tensor<double> w = {1.0, -2.0, 0.5}, v = {0.25, 1.0, -1.0};
  F.begin_epoch(4);
  EXPECT_EQ(b.begun, std::vector<std::size_t>{4});
  EXPECT_EQ(F.num_batches(), 3u);
  Tensor<double> g, gv, g0;
  const double pen = 0.5 * 3.0 * (4.0 + 0.25);
  EXPECT_EQ(F.batch_value_and_grad(2, w, g), b.batch_value_and_grad(2, w, g0) + pen);
  EXPECT_EQ(g, (Tensor<double>{3.0, -6.0 + 3.0 * -2.0, 1.5 + 3.0 * 0.5}));
  EXPECT_EQ(F.gnvp(w, v, g, gv), b.value(w) + pen);
  EXPECT_EQ(gv, (Tensor<double>{0.5, 2.0 + 3.0, -2.0 - 3.0}));
}

// An objective whose curvature products on subsample s are those of the
// full function scaled by (s + 1): a stand-in for a ModelObjective's
// subsampled products that makes the sample number visible.
struct Sampled {
  decltype(rosenbrock6()) f = rosenbrock6();
  std::size_t dim() const { return 6; }
  double value(const Tensor<double>& w) { return f.value(w); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) { return f.value_and_grad(w, g); }
  double curvature_fraction() const { return 0.25; }
  void sampled_hvp(std::size_t s, const Tensor<double>& w, const Tensor<double>& v, Tensor<double>& hv) {
    Tensor<double> g;
    f.hvp(w, v, g, hv);
    hv *= static_cast<double>(s + 1);
  }
  void sampled_gnvp(std::size_t s, const Tensor<double>&, const Tensor<double>& v, Tensor<double>& gv) {
    gv = static_cast<double>(s + 1) * v;
  }
};
static_assert(SubsampledCurvatureObjective<L2Penalty<double, Sampled>, double>);
static_assert(SubsampledGaussNewtonObjective<L2Penalty<double, Sampled>, double>);
static_assert(!SubsampledCurvatureObjective<PenalizedFunction, double>);

TEST(L2Penalty, SubsampledProductsCarryTheWholePenaltyAndKeepTheirSample) {
  Sampled f;
  auto F = with_l2<double>(f, kGroups);
  EXPECT_EQ(F.curvature_fraction(), 0.25);
  Tensor<double> hv0, hv, gv;
  f.sampled_hvp(2, kW, kV, hv0);
  F.sampled_hvp(2, kW, kV, hv);
  F.sampled_gnvp(3, kW, kV, gv);
  for (std::size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    if (lambda_at(i) == 0) {
      EXPECT_TRUE(same_bits(hv(i), hv0(i)));
    } else {
      EXPECT_EQ(hv(i), hv0(i) + lambda_at(i) * kV(i));
    }
    EXPECT_EQ(gv(i), 4.0 * kV(i) + lambda_at(i) * kV(i));
  }
}

// ½xᵀAx − bᵀx + ½ Σᵢ λᵢxᵢ² with λ on the first half only: minimum at (A + Λ)⁻¹b.
TEST(L2Penalty, ScgLbfgsAndCgReachTheMinimizerOfAPenalizedQuadratic) {
  const std::size_t n = 10;
  const double lambda = 0.7;
  const Tensor<double> a = curv::optim::test::random_spd(n, 11);
  xt::random::seed(12);
  const Tensor<double> b = xt::random::randn<double>({n});
  auto f = make_objective<double>(
      [a, b](const Var<double>& x) { return 0.5 * curv::ad::sum(x * curv::ad::matmul(a, x)) - curv::ad::sum(x * b); },
      n);
  auto F = with_l2<double>(f, {{"first half", 0, n / 2, lambda}});
  Tensor<double> a_lambda = a;
  for (std::size_t i = 0; i < n / 2; ++i) a_lambda(i, i) += lambda;
  const Tensor<double> x_star = xt::linalg::solve(a_lambda, b);
  const Tensor<double> x0 = xt::zeros<double>({n});
  ScgOptions so;
  so.gradient_tolerance = 1e-10;
  const auto scg = SCG<double>(so).minimize(F, x0);
  LbfgsOptions lo;
  lo.gradient_tolerance = 1e-9;
  const auto lbfgs = LBFGS<double>(lo).minimize(F, x0);
  NonlinearCgOptions co;
  co.gradient_tolerance = 1e-8;
  const auto cg = NonlinearCG<double>(co).minimize(F, x0);
  // |x − x*| ≤ |g|/λ_min(A + Λ) ≤ |g| (A's eigenvalues are above 1): within 1e-8
  // of x* for all three (CG's line search runs out of digits below |g| = 1e-8 here).
  const std::vector<std::pair<const char*, const Result<double>*>> runs = {{"scg", &scg}, {"lbfgs", &lbfgs}, {"cg", &cg}};
  for (const auto& [name, r] : runs) {
    EXPECT_TRUE(r->converged) << name << ": " << r->message;
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(r->x(i), x_star(i), 1e-8) << name << " " << i;
  }
  // The unpenalized minimizer A⁻¹b is elsewhere: the penalty was seen.
  const Tensor<double> x_plain = xt::linalg::solve(a, b);
  EXPECT_GT(xt::amax(xt::abs(x_plain - x_star))(), 1e-3);
}

TEST(L2Penalty, RefusesBadGroupsNamingThem) {
  auto f = rosenbrock6();
  auto make = [&](std::vector<L2Group> groups) { return [&f, groups] { with_l2<double>(f, groups); }; };
  EXPECT_EQ(message_of(make({{"a", 0, 2, -1.0}})),
            "curv::optim::L2Penalty: group 'a' has lambda = -1, expected a finite lambda >= 0");
  EXPECT_EQ(message_of(make({{"a", 0, 2, NAN}})),
            "curv::optim::L2Penalty: group 'a' has lambda = nan, expected a finite lambda >= 0");
  EXPECT_EQ(message_of(make({{"a", 0, 2, 1.0}, {"e", 4, 0, 1.0}})),
            "curv::optim::L2Penalty: group 'e' is empty, expected at least one element");
  EXPECT_EQ(message_of(make({{"a", 3, 2, 1.0}, {"b", 0, 4, 1.0}})),
            "curv::optim::L2Penalty: group 'b' [0, 4) and group 'a' [3, 5) overlap, expected disjoint groups");
  EXPECT_EQ(message_of(make({{"a", 5, 2, 1.0}})),
            "curv::optim::L2Penalty: group 'a' [5, 7) ends past the objective's dim() = 6, expected a range inside "
            "[0, 6)");
  EXPECT_EQ(message_of(make({{"a", 0, 3, 0.0}, {"b", 3, 3, 1.0}})), "no exception");
}

// Gradient clipping.

TEST(ClipGradNorm, ScalesAGradientAboveMaxNormToMaxNormAndLeavesOneBelowBitForBit) {
  Tensor<double> g = {3.0, -4.0, 12.0};  // |g| = 13
  EXPECT_EQ(clip_grad_norm(g, 2.5), 13.0);
  EXPECT_NEAR(curv::optim::norm(g), 2.5, 1e-15);
  EXPECT_NEAR(g(2) / g(0), 4.0, 1e-15);  // the direction is kept
  Tensor<float> gf = {3.0f, -4.0f, 12.0f};
  clip_grad_norm(gf, 0.1);
  EXPECT_NEAR(curv::optim::norm(gf), 0.1, 1e-7);
  const Tensor<double> below = {0.1, -0.2, 1.0 / 3};
  Tensor<double> h = below;
  clip_grad_norm(h, curv::optim::norm(below));  // exactly at max_norm: untouched
  clip_grad_norm(h, 1.0);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(h(i), below(i)));
}

TEST(ClipGradValue, BoundsEveryElement) {
  xt::random::seed(5);
  Tensor<double> g = 10.0 * xt::random::randn<double>({50});
  const Tensor<double> before = g;
  clip_grad_value(g, 0.75);
  for (std::size_t i = 0; i < g.size(); ++i) {
    EXPECT_LE(std::abs(g(i)), 0.75);
    if (std::abs(before(i)) <= 0.75) {
      EXPECT_TRUE(same_bits(g(i), before(i)));
    }
  }
}

// f(w) = ½ Σ cᵢwᵢ², a gradient of norm about 300 at w₀.
auto steep() {
  return make_objective<double>(
      [](const Var<double>& w) { return curv::ad::sum(0.5 * (Tensor<double>{100.0, 1.0, 30.0} * (w * w))); }, 3);
}
const Tensor<double> kStart = {2.0, -1.0, 3.0};

TEST(ClipGradNorm, SgdAndAdamStepWithTheClippedGradient) {
  auto f = steep();
  SgdOptions o;
  o.learning_rate = 1;
  o.clip_grad_norm = 0.5;
  const SGD<double> sgd(o);
  SgdState<double> st = sgd.start(kStart);
  const IterationInfo info = sgd.step(f, st);
  EXPECT_NEAR(curv::optim::norm(Tensor<double>(kStart - st.w)), 0.5, 1e-15);
  EXPECT_NEAR(info.grad_norm, std::sqrt(200.0 * 200.0 + 1 + 90.0 * 90.0), 1e-12);  // reported before clipping
  // By value: no element of the step exceeds the clip value.
  SgdOptions v;
  v.learning_rate = 1;
  v.clip_grad_value = 0.25;
  SgdState<double> sv = SGD<double>(v).start(kStart);
  SGD<double>(v).step(f, sv);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LE(std::abs(kStart(i) - sv.w(i)), 0.25);
  // Adam sees the clipped gradient: its first moment after one step is (1 − β₁)·g_clipped.
  AdamOptions ao;
  ao.clip_grad_norm = 0.5;
  const Adam<double> adam(ao);
  AdamState<double> sa = adam.start(kStart);
  adam.step(f, sa);
  EXPECT_NEAR(curv::optim::norm(sa.exp_avg), 0.1 * 0.5, 1e-15);
}

TEST(ClipGradNorm, ClipsTheAccumulatedGradientOfAStep) {
  Batches b;  // minibatch gradients cᵦw; steps of two minibatches: mean 1.5w
  SgdOptions o;
  o.learning_rate = 1;
  o.accumulate = 2;
  o.clip_grad_norm = 0.1;
  const Tensor<double> w0 = {1.0, 2.0, -2.0};  // |1.5w| = 4.5
  SgdState<double> st = SGD<double>(o).start(w0);
  const IterationInfo info = SGD<double>(o).step(b, st);
  EXPECT_NEAR(info.grad_norm, 4.5, 1e-15);
  EXPECT_NEAR(curv::optim::norm(Tensor<double>(w0 - st.w)), 0.1, 1e-15);
}

TEST(ClipGradNorm, ABoundNeverReachedGivesTheUnclippedRunBitForBit) {
  auto run = [](auto opt_type, std::optional<double> clip) {
    auto f = steep();
    auto o = opt_type;
    o.learning_rate = 1e-3;
    o.max_iterations = 20;
    o.clip_grad_norm = clip;
    o.clip_grad_value = clip;
    using Opt = std::conditional_t<std::is_same_v<decltype(o), SgdOptions>, SGD<double>, Adam<double>>;
    return Opt(o).minimize(f, kStart).x;
  };
  for (int k = 0; k < 2; ++k) {
    const Tensor<double> plain = k == 0 ? run(SgdOptions{}, std::nullopt) : run(AdamOptions{}, std::nullopt);
    const Tensor<double> loose = k == 0 ? run(SgdOptions{}, 1e6) : run(AdamOptions{}, 1e6);
    const Tensor<double> tight = k == 0 ? run(SgdOptions{}, 1e-3) : run(AdamOptions{}, 1e-3);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(plain(i), loose(i))) << k << " " << i;
    EXPECT_NE(plain, tight) << k;  // and a bound that is reached changes the run
  }
}

TEST(ClipOptions, AreRefusedUnlessPositiveAndFinite) {
  SgdOptions s;
  s.clip_grad_norm = 0;
  EXPECT_EQ(message_of([&] { SGD<double>{s}; }),
            "curv::optim::SgdOptions: clip_grad_norm = 0, expected a finite max_norm > 0 (unset = no clipping)");
  AdamOptions a;
  a.clip_grad_value = -1;
  EXPECT_EQ(message_of([&] { Adam<float>{a}; }),
            "curv::optim::AdamOptions: clip_grad_value = -1, expected a finite clip value > 0 (unset = no clipping)");
  a.clip_grad_value.reset();
  a.clip_grad_norm = INFINITY;
  EXPECT_EQ(message_of([&] { Adam<double>{a}; }),
            "curv::optim::AdamOptions: clip_grad_norm = inf, expected a finite max_norm > 0 (unset = no clipping)");
}

}  // namespace
