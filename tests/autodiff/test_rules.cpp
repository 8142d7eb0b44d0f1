// Elementwise Rules and the array kernels of curv/autodiff/rule.hpp: tanh's
// values (accurate, and the bits of the tanh nn had before it moved here),
// the kernels' vectorized, threaded loops against the scalar formulas bit for
// bit, and from_output rules' d f′/dy against their f″.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "curv/autodiff.hpp"

namespace {

namespace ad = curv::ad;

// --- tanh's values ----------------------------------------------------------

TEST(TanhRule, FloatValueIsWithin4e7RelativeOfTanh) {
  double worst = 0;
  for (double x = -12; x <= 12; x += 1.0 / 4096) {
    const float xf = static_cast<float>(x);
    const double exact = std::tanh(static_cast<double>(xf));
    const double got = ad::TanhRule::value(xf);
    worst = std::max(worst, std::abs(got - exact) / std::max(std::abs(exact), 1e-30));
  }
  for (float x : {1e-30f, 1e-8f, 1e-4f, -3e-3f}) {
    const double exact = std::tanh(static_cast<double>(x));
    worst = std::max(worst, std::abs(ad::TanhRule::value(x) - exact) / std::abs(exact));
  }
  EXPECT_LT(worst, 4e-7);  // about 6 float ulp
}

TEST(TanhRule, DoubleValueIsWithinAFewUlpOfStdTanh) {
  double worst = 0;
  for (double x = -20; x <= 20; x += 1.0 / 1024) {
    const double exact = std::tanh(x);
    if (exact != 0) worst = std::max(worst, std::abs(ad::TanhRule::value(x) - exact) / std::abs(exact));
  }
  for (double x : {1e-300, 1e-12, -1e-5, 0.4999, 0.5, 0.5001}) {
    const double exact = std::tanh(x);
    worst = std::max(worst, std::abs(ad::TanhRule::value(x) - exact) / std::abs(exact));
  }
  EXPECT_LT(worst, 3 * 0x1.0p-52);
  EXPECT_EQ(ad::TanhRule::value(0.0), 0.0);
  EXPECT_TRUE(std::isnan(ad::TanhRule::value(std::nan(""))));
  EXPECT_TRUE(std::isnan(ad::TanhRule::value(std::nanf(""))));
}

// FNV-1a of the bits of TanhRule::value at n + 1 evenly spaced points of [lo, hi].
template <class Bits, class T>
std::uint64_t hash_of_values(T lo, T hi, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i <= n; ++i) {
    const T x = lo + (hi - lo) * static_cast<T>(i) / static_cast<T>(n);
    const Bits b = std::bit_cast<Bits>(ad::TanhRule::value(x));
    for (std::size_t k = 0; k < sizeof(Bits); ++k) {
      h ^= (b >> (8 * k)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h;
}

TEST(TanhRule, ValuesAreTheBitsOfTheTanhNnHadBefore) {
  // The hashes of curv::nn::ops::detail::tanh_value (commit 2559fcb) on the
  // same grids: the trained models' numbers depend on these bits.
  EXPECT_EQ(hash_of_values<std::uint32_t>(-12.0f, 12.0f, 1'000'000), 1179667790978094000ull);
  EXPECT_EQ(hash_of_values<std::uint32_t>(-1e-3f, 1e-3f, 100'000), 16672072775195231521ull);
  EXPECT_EQ(hash_of_values<std::uint64_t>(-25.0, 25.0, 1'000'000), 16517114906320428643ull);
  EXPECT_EQ(hash_of_values<std::uint64_t>(-0.6, 0.6, 100'000), 252059104360328303ull);
}

// --- the kernels' loops -----------------------------------------------------

template <class T>
std::vector<T> uniform(std::size_t n, T bound, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<T> u(-bound, bound);
  std::vector<T> v(n);
  for (T& e : v) e = u(rng);
  return v;
}

template <class T>
std::size_t bit_mismatches(const std::vector<T>& a, const std::vector<T>& b) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  std::size_t count = 0;
  for (std::size_t i = 0; i < a.size(); ++i) count += std::bit_cast<Bits>(a[i]) != std::bit_cast<Bits>(b[i]);
  return count;
}

// Runs the four kernels of TanhRule (x null: it reads y only) and checks each
// element against tanh's formulas as nn's loops wrote them, bit for bit.
template <class T>
void expect_tanh_kernels_compute_the_scalar_formulas(std::size_t n, T bound, std::uint64_t seed) {
  std::vector<T> x = uniform<T>(n, bound, seed), d = uniform<T>(n, bound, seed + 1), e = uniform<T>(n, bound, seed + 2);
  const std::vector<T> acc = uniform<T>(n, bound, seed + 3);
  x[0] = T(0), x[1] = -T(0), x[2] = T(1e-30), x[3] = T(8), x[4] = T(-100), x[5] = T(0.5);
  std::vector<T> y(n), out(n), accumulated = acc, curved = acc, output_curved = acc;
  ad::rule_values<ad::TanhRule>(x.data(), y.data(), n);
  ad::rule_scale<ad::TanhRule>(static_cast<const T*>(nullptr), y.data(), d.data(), out.data(), n, false);
  ad::rule_scale<ad::TanhRule>(static_cast<const T*>(nullptr), y.data(), d.data(), accumulated.data(), n, true);
  ad::rule_curvature<ad::TanhRule>(static_cast<const T*>(nullptr), y.data(), d.data(), e.data(), curved.data(), n);
  ad::rule_output_curvature<ad::TanhRule>(y.data(), d.data(), e.data(), output_curved.data(), n);
  std::vector<T> y0(n), out0(n), accumulated0(n), curved0(n), output_curved0(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T yi = ad::TanhRule::value(x[i]);
    const T s = T(1) - yi * yi;
    y0[i] = yi;
    out0[i] = s * d[i];
    accumulated0[i] = acc[i] + s * d[i];
    curved0[i] = acc[i] - T(2) * yi * s * d[i] * e[i];     // x̄̇'s term f″ẋȳ
    output_curved0[i] = acc[i] - T(2) * yi * d[i] * e[i];  // the fused op's −2y·ẏ·ȳ
  }
  EXPECT_EQ(bit_mismatches(y, y0), 0u);
  EXPECT_EQ(bit_mismatches(out, out0), 0u);
  EXPECT_EQ(bit_mismatches(accumulated, accumulated0), 0u);
  EXPECT_EQ(bit_mismatches(curved, curved0), 0u);
  EXPECT_EQ(bit_mismatches(output_curved, output_curved0), 0u);
}

TEST(RuleKernels, TanhFloatLoopsComputeTheScalarFormulasBits) {
  // The loops run a clone for the CPU's vector width (AVX-512, AVX2 or the
  // baseline) in parallel chunks of 32,768 elements: every element must be
  // the scalar formula's, bit for bit, on any CPU and thread count.
  expect_tanh_kernels_compute_the_scalar_formulas<float>(100'003, 10.0f, 3);  // three full chunks and a partial one
}

TEST(RuleKernels, TanhDoubleLoopsComputeTheScalarFormulasBits) {
  expect_tanh_kernels_compute_the_scalar_formulas<double>(70'001, 25.0, 4);
  std::vector<double> x{-1e300, 1e-310}, y(2);
  ad::rule_values<ad::TanhRule>(x.data(), y.data(), 2);
  EXPECT_EQ(y[0], -1.0);
  EXPECT_EQ(y[1], 1e-310);
}

// Runs Rule's kernels, inline (no source file of their own), over every
// chunk of x and checks each element against f, 1 + f′·d and 1 + f″·ẋ·ȳ
// written out, bit for bit.
template <class Rule, class F, class First, class Second>
void expect_inline_loops_compute(const std::vector<double>& x, F f, First first, Second second) {
  const std::size_t n = x.size();
  const std::vector<double> d = uniform<double>(n, 1.0, 6), e = uniform<double>(n, 1.0, 7);
  const double* xs = ad::from_output_rule<Rule> ? nullptr : x.data();
  std::vector<double> y(n), scaled(n, 1.0), curved(n, 1.0);
  ad::rule_values<Rule>(x.data(), y.data(), n);
  ad::rule_scale<Rule>(xs, y.data(), d.data(), scaled.data(), n, true);
  ad::rule_curvature<Rule>(xs, y.data(), d.data(), e.data(), curved.data(), n);
  std::vector<double> y0(n), scaled0(n), curved0(n);
  for (std::size_t i = 0; i < n; ++i) {
    y0[i] = f(x[i]);
    scaled0[i] = 1.0 + first(x[i], y0[i]) * d[i];
    curved0[i] = 1.0 + second(x[i], y0[i]) * d[i] * e[i];
  }
  EXPECT_EQ(bit_mismatches(y, y0), 0u) << Rule::name;
  EXPECT_EQ(bit_mismatches(scaled, scaled0), 0u) << Rule::name;
  EXPECT_EQ(bit_mismatches(curved, curved0), 0u) << Rule::name;
}

TEST(RuleKernels, InlineLoopsComputeTheScalarFormulasBitsInEveryChunk) {
  // One from_output rule and one that reads x, over three chunks and a part.
  std::vector<double> x = uniform<double>(70'001, 4.0, 5);
  for (double& v : x) v = std::abs(v) + 0.1;  // log's domain
  expect_inline_loops_compute<ad::SigmoidRule>(
      x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, [](double, double y) { return y * (1.0 - y); },
      [](double, double y) { return y * (1.0 - y) * (1.0 - 2.0 * y); });
  expect_inline_loops_compute<ad::LogRule>(
      x, [](double v) { return std::log(v); }, [](double v, double) { return 1.0 / v; },
      [](double v, double) { return -1.0 / (v * v); });
}

TEST(RuleKernels, RunInPlace) {
  // The fused conv op applies its activation to the pooled values in place
  // (y = x) and scales its tangent in place (out = d).
  const std::size_t n = 50'000;
  const std::vector<float> x = uniform<float>(n, 5.0f, 8), d = uniform<float>(n, 1.0f, 9);
  std::vector<float> y(n), out(n);
  ad::rule_values<ad::TanhRule>(x.data(), y.data(), n);
  ad::rule_scale<ad::TanhRule>(static_cast<const float*>(nullptr), y.data(), d.data(), out.data(), n, false);
  std::vector<float> y_in_place = x, out_in_place = d;
  ad::rule_values<ad::TanhRule>(y_in_place.data(), y_in_place.data(), n);
  ad::rule_scale<ad::TanhRule>(static_cast<const float*>(nullptr), y.data(), out_in_place.data(), out_in_place.data(),
                               n, false);
  EXPECT_EQ(bit_mismatches(y_in_place, y), 0u);
  EXPECT_EQ(bit_mismatches(out_in_place, out), 0u);
}

// --- d f′/dy of from_output rules -------------------------------------------

// With ẏ = f′ẋ, rule_output_curvature's (d f′/dy)·ẏ·ȳ must be
// rule_curvature's f″·ẋ·ȳ, to rounding.
template <class Rule>
void expect_output_curvature_is_the_curvature(const std::vector<double>& x) {
  const std::size_t n = x.size();
  const std::vector<double> xdot = uniform<double>(n, 1.0, 10), ybar = uniform<double>(n, 1.0, 11);
  std::vector<double> y(n), ydot(n), by_x(n, 0.0), by_y(n, 0.0);
  ad::rule_values<Rule>(x.data(), y.data(), n);
  ad::rule_scale<Rule>(x.data(), y.data(), xdot.data(), ydot.data(), n, false);
  ad::rule_curvature<Rule>(x.data(), y.data(), xdot.data(), ybar.data(), by_x.data(), n);
  ad::rule_output_curvature<Rule>(y.data(), ydot.data(), ybar.data(), by_y.data(), n);
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(by_y[i] - by_x[i]));
    largest = std::max(largest, std::abs(by_x[i]));
  }
  EXPECT_GT(largest, 0.0) << Rule::name;
  EXPECT_LE(worst, 1e-14 * largest) << Rule::name;
}

TEST(FromOutputRules, DerivativeOfFirstWithRespectToYGivesTheCurvature) {
  const std::vector<double> real = uniform<double>(1000, 3.0, 12);
  std::vector<double> positive = real;
  for (double& v : positive) v = std::abs(v) + 0.5;
  expect_output_curvature_is_the_curvature<ad::TanhRule>(real);
  expect_output_curvature_is_the_curvature<ad::SigmoidRule>(real);
  expect_output_curvature_is_the_curvature<ad::ExpRule>(real);
  expect_output_curvature_is_the_curvature<ad::SqrtRule>(positive);
}

TEST(FromOutputRules, PiecewiseLinearRulesAddNoCurvature) {
  const std::vector<double> x{-2.0, -0.0, 0.0, 1.5}, one(4, 1.0);
  std::vector<double> y(4), out{7.0, 7.0, 7.0, 7.0};
  ad::rule_values<ad::ReluRule>(x.data(), y.data(), 4);
  EXPECT_EQ(y, (std::vector<double>{0.0, 0.0, 0.0, 1.5}));
  ad::rule_curvature<ad::ReluRule>(x.data(), y.data(), one.data(), one.data(), out.data(), 4);
  ad::rule_output_curvature<ad::ReluRule>(y.data(), one.data(), one.data(), out.data(), 4);
  EXPECT_EQ(out, (std::vector<double>{7.0, 7.0, 7.0, 7.0}));
  ad::rule_scale<ad::ReluRule>(static_cast<const double*>(nullptr), y.data(), one.data(), out.data(), 4, false);
  EXPECT_EQ(out, (std::vector<double>{0.0, 0.0, 0.0, 1.0}));  // f′ = 0 at 0
}

}  // namespace
