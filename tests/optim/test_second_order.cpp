// Hessian-free and trust-region Newton–CG: a quadratic solved in at most n
// curvature products, negative curvature seen by the exact Hessian and not by
// the Gauss–Newton matrix, subsampled curvature, bit-identical resumption,
// option and state checks. (Both also run on every zoo function, test_zoo.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using namespace curv::optim;
using curv::optim::test::message_of;
using curv::optim::test::Problem;

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// ½xᵀAx − bᵀx with hvp = gnvp = A·v (its Gauss–Newton matrix is A itself),
// counting the curvature products.
struct Quadratic {
  Tensor<double> a, b;
  std::size_t products = 0;

  std::size_t dim() const { return b.size(); }
  double value(const Tensor<double>& x) const {
    const Tensor<double> ax = xt::linalg::dot(a, x);
    return 0.5 * dot(x, ax) - dot(b, x);
  }
  double value_and_grad(const Tensor<double>& x, Tensor<double>& g) const {
    g = xt::linalg::dot(a, x) - b;
    return value(x);
  }
  double hvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& hv) {
    ++products;
    hv = xt::linalg::dot(a, v);
    return value_and_grad(x, g);
  }
  double gnvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) {
    return hvp(x, v, g, gv);
  }
};

Quadratic random_quadratic(std::size_t n, unsigned seed) {
  Quadratic q;
  q.a = test::random_spd(n, seed);
  xt::random::seed(seed + 1000);
  q.b = xt::random::randn<double>({n});
  return q;
}

// E(x) = ½|r(x)|², r(x) = (x₀² − 1, x₁): minima at (±1, 0). The exact
// Hessian diag(6x₀² − 2, 1) is indefinite for |x₀| < 1/√3; the Gauss–Newton
// matrix JᵀJ = diag(4x₀², 1) never is.
struct TwoWells {
  std::size_t dim() const { return 2; }
  double value(const Tensor<double>& x) const {
    const double r0 = x(0) * x(0) - 1;
    return 0.5 * (r0 * r0 + x(1) * x(1));
  }
  double value_and_grad(const Tensor<double>& x, Tensor<double>& g) const {
    g = Tensor<double>{2 * x(0) * (x(0) * x(0) - 1), x(1)};
    return value(x);
  }
  double hvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& hv) const {
    hv = Tensor<double>{(6 * x(0) * x(0) - 2) * v(0), v(1)};
    return value_and_grad(x, g);
  }
  double gnvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) const {
    gv = Tensor<double>{4 * x(0) * x(0) * v(0), v(1)};
    return value_and_grad(x, g);
  }
};

// The quadratic whose sampled products are A_s·v for a matrix that depends
// on the sample number s, recording the numbers it is asked for: what
// Hessian-free and TR-NCG do with a SubsampledGaussNewtonObjective.
struct SampledQuadratic : Quadratic {
  std::vector<std::size_t> samples;
  double curvature_fraction() const { return 0.25; }
  void sampled_product(std::size_t sample, const Tensor<double>& v, Tensor<double>& out) {
    samples.push_back(sample);
    out = xt::linalg::dot(a, v) * (1.0 + 0.01 * static_cast<double>(sample % 3));
  }
  void sampled_gnvp(std::size_t sample, const Tensor<double>&, const Tensor<double>& v, Tensor<double>& gv) {
    sampled_product(sample, v, gv);
  }
  void sampled_hvp(std::size_t sample, const Tensor<double>&, const Tensor<double>& v, Tensor<double>& hv) {
    sampled_product(sample, v, hv);
  }
};
static_assert(SubsampledGaussNewtonObjective<SampledQuadratic, double>);
static_assert(SubsampledCurvatureObjective<SampledQuadratic, double>);
static_assert(!SubsampledGaussNewtonObjective<Quadratic, double>);

// λ negligible, CG run to convergence: one Newton step.
HessianFreeOptions exact_newton_hf() {
  HessianFreeOptions o;
  o.lambda_initial = o.lambda_min = 1e-15;
  o.cg_progress_tolerance = 0;
  o.cg_residual_tolerance = 1e-12;
  o.gradient_tolerance = 1e-9;
  return o;
}

