// abs, clamp, maximum/minimum, where, gather and N-d slice: their gradient,
// JVP and H·v through the test kit (float64 against finite differences,
// float32 against float64), their values against independent references, the
// subgradients chosen at kinks and ties, and NaN propagation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <xtensor/xview.hpp>

#include "gradcheck_harness.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using curv_test::as;
using curv_test::expect_derivatives;
using curv_test::randn;
using curv_test::readout;
namespace ad = curv::ad;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Random values at least `gap` away from `at`: FD steps never cross a kink.
Tensor<double> away_from(double at, double gap, std::vector<std::size_t> shape, unsigned seed) {
  const Tensor<double> r = randn(shape, seed);
  return at + xt::sign(r) * (xt::abs(r) + gap);
}

std::string error_of(auto f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// --- abs ----------------------------------------------------------------------

TEST(Abs, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::abs(x) * x + ad::abs(ad::tanh(x))); },
                     away_from(0, 0.1, {3, 4}, 31));
}

TEST(Abs, HasDerivativeZeroAtZeroAndPropagatesNaN) {
  const auto g = ad::value_and_grad([](const Var<double>& x) { return ad::sum(ad::abs(x)); },
                                    Tensor<double>{0.0, -2.0, 3.0, nan});
  EXPECT_TRUE(std::isnan(g.value));
  EXPECT_EQ(g.grad(0), 0.0);
  EXPECT_EQ(g.grad(1), -1.0);
  EXPECT_EQ(g.grad(2), 1.0);
  EXPECT_TRUE(std::isnan(g.grad(3)));
}

// --- clamp --------------------------------------------------------------------

TEST(Clamp, DerivativesMatchFiniteDifferencesInsideAndOutsideTheBounds) {
  const Tensor<double> x = {{-2.0, -0.7, 0.1, 0.3}, {1.4, 3.0, -1.3, 0.9}};  // 0.1 away from lo = -1, hi = 1 at least
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::clamp(v, T(-1), T(1)) * v); }, x);
}

TEST(Clamp, ValuesMatchStdClampAndTheBoundsPassTheGradient) {
  const Tensor<double> x = {-2.0, -1.0, 0.25, 1.0, 2.0};
  const auto g = ad::value_and_grad(
      [&](const Var<double>& v) {
        const Var<double> y = ad::clamp(v, -1.0, 1.0);
        for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y.value()(i), std::clamp(x(i), -1.0, 1.0));
        return ad::sum(y);
      },
      x);
  EXPECT_EQ(g.grad, (Tensor<double>{0.0, 1.0, 1.0, 1.0, 0.0}));  // bounds inclusive, as in PyTorch
}

TEST(Clamp, PropagatesNaNAndRefusesLoAboveHi) {
  ad::Tape<double> tape;
  const Var<double> x = tape.variable(Tensor<double>{nan, 5.0});
  EXPECT_TRUE(std::isnan(ad::clamp(x, -1.0, 1.0).value()(0)));
  EXPECT_NE(error_of([&] { ad::clamp(x, 1.0, -1.0); }).find("clamp: expected lo <= hi, found lo = 1"),
            std::string::npos);
}

// --- maximum / minimum -----------------------------------------------------------

TEST(Maximum, DerivativesMatchFiniteDifferencesWithTwoVarsAndBroadcastConstants) {
  const Tensor<double> c = randn({1, 4}, 32);
  const Tensor<double> x = c + away_from(0, 0.1, {3, 4}, 33);  // x − c never crosses 0
  expect_derivatives(
      [&]<class T>(const Var<T>& v) {
        const Var<T> k = v.tape().constant(as<T>(c));
        return readout(ad::maximum(v, k) + ad::minimum(k, v * T(2)) + ad::maximum(ad::tanh(v), v * v));
      },
      x);
}

TEST(Maximum, SplitsTheAdjointEvenlyAtATie) {
  // z = [a; b] with a = b: each operand of max(a, b) gets ½ ȳ, so max(x, x) has derivative 1.
  const auto g = ad::value_and_grad(
      [](const Var<double>& z) {
        return ad::sum(ad::maximum(ad::slice(z, 0, 3), ad::slice(z, 3, 6)) * 2.0 +
                       ad::minimum(ad::slice(z, 0, 3), ad::slice(z, 3, 6)));
      },
      Tensor<double>{1.0, 2.0, 3.0, 1.0, 2.0, 3.0});
  EXPECT_EQ(g.grad, (Tensor<double>{1.5, 1.5, 1.5, 1.5, 1.5, 1.5}));
  const auto same = ad::value_and_grad([](const Var<double>& x) { return ad::sum(ad::maximum(x, x)); },
                                       Tensor<double>{-1.0, 4.0});
  EXPECT_EQ(same.grad, (Tensor<double>{1.0, 1.0}));
}

TEST(Maximum, PropagatesNaNFromEitherOperandAndGivesItTheAdjoint) {
  const auto g = ad::value_and_grad(
      [](const Var<double>& z) {
        const Var<double> a = ad::slice(z, 0, 2), b = ad::slice(z, 2, 4);
        const Var<double> hi = ad::maximum(a, b), lo = ad::minimum(a, b);
        for (std::size_t i : {0u, 1u}) {
          EXPECT_TRUE(std::isnan(hi.value()(i))) << i;
          EXPECT_TRUE(std::isnan(lo.value()(i))) << i;
        }
        return ad::sum(ad::where(ad::Mask{false, false}, hi, hi + lo));  // NaN-free readout of the adjoints
      },
      Tensor<double>{nan, 1.0, 1.0, nan});
  EXPECT_EQ(g.grad, (Tensor<double>{2.0, 0.0, 0.0, 2.0}));
}

