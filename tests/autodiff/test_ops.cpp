// Every op's gradient, JVP and H·v against finite differences (float64) and
// against float64 (float32), through the one harness of gradcheck_harness.hpp.
#include <gtest/gtest.h>

#include <cmath>

#include <xtensor/xmath.hpp>

#include "gradcheck_harness.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using curv_test::as;
using curv_test::expect_derivatives;
using curv_test::randn;
using curv_test::readout;
namespace ad = curv::ad;

// Random values at least `gap` away from `at`, for ops with a kink or a pole there.
Tensor<double> away_from(double at, double gap, std::vector<std::size_t> shape, unsigned seed) {
  const Tensor<double> r = randn(shape, seed);
  return at + xt::sign(r) * (xt::abs(r) + gap);
}

Tensor<double> positive(std::vector<std::size_t> shape, unsigned seed) {
  return xt::abs(randn(shape, seed)) + 0.5;
}

// --- elementwise ------------------------------------------------------------

TEST(Tanh, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::tanh(x)); }, randn({3, 4}, 1));
}

TEST(Exp, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::exp(x)); }, randn({5}, 2));
}

TEST(Log, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::log(x)); }, positive({5}, 3));
}

TEST(Sigmoid, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::sigmoid(x * 2.0)); }, randn({3, 4}, 15));
}

TEST(Sigmoid, SaturatesWithoutNaNForLargeInputs) {
  ad::Tape<double> tape;
  const Var<double> y = ad::sigmoid(tape.variable(Tensor<double>{-1000.0, 0.0, 1000.0}));
  EXPECT_EQ(y.value()(0), 0.0);
  EXPECT_EQ(y.value()(1), 0.5);
  EXPECT_EQ(y.value()(2), 1.0);
}

TEST(Relu, DerivativesMatchFiniteDifferencesAwayFromTheKink) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::relu(x) * x); },
                     away_from(0.0, 0.1, {3, 4}, 16));
}

TEST(Relu, DerivativeIsZeroAtZero) {
  auto f = []<class T>(const Var<T>& x) { return ad::sum(ad::relu(x)); };
  const auto g = ad::value_and_grad(f, Tensor<double>{-1.0, 0.0, 2.0});
  EXPECT_EQ(g.grad(0), 0.0);
  EXPECT_EQ(g.grad(1), 0.0);
  EXPECT_EQ(g.grad(2), 1.0);
}

TEST(Relu, PropagatesNaNLikePyTorch) {
  ad::Tape<double> tape;
  const Tensor<double> x = {-1.0, std::nan(""), 0.0, 2.0, -0.0};
  const Tensor<double> y = ad::relu(tape.constant(x)).value();
  EXPECT_EQ(y(0), 0.0);
  EXPECT_TRUE(std::isnan(y(1)));
  EXPECT_EQ(y(2), 0.0);
  EXPECT_EQ(y(3), 2.0);
  EXPECT_FALSE(std::signbit(y(4)));  // −0 maps to +0, as before
  ad::Tape<float> t32;
  EXPECT_TRUE(std::isnan(ad::sum(ad::relu(t32.constant(Tensor<float>{1.0f, std::nanf("")}))).value()()));
}

TEST(Square, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::square(x)); }, randn({2, 3}, 17));
}

TEST(Pow, DerivativesMatchFiniteDifferencesForIntegerExponent) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::pow(x, 3.0)); }, randn({4}, 18));
}

TEST(Pow, DerivativesMatchFiniteDifferencesForNegativeFractionalExponent) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::pow(x, -1.5)); }, positive({4}, 19));
}

TEST(Sqrt, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::sqrt(x)); }, positive({2, 3}, 20));
}

TEST(Neg, DerivativesMatchFiniteDifferences) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(-ad::tanh(x) * x); }, randn({5}, 21));
}

// --- binary, with broadcasting and constant operands ------------------------

TEST(Mul, DerivativesMatchFiniteDifferencesWithBroadcastingAndConstants) {
  const Tensor<double> b = randn({1, 4}, 4);
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(x * (x + as<T>(b)) * 2.0); },
                     randn({3, 4}, 5));
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(as<T>(b) * x * ad::sum(x, 0)); },
                     randn({3, 4}, 6));
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(0.5 * x * x); }, randn({3}, 7));
}