TEST(HessianFree, SolvesAQuadraticInOneIterationOfAtMostNProducts) {
  for (std::size_t n : {10u, 30u}) {
    for (Curvature c : {Curvature::gauss_newton, Curvature::exact}) {
      Quadratic q = random_quadratic(n, 11);
      HessianFreeOptions o = exact_newton_hf();
      o.curvature = c;
      const auto r = HessianFree<double>(o).minimize(q, Tensor<double>(xt::zeros<double>({n})));
      const Tensor<double> x_star = xt::linalg::solve(q.a, q.b);
      ASSERT_TRUE(r.converged) << r.message;
      ASSERT_EQ(r.iterations, 1u);
      EXPECT_LE(r.trace[0].cg_iterations, static_cast<double>(n));
      EXPECT_EQ(q.products, static_cast<std::size_t>(r.trace[0].cg_iterations));  // cold start: no extra product
      EXPECT_LT(test::distance_to_minimum(r.x, {x_star}), 1e-9);
      EXPECT_FALSE(r.trace[0].negative_curvature);
      EXPECT_EQ(r.trace[0].alpha, 1.0);
      // A quadratic's model is exact: ρ = 1 to rounding, so λ shrinks by 2/3.
      EXPECT_NEAR(r.trace[0].rho, 1.0, 1e-6);
      std::printf("[ measure ] HessianFree quadratic n = %zu: %g CG iterations\n", n, r.trace[0].cg_iterations);
    }
  }
}

TEST(TrustRegionNewtonCG, SolvesAQuadraticInOneIterationOfAtMostNProducts) {
  for (std::size_t n : {10u, 30u}) {
    Quadratic q = random_quadratic(n, 12);
    TrustRegionOptions o;
    o.initial_radius = o.max_radius = 1e6;  // the solution lies inside
    o.forcing = 1e-12;
    o.gradient_tolerance = 1e-9;
    const auto r = TrustRegionNewtonCG<double>(o).minimize(q, Tensor<double>(xt::zeros<double>({n})));
    const Tensor<double> x_star = xt::linalg::solve(q.a, q.b);
    ASSERT_TRUE(r.converged) << r.message;
    ASSERT_EQ(r.iterations, 1u);
    EXPECT_LE(r.trace[0].cg_iterations, static_cast<double>(n));
    EXPECT_EQ(q.products, static_cast<std::size_t>(r.trace[0].cg_iterations));
    EXPECT_LT(test::distance_to_minimum(r.x, {x_star}), 1e-9);
    EXPECT_NEAR(r.trace[0].rho, 1.0, 1e-6);
    EXPECT_EQ(r.trace[0].radius, 1e6);
    std::printf("[ measure ] TrustRegionNewtonCG quadratic n = %zu: %g CG iterations\n", n,
                r.trace[0].cg_iterations);
  }
}

TEST(TrustRegionNewtonCG, AStepLeavingTheRegionEndsOnItsBoundary) {
  Quadratic q = random_quadratic(10, 13);
  TrustRegionOptions o;
  o.initial_radius = 1e-2;  // |x*| is of order 1
  o.max_iterations = 1;
  const TrustRegionNewtonCG<double> tr(o);
  auto st = tr.start(q, Tensor<double>(xt::zeros<double>({10})));
  const IterationInfo info = tr.step(q, st);
  EXPECT_NEAR(info.p_norm, 1e-2, 1e-14);
  ASSERT_TRUE(info.success);
  // A good model on the boundary doubles the radius (Alg. 4.1).
  EXPECT_GT(info.rho, 0.75);
  EXPECT_EQ(st.radius, 2e-2);
}

TEST(TrustRegionNewtonCG, ExitsOnNegativeCurvatureOfTheExactHessian) {
  TwoWells f;
  TrustRegionOptions o;
  o.gradient_tolerance = 1e-10;
  const auto r = TrustRegionNewtonCG<double>(o).minimize(f, Tensor<double>{0.1, 0.1});
  ASSERT_TRUE(r.converged) << r.message;
  ASSERT_FALSE(r.trace.empty());
  EXPECT_TRUE(r.trace[0].negative_curvature);
  // To the boundary along the direction of negative curvature: a step of length Δ₀.
  EXPECT_NEAR(r.trace[0].p_norm, o.initial_radius, 1e-12);
  EXPECT_NEAR(std::abs(r.x(0)), 1.0, 1e-9);
  EXPECT_NEAR(r.x(1), 0.0, 1e-9);
}