// --- where --------------------------------------------------------------------

TEST(Where, DerivativesMatchFiniteDifferencesWithABroadcastOperand) {
  const ad::Mask mask = {{true, false, false, true}, {false, true, true, false}, {true, true, false, false}};
  const Tensor<double> c = randn({1, 4}, 34);
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        return readout(ad::where(mask, x * x, ad::tanh(x)) + ad::where(mask, x.tape().constant(as<T>(c)), x));
      },
      randn({3, 4}, 35));
}

TEST(Where, SelectsByTheMaskAndRefusesAMaskOfAnotherShape) {
  ad::Tape<double> tape;
  const Var<double> a = tape.variable(Tensor<double>{1, 2, 3}), b = tape.variable(Tensor<double>{-1, -2, -3});
  EXPECT_EQ(ad::where(ad::Mask{true, false, true}, a, b).value(), (Tensor<double>{1, -2, 3}));
  EXPECT_NE(error_of([&] { ad::where(ad::Mask{true, false}, a, b); })
                .find("where: cond has shape (2,), expected the shape of a and b broadcast together, (3,)"),
            std::string::npos);
}

// --- gather -------------------------------------------------------------------

TEST(Gather, DerivativesMatchFiniteDifferencesAlongEitherAxisWithRepeats) {
  const ad::Index rows = {{2, 0, 0, 1}, {2, 2, 1, 0}};  // along axis 0: picks a row per column, twice for some
  const ad::Index cols = {{3, 3, 0}, {1, 0, 2}, {0, 0, 0}};
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        return readout(ad::gather(ad::tanh(x), 0, rows)) + readout(ad::gather(x * x, 1, cols));
      },
      randn({3, 4}, 36));
}

TEST(Gather, ValuesMatchIndexingByHand) {
  const Tensor<double> x = randn({3, 4}, 37);
  const ad::Index cols = {{3, 1}, {0, 0}, {2, 3}};
  ad::Tape<double> tape;
  const Tensor<double> y = ad::gather(tape.constant(x), 1, cols).value();
  ASSERT_EQ(y.shape(), (curv::Shape{3, 2}));
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j) EXPECT_EQ(y(i, j), x(i, cols(i, j)));
}

TEST(Gather, RefusesAnIndexOutOfRangeNamingTheElement) {
  ad::Tape<double> tape;
  const Var<double> x = tape.variable(randn({2, 3}, 38));
  EXPECT_NE(error_of([&] { ad::gather(x, 1, ad::Index{{0, 1}, {3, 0}}); })
                .find("gather: index element 2 is 3, expected less than 3 (x's size along axis 1)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ad::gather(x, 0, ad::Index{0, 1}); }).find("gather: index has shape (2,)"),
            std::string::npos);
}

// --- N-d slice -------------------------------------------------------------------

TEST(SliceNd, DerivativesMatchFiniteDifferences) {
  expect_derivatives(
      []<class T>(const Var<T>& x) {
        return readout(ad::slice(ad::tanh(x), {1, 0, 2}, {3, 2, 4}) * ad::slice(x, {0, 1, 0}, {2, 3, 2}));
      },
      randn({3, 3, 4}, 39));
}

TEST(SliceNd, ValuesMatchAnXtensorView) {
  const Tensor<double> x = randn({3, 4, 5}, 40);
  ad::Tape<double> tape;
  const Tensor<double> y = ad::slice(tape.constant(x), {1, 0, 2}, {3, 4, 4}).value();
  const Tensor<double> expected = xt::view(x, xt::range(1, 3), xt::range(0, 4), xt::range(2, 4));
  EXPECT_EQ(y, expected);
}

TEST(SliceNd, RefusesRangesThatDoNotFit) {
  ad::Tape<double> tape;
  const Var<double> x = tape.variable(randn({3, 4}, 41));
  EXPECT_NE(error_of([&] { ad::slice(x, curv::Shape{0, 2}, curv::Shape{3, 5}); })
                .find("slice: start (0, 2) and stop (3, 5) do not fit shape (3, 4)"),
            std::string::npos);
}

// --- activations -------------------------------------------------------------

TEST(Activations, SmoothOnesMatchFiniteDifferences) {
  const Tensor<double> x = 2.0 * randn({3, 4}, 42);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::gelu(v)); }, x);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::gelu_tanh(v)); }, x);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::silu(v)); }, x);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::softplus(v, T(1.5), T(20))); }, x);
}

TEST(Activations, PiecewiseOnesMatchFiniteDifferencesAwayFromTheirKinks) {
  const Tensor<double> x = away_from(0, 0.1, {3, 4}, 43);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::leaky_relu(v, T(0.2)) * v); }, x);
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::elu(v, T(0.7))); }, x);
  // softplus above its threshold: βx > 1 for the positive half of x.
  expect_derivatives([]<class T>(const Var<T>& v) { return readout(ad::softplus(v, T(2), T(1)) * v); },
                     Tensor<double>(away_from(0.5, 0.1, {3, 4}, 44)));
}

}  // namespace