TEST(AddSub, DerivativesMatchFiniteDifferencesWithBroadcastingAndConstants) {
  const Tensor<double> c = randn({3, 1}, 8);
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        const Var<T> row = ad::sum(x, 0);  // (4,)
        return readout(ad::tanh(x) - row + 1.0);
      },
      randn({3, 4}, 6));
  expect_derivatives(
      [&]<class T>(const Var<T>& x) { return readout(as<T>(c) - ad::tanh(x) + (2.0 - x) + (x - as<T>(c))); },
      randn({3, 4}, 9));
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(as<T>(c) + x * x + (x - 1.0)); },
                     randn({4}, 10));
}

TEST(Div, DerivativesMatchFiniteDifferencesBetweenVars) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::tanh(x) / (1.0 + x * x)); },
                     randn({3, 4}, 22));
}

TEST(Div, DerivativesMatchFiniteDifferencesWithBroadcastDenominator) {
  // (3, 4) / (4,) and (4,) / (3, 4): the broadcast operand's adjoint is summed back.
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        const Var<T> row = 1.0 + ad::square(ad::sum(x, 0));  // (4,), ≥ 1
        return readout(x / row + row / (2.0 + ad::square(x)));
      },
      randn({3, 4}, 23));
}

TEST(Div, DerivativesMatchFiniteDifferencesWithConstantOnEitherSide) {
  const Tensor<double> c = positive({1, 4}, 24);
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        return readout(x / as<T>(c) + as<T>(c) / (1.0 + ad::square(x)) + 3.0 / (2.0 + x * x) + x / 4.0);
      },
      randn({3, 4}, 25));
}

TEST(Matmul, DerivativesMatchFiniteDifferencesWhenBothOperandsVary) {
  expect_derivatives([]<class T>(const Var<T>& x) { return readout(ad::matmul(ad::tanh(x), x)); },
                     randn({4, 4}, 9));
}

TEST(Matmul, DerivativesMatchFiniteDifferencesForMatrixTimesVector) {
  expect_derivatives(
      []<class T>(const Var<T>& x) { return readout(ad::matmul(x, ad::sum(ad::tanh(x), 0))); },
      randn({4, 4}, 10));
}

TEST(Matmul, DerivativesMatchFiniteDifferencesWithConstantOnEitherSide) {
  const Tensor<double> w = randn({4, 2}, 11);
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(ad::matmul(x, as<T>(w))); },
                     randn({3, 4}, 12));
  expect_derivatives([&]<class T>(const Var<T>& x) { return readout(ad::matmul(as<T>(w), ad::sum(x, 0))); },
                     randn({3, 2}, 13));
}

TEST(Dot, DerivativesMatchFiniteDifferencesBetweenVars) {
  expect_derivatives(
      []<class T>(const Var<T>& x) { return readout(ad::dot(ad::tanh(x), x) * ad::dot(x, x)); },
      randn({6}, 26));
}

TEST(Dot, DerivativesMatchFiniteDifferencesWithConstantOnEitherSide) {
  const Tensor<double> c = randn({6}, 27);
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        return readout(ad::dot(x, as<T>(c)) * ad::dot(as<T>(c), ad::tanh(x)));
      },
      randn({6}, 28));
}

// --- reductions -------------------------------------------------------------

TEST(Sum, DerivativesMatchFiniteDifferencesOverAllAndAlongAxes) {
  expect_derivatives(
      []<class T>(const Var<T>& x) {
        return readout(ad::sum(ad::tanh(x), 0)) + readout(ad::sum(x * x, 2)) + readout(ad::sum(x) * x);
      },
      randn({2, 3, 4}, 29));
}

TEST(Mean, DerivativesMatchFiniteDifferencesOverAllAndAlongAxes) {
  expect_derivatives(
      []<class T>(const Var<T>& x) {
        return readout(ad::mean(ad::tanh(x), 1)) + readout(ad::mean(x * x, 0)) + readout(ad::mean(x) * x);
      },
      randn({3, 4}, 30));
}

TEST(Mean, IsTheSumDividedByTheCount) {
  ad::Tape<double> tape;
  const Var<double> x = tape.variable(Tensor<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 9.0}});
  EXPECT_DOUBLE_EQ(ad::mean(x).value()(), 4.0);
  const Var<double> rows = ad::mean(x, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows.value()(0), 2.0);
  EXPECT_DOUBLE_EQ(rows.value()(1), 6.0);
}

TEST(Logsumexp, DerivativesMatchFiniteDifferencesAlongEachAxis) {
  for (std::size_t axis : {0u, 1u, 2u}) {
    SCOPED_TRACE(::testing::Message() << "axis " << axis);
    expect_derivatives(
        [&]<class T>(const Var<T>& x) { return readout(ad::logsumexp(x * ad::tanh(x), axis)); },
        randn({2, 3, 4}, 31));
  }
}