TEST(HessianFree, OnTheGaussNewtonMatrixNeverSeesNegativeCurvature) {
  TwoWells f;
  HessianFreeOptions o;
  o.gradient_tolerance = 1e-10;
  const auto r = HessianFree<double>(o).minimize(f, Tensor<double>{0.1, 0.1});
  ASSERT_TRUE(r.converged) << r.message;
  for (const IterationInfo& i : r.trace) EXPECT_FALSE(i.negative_curvature) << "iteration " << i.iteration;
  EXPECT_NEAR(std::abs(r.x(0)), 1.0, 1e-9);
  EXPECT_NEAR(r.x(1), 0.0, 1e-9);

  // The exact Hessian there is indefinite: with λ small, HF's CG meets it and still converges.
  o.curvature = Curvature::exact;
  o.lambda_initial = 1e-3;
  const auto e = HessianFree<double>(o).minimize(f, Tensor<double>{0.1, 0.1});
  ASSERT_TRUE(e.converged) << e.message;
  EXPECT_TRUE(e.trace[0].negative_curvature);
  EXPECT_NEAR(std::abs(e.x(0)), 1.0, 1e-9);
}

TEST(HessianFree, DampingFollowsTheReductionRatio) {
  // On a quadratic ρ = 1: λ ← 2λ/3 every iteration (as long as it stays above lambda_min).
  Quadratic q = random_quadratic(10, 14);
  HessianFreeOptions o;
  o.lambda_initial = 10;
  o.max_iterations = 3;
  o.gradient_tolerance = 0;
  const auto r = HessianFree<double>(o).minimize(q, Tensor<double>(xt::zeros<double>({10})));
  ASSERT_EQ(r.trace.size(), 3u);
  EXPECT_EQ(r.trace[0].lambda, 10.0);
  EXPECT_DOUBLE_EQ(r.trace[1].lambda, 10.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(r.trace[2].lambda, 10.0 * 4 / 9);
  // A model far too optimistic (ρ < ¼) raises λ by 3/2.
  TwoWells f;
  HessianFreeOptions exact;
  exact.curvature = Curvature::exact;
  exact.lambda_initial = 1e-8;
  exact.max_iterations = 1;
  const auto e = HessianFree<double>(exact).minimize(f, Tensor<double>{0.7, 0.0});
  // The Newton step from 0.7 overshoots to about 1.46, where E is higher: ρ < 0.
  ASSERT_EQ(e.trace.size(), 1u);
  EXPECT_LT(e.trace[0].rho, 0.0);
  EXPECT_DOUBLE_EQ(e.state.lambda, 1.5e-8);
}

TEST(HessianFree, WarmStartsFromThePreviousSolutionDecayed) {
  // With a warm start the solve of iteration 2 costs one product more (for
  // the start's residual) but starts where iteration 1 ended, decayed.
  Quadratic q = random_quadratic(20, 15);
  HessianFreeOptions o;
  o.max_iterations = 2;
  o.gradient_tolerance = 0;
  o.cg_progress_tolerance = 0;
  o.max_cg_iterations = 3;
  const HessianFree<double> hf(o);
  auto st = hf.start(q, Tensor<double>(xt::zeros<double>({20})));
  hf.step(q, st);
  ASSERT_GT(detail::norm(st.p), 0);
  const std::size_t before = q.products;
  hf.step(q, st);
  EXPECT_EQ(q.products - before, 4u);  // 1 for ζp's residual, 3 CG iterations
  o.warm_start_decay = 0;
  const HessianFree<double> cold(o);
  auto cs = cold.start(q, Tensor<double>(xt::zeros<double>({20})));
  cold.step(q, cs);
  const std::size_t cold_before = q.products;
  cold.step(q, cs);
  EXPECT_EQ(q.products - cold_before, 3u);
}

TEST(SubsampledCurvature, EachIterationUsesItsOwnSampleAndCountsItsFraction) {
  SampledQuadratic q;
  static_cast<Quadratic&>(q) = random_quadratic(8, 16);
  HessianFreeOptions o;
  o.max_iterations = 3;
  o.gradient_tolerance = 0;
  o.warm_start_decay = 0;
  const auto r = HessianFree<double>(o).minimize(q, Tensor<double>(xt::zeros<double>({8})));
  ASSERT_EQ(r.trace.size(), 3u);
  EXPECT_EQ(q.products, 0u);  // the full-dataset products are never called
  std::size_t at = 0;
  double products_passes = 0;
  for (const IterationInfo& i : r.trace) {
    for (std::size_t j = 0; j < static_cast<std::size_t>(i.cg_iterations); ++j, ++at) {
      ASSERT_LT(at, q.samples.size());
      EXPECT_EQ(q.samples[at], i.iteration) << "product " << j << " of iteration " << i.iteration;
    }
    products_passes += 0.25 * i.cg_iterations;
  }
  EXPECT_EQ(at, q.samples.size());
  // Passes: the start, the sampled products at 1/4 each, and whole evaluations (integers).
  const double rest = r.passes - 1 - products_passes;
  EXPECT_NEAR(rest, std::round(rest), 1e-12);

  SampledQuadratic t;
  static_cast<Quadratic&>(t) = random_quadratic(8, 16);
  TrustRegionOptions to;
  to.max_iterations = 2;
  to.gradient_tolerance = 0;
  const auto tr = TrustRegionNewtonCG<double>(to).minimize(t, Tensor<double>(xt::zeros<double>({8})));
  EXPECT_EQ(t.products, 0u);
  ASSERT_EQ(t.samples.size(), static_cast<std::size_t>(tr.trace[0].cg_iterations + tr.trace[1].cg_iterations));
  EXPECT_EQ(t.samples.front(), 1u);
  EXPECT_EQ(t.samples.back(), 2u);
}

// E(x) = (1/N) Σₙ ½(aₙᵀx − bₙ)² with columns of A scaled from 1 to 1000: its
// Gauss–Newton matrix is AᵀA/N, its per-example gradients aₙ(aₙᵀx − bₙ).
struct ScaledLeastSquares {
  Tensor<double> a, b;
  std::size_t products = 0;

  ScaledLeastSquares(std::size_t n_examples, std::size_t n) {
    xt::random::seed(31);
    a = xt::random::randn<double>({n_examples, n});
    for (std::size_t j = 0; j < n; ++j)
      xt::view(a, xt::all(), j) *= std::pow(1000.0, static_cast<double>(j) / static_cast<double>(n - 1));
    b = xt::random::randn<double>({n_examples});
  }
  std::size_t dim() const { return a.shape(1); }
  double count() const { return static_cast<double>(a.shape(0)); }
  Tensor<double> residual(const Tensor<double>& x) const { return xt::linalg::dot(a, x) - b; }
  double value(const Tensor<double>& x) const { return 0.5 * dot(residual(x), residual(x)) / count(); }
  double value_and_grad(const Tensor<double>& x, Tensor<double>& g) const {
    g = xt::linalg::dot(xt::transpose(a), residual(x)) / count();
    return value(x);
  }
  double gnvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) {
    ++products;
    gv = xt::linalg::dot(xt::transpose(a), xt::linalg::dot(a, v)) / count();
    return value_and_grad(x, g);
  }
  void gradient_second_moment(const Tensor<double>& x, Tensor<double>& s) const {
    const Tensor<double> r = residual(x);
    s = xt::zeros<double>({dim()});
    for (std::size_t n = 0; n < a.shape(0); ++n)
      for (std::size_t j = 0; j < dim(); ++j) s(j) += a(n, j) * r(n) * a(n, j) * r(n);
    s /= count();
  }
};
static_assert(GradientSecondMomentObjective<ScaledLeastSquares, double>);

TEST(HessianFree, ThePreconditionerSolvesTheSameSystemInFewerCgIterations) {
  std::size_t iterations[2] = {0, 0};
  Tensor<double> solution[2];
  for (int preconditioned = 0; preconditioned < 2; ++preconditioned) {
    ScaledLeastSquares f(60, 12);
    HessianFreeOptions o = exact_newton_hf();
    o.max_cg_iterations = 1000;  // rounding on this ill-conditioned system may take CG past n
    o.max_iterations = 1;
    o.preconditioner = preconditioned == 1;
    const auto r = HessianFree<double>(o).minimize(f, Tensor<double>(xt::zeros<double>({12})));
    ASSERT_EQ(r.trace.size(), 1u);
    iterations[preconditioned] = static_cast<std::size_t>(r.trace[0].cg_iterations);
    solution[preconditioned] = r.x;
    // x* = (AᵀA)⁻¹Aᵀb, the least-squares solution.
    const Tensor<double> ata = xt::linalg::dot(xt::transpose(f.a), f.a);
    const Tensor<double> x_star = xt::linalg::solve(ata, xt::linalg::dot(xt::transpose(f.a), f.b));
    EXPECT_LT(test::distance_to_minimum(r.x, {x_star}), 1e-6 * xt::amax(xt::abs(x_star))()) << preconditioned;
  }
  std::printf("[ measure ] HessianFree scaled least squares n = 12: %zu CG iterations, %zu preconditioned\n",
              iterations[0], iterations[1]);
  EXPECT_LT(iterations[1], iterations[0]);
}