TEST(Logsumexp, IsStableForLargeInputs) {
  // exp(1000) overflows; the max-shifted form must give 1000 + log 2 and
  // softmax weights ½, ½ (to within an ulp of 1000 ≈ 1e-13 carried by y in
  // s = exp(x − y)).
  auto f = []<class T>(const Var<T>& x) { return ad::sum(ad::logsumexp(x, 0)); };
  const auto g = ad::value_and_grad(f, Tensor<double>{1000.0, 1000.0});
  EXPECT_DOUBLE_EQ(g.value, 1000.0 + std::log(2.0));
  EXPECT_NEAR(g.grad(0), 0.5, 1e-12);
  EXPECT_NEAR(g.grad(1), 0.5, 1e-12);
  const auto h = ad::hvp(f, Tensor<double>{1000.0, 1000.0}, Tensor<double>{1.0, 0.0});
  EXPECT_NEAR(h.hv(0), 0.25, 1e-12);  // (diag(s) − s sᵀ) e₀
  EXPECT_NEAR(h.hv(1), -0.25, 1e-12);
}

TEST(LogSoftmax, DerivativesMatchFiniteDifferencesAlongEachAxis) {
  for (std::size_t axis : {0u, 1u}) {
    SCOPED_TRACE(::testing::Message() << "axis " << axis);
    expect_derivatives([&]<class T>(const Var<T>& x) { return readout(ad::log_softmax(x * 3.0, axis)); },
                       randn({3, 5}, 32));
  }
}

TEST(LogSoftmax, CrossEntropyWithOneHotTargetsMatchesFiniteDifferences) {
  const Tensor<double> onehot = {{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}};
  expect_derivatives(
      [&]<class T>(const Var<T>& logits) {
        return -ad::sum(ad::log_softmax(ad::tanh(logits) * 4.0, 1) * as<T>(onehot)) / 3.0;
      },
      randn({3, 4}, 33));
}

TEST(LogSoftmax, IsStableForLargeInputs) {
  ad::Tape<double> tape;
  const Var<double> y = ad::log_softmax(tape.variable(Tensor<double>{{1000.0, 0.0, -1000.0}}), 1);
  EXPECT_DOUBLE_EQ(y.value()(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(y.value()(0, 1), -1000.0);
  EXPECT_DOUBLE_EQ(y.value()(0, 2), -2000.0);
}

// --- shape ops --------------------------------------------------------------

TEST(Transpose, DerivativesMatchFiniteDifferences) {
  expect_derivatives(
      []<class T>(const Var<T>& x) { return readout(ad::matmul(ad::transpose(x), ad::tanh(x))); },
      randn({3, 2}, 34));
}

TEST(Concat, DerivativesMatchFiniteDifferencesAlongEachAxisWithAConstantPiece) {
  const Tensor<double> c0 = randn({1, 4}, 35), c1 = randn({3, 2}, 36);
  expect_derivatives(
      [&]<class T>(const Var<T>& x) {
        const Var<T> rows = ad::concat({ad::tanh(x), x.tape().constant(as<T>(c0)), x * x}, 0);  // (7, 4)
        const Var<T> cols = ad::concat({x.tape().constant(as<T>(c1)), ad::exp(x)}, 1);         // (3, 6)
        return readout(rows) * readout(cols);
      },
      randn({3, 4}, 37));
}

TEST(Concat, PlacesOperandsInOrder) {
  ad::Tape<double> tape;
  Tensor<double> column = {1.0, 2.0};
  column.reshape({2, 1});
  const Var<double> a = tape.variable(column);
  const Var<double> b = tape.variable(Tensor<double>{{3.0, 4.0}, {5.0, 6.0}});
  const Var<double> y = ad::concat({a, b}, 1);
  const Tensor<double> expected = {{1.0, 3.0, 4.0}, {2.0, 5.0, 6.0}};
  EXPECT_EQ(y.value(), expected);
}

TEST(SliceReshape, DerivativesMatchFiniteDifferencesOfAFlatParameterVector) {
  // A flat vector split into a 2×3 matrix and a 3-vector, as a model's parameters are.
  expect_derivatives(
      []<class T>(const Var<T>& w) {
        const Var<T> m = ad::reshape(ad::slice(w, 0, 6), {2, 3});
        const Var<T> b = ad::slice(w, 6, 9);
        return readout(ad::matmul(m, b) * ad::sum(b));
      },
      randn({9}, 14));
}

}  // namespace