TEST(HessianFree, ThePreconditionerNeedsTheGradientSecondMoment) {
  Quadratic q = random_quadratic(4, 32);
  HessianFreeOptions o;
  o.preconditioner = true;
  EXPECT_EQ(message_of([&] { HessianFree<double>(o).start(q, Tensor<double>(xt::zeros<double>({4}))); }),
            "curv::optim::HessianFree: preconditioner = true needs an objective with gradient_second_moment(w, s) "
            "(GradientSecondMomentObjective)");
  o.preconditioner_exponent = 0;
  EXPECT_EQ(message_of([&] { HessianFree<double>{o}; }),
            "curv::optim::HessianFreeOptions: preconditioner_exponent must be in (0, 1], got 0");
}

// minimize() stopped half way and resumed — from a copy of the state and
// from one saved and loaded through MemoryState — gives the full run's
// points, losses, passes and traces bit for bit.
template <class Opt, class Options, class Obj>
void expect_resume_bit_identical(const Options& options, Obj& obj, const Tensor<double>& x0, const std::string& who) {
  const Opt opt(options);
  const auto full = opt.minimize(obj, x0);
  ASSERT_GE(full.iterations, 4u) << who << ": " << full.message;
  Options half = options;
  half.max_iterations = full.iterations / 2;
  const auto part = Opt(half).minimize(obj, x0);
  ASSERT_EQ(part.stop_reason, StopReason::max_iterations) << who;
  MemoryState saved;
  opt.save_state(part.state, saved);
  EXPECT_EQ(saved.counters.at("state_version"), 1u);
  for (int from_file = 0; from_file < 2; ++from_file) {
    const auto state = from_file ? opt.load_state(saved, x0.size()) : part.state;
    const auto rest = opt.resume(obj, state);
    const std::string at = who + (from_file ? " (loaded)" : " (copied)");
    EXPECT_EQ(rest.stop_reason, full.stop_reason) << at;
    EXPECT_EQ(rest.iterations, full.iterations) << at;
    EXPECT_TRUE(same_bits(rest.x, full.x)) << at;
    EXPECT_TRUE(same_bits(rest.value, full.value)) << at;
    EXPECT_EQ(rest.passes, full.passes) << at;
    ASSERT_EQ(part.trace.size() + rest.trace.size(), full.trace.size()) << at;
    for (std::size_t i = 0; i < rest.trace.size(); ++i) {
      const IterationInfo& a = rest.trace[i];
      const IterationInfo& b = full.trace[part.trace.size() + i];
      EXPECT_TRUE(same_bits(a.loss, b.loss) && same_bits(a.rho, b.rho) && same_bits(a.lambda, b.lambda) &&
                  same_bits(a.radius, b.radius) && same_bits(a.cg_iterations, b.cg_iterations) &&
                  a.success == b.success && a.negative_curvature == b.negative_curvature)
          << at << ", iteration " << a.iteration;
    }
  }
}

TEST(SecondOrder, ResumeContinuesBitIdentically) {
  for (const Problem& p : test::zoo()) {
    if (p.name == "booth" || p.name == "sum_of_squares_10" || p.name == "quadratic_20") continue;  // too few iterations
    auto obj = make_objective<double>(p.f, p.x0.size());
    HessianFreeOptions h;
    h.curvature = Curvature::exact;
    h.gradient_tolerance = 1e-9;
    expect_resume_bit_identical<HessianFree<double>>(h, obj, p.x0, "HessianFree on " + p.name);
    TrustRegionOptions t;
    t.gradient_tolerance = 1e-9;
    expect_resume_bit_identical<TrustRegionNewtonCG<double>>(t, obj, p.x0, "TrustRegionNewtonCG on " + p.name);
  }
  SampledQuadratic q;
  static_cast<Quadratic&>(q) = random_quadratic(12, 17);
  HessianFreeOptions h;
  h.gradient_tolerance = 1e-9;
  expect_resume_bit_identical<HessianFree<double>>(h, q, Tensor<double>(xt::zeros<double>({12})),
                                                   "HessianFree on a subsampled quadratic");
}

TEST(SecondOrder, BadOptionsThrowNamingOptionAndValue) {
  auto hf = [](auto set) {
    HessianFreeOptions o;
    set(o);
    return message_of([&] { HessianFree<double>{o}; });
  };
  EXPECT_EQ(hf([](auto& o) { o.lambda_initial = -1; }),
            "curv::optim::HessianFreeOptions: lambda_initial must be in [1e-15, 1e+20), got -1");
  EXPECT_EQ(hf([](auto& o) { o.curvature = Curvature::finite_difference; }),
            "curv::optim::HessianFreeOptions: curvature must be exact or gauss_newton (a CG solve needs products "
            "B·v, not one finite-difference curvature along p), got finite_difference");
  EXPECT_EQ(hf([](auto& o) { o.max_cg_iterations = 0; }),
            "curv::optim::HessianFreeOptions: max_cg_iterations must be at least 1, got 0");
  EXPECT_EQ(hf([](auto& o) { o.warm_start_decay = 1.5; }),
            "curv::optim::HessianFreeOptions: warm_start_decay must be in [0, 1], got 1.5");
  EXPECT_EQ(hf([](auto& o) { o.backtrack_ratio = 1; }),
            "curv::optim::HessianFreeOptions: backtrack_ratio must be > 1 and finite, got 1");
  EXPECT_EQ(hf([](auto& o) { o.line_search_shrink = 1; }),
            "curv::optim::HessianFreeOptions: line_search_shrink must be in (0, 1), got 1");
  EXPECT_EQ(hf([](auto& o) { o.cg_progress_tolerance = std::nan(""); }),
            "curv::optim::HessianFreeOptions: cg_progress_tolerance must be in [0, 1), got nan");
  auto tr = [](auto set) {
    TrustRegionOptions o;
    set(o);
    return message_of([&] { TrustRegionNewtonCG<double>{o}; });
  };
  EXPECT_EQ(tr([](auto& o) { o.eta = 0.3; }), "curv::optim::TrustRegionOptions: eta must be in [0, 0.25), got 0.3");
  EXPECT_EQ(tr([](auto& o) { o.initial_radius = 2e3; }),
            "curv::optim::TrustRegionOptions: initial_radius must be in (0, max_radius = 1000], got 2000");
  EXPECT_EQ(tr([](auto& o) { o.max_radius = 0; }),
            "curv::optim::TrustRegionOptions: max_radius must be positive and finite, got 0");
  EXPECT_EQ(tr([](auto& o) { o.forcing = 1; }), "curv::optim::TrustRegionOptions: forcing must be in (0, 1), got 1");
}

TEST(SecondOrder, AnObjectiveWithoutTheProductsItNeedsIsRefusedAtStart) {
  auto obj = make_objective<double>(test::booth, 2);  // hvp but no gnvp
  EXPECT_EQ(message_of([&] { HessianFree<double>().start(obj, Tensor<double>{0.0, 0.0}); }),
            "curv::optim::HessianFree: curvature = gauss_newton needs an objective with gnvp(w, v, g, gv) "
            "(GaussNewtonObjective) or sampled_gnvp(sample, w, v, gv)");
  EXPECT_EQ(obj.counts().gradient, 0u);  // refused before any pass
}

TEST(SecondOrder, BadStatesAreRefusedNamingTheField) {
  Quadratic q = random_quadratic(4, 18);
  const HessianFree<double> hf;
  auto hs = hf.start(q, Tensor<double>(xt::zeros<double>({4})));
  hs.lambda = 0;
  EXPECT_EQ(message_of([&] { hf.check_state(hs, 4); }),
            "curv::optim::HessianFree: state.lambda = 0, expected a finite value in [1e-15, 1e+20]");
  const TrustRegionNewtonCG<double> tr;
  auto ts = tr.start(q, Tensor<double>(xt::zeros<double>({4})));
  ts.radius = 1e4;
  EXPECT_EQ(message_of([&] { tr.check_state(ts, 4); }).rfind("curv::optim::TrustRegionNewtonCG: state.radius = 10000, "
                                                            "expected a finite value in [", 0),
            0u);
  ts.radius = 1;
  ts.g(2) = std::numeric_limits<double>::infinity();
  EXPECT_EQ(message_of([&] { tr.check_state(ts, 4); }),
            "curv::optim::TrustRegionNewtonCG: state.g[2] = inf, expected a finite value");
}

// A quadratic whose curvature product turns NaN from the n-th call on.
struct NanProducts : Quadratic {
  std::size_t nan_from = 0;
  double hvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& hv) {
    const double f = Quadratic::hvp(x, v, g, hv);
    if (products > nan_from) hv(0) = std::numeric_limits<double>::quiet_NaN();
    return f;
  }
  double gnvp(const Tensor<double>& x, const Tensor<double>& v, Tensor<double>& g, Tensor<double>& gv) {
    return hvp(x, v, g, gv);
  }
};

TEST(SecondOrder, ANonFiniteCurvatureProductLeavesTheStateUntouched) {
  NanProducts q;
  static_cast<Quadratic&>(q) = random_quadratic(6, 19);
  q.nan_from = 2;
  const HessianFree<double> hf;
  auto hs = hf.start(q, Tensor<double>(xt::ones<double>({6})));
  const auto before = hs;
  try {
    hf.step(q, hs);
    FAIL() << "no NonFiniteError";
  } catch (const NonFiniteError& e) {
    EXPECT_EQ(e.where().quantity, "the curvature product");
    EXPECT_EQ(e.where().index, 0u);
  }
  EXPECT_TRUE(same_bits(hs.w, before.w) && same_bits(hs.p, before.p) && same_bits(hs.passes, before.passes));
  EXPECT_EQ(hs.iteration, 0u);
  const auto r = hf.resume(q, before);
  EXPECT_EQ(r.stop_reason, StopReason::non_finite);
  EXPECT_TRUE(same_bits(r.x, before.w));

  q.products = 0;
  q.nan_from = 0;  // the first product: TR-NCG's CG may reach the boundary after one
  const TrustRegionNewtonCG<double> tr;
  auto ts = tr.start(q, Tensor<double>(xt::ones<double>({6})));
  const auto tbefore = ts;
  EXPECT_THROW(tr.step(q, ts), NonFiniteError);
  EXPECT_TRUE(same_bits(ts.w, tbefore.w) && same_bits(ts.radius, tbefore.radius) &&
              same_bits(ts.passes, tbefore.passes));
  EXPECT_EQ(ts.iteration, 0u);
}

TEST(SecondOrder, CallbacksSeeEveryIterationAndCanStopTheRun) {
  Quadratic q = random_quadratic(10, 20);
  std::size_t seen = 0;
  std::size_t stop_at = 2;
  OnStep<double> count([&](CallbackContext<double>& c) {
    if (++seen == stop_at) c.stop("enough");
  });
  HessianFreeOptions h;
  h.gradient_tolerance = 0;
  const auto r = HessianFree<double>(h).minimize(q, Tensor<double>(xt::zeros<double>({10})), {&count});
  EXPECT_EQ(r.stop_reason, StopReason::callback);
  EXPECT_EQ(r.message, "enough");
  EXPECT_EQ(r.iterations, 2u);
  seen = 0;
  stop_at = 3;
  TrustRegionOptions t;
  t.gradient_tolerance = 0;
  const auto s = TrustRegionNewtonCG<double>(t).minimize(q, Tensor<double>(xt::zeros<double>({10})), {&count});
  EXPECT_EQ(s.stop_reason, StopReason::callback);
  EXPECT_EQ(s.iterations, 3u);
}

TEST(SecondOrder, WorkInSinglePrecision) {
  auto rosenbrock = [](const curv::ad::Var<float>& v) {
    const auto x = curv::ad::slice(v, 0, 1), y = curv::ad::slice(v, 1, 2);
    const auto a = y - x * x;
    const auto b = 1.0f - x;
    return curv::ad::sum(100.0f * (a * a) + b * b);
  };
  auto obj = make_objective<float>(rosenbrock, 2);
  HessianFreeOptions h;
  h.curvature = Curvature::exact;
  h.gradient_tolerance = 1e-3;
  const auto r = HessianFree<float>(h).minimize(obj, Tensor<float>{-1.2f, 1.0f});
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_NEAR(r.x(0), 1.0f, 1e-2f);
  TrustRegionOptions t;
  t.gradient_tolerance = 1e-3;
  const auto s = TrustRegionNewtonCG<float>(t).minimize(obj, Tensor<float>{-1.2f, 1.0f});
  EXPECT_TRUE(s.converged) << s.message;
  EXPECT_NEAR(s.x(0), 1.0f, 1e-2f);
}

}  // namespace
