// Every op's gradient, JVP and H·v against finite differences (gradcheck).
#include <gtest/gtest.h>

#include <xtensor/xrandom.hpp>

#include "curv/autodiff.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
namespace ad = curv::ad;

Tensor<double> randn(std::vector<std::size_t> shape, unsigned seed) {
  xt::random::seed(seed);
  return xt::random::randn<double>(shape);
}

// Checks grad, JVP and H·v of the scalar function f at x along a random v.
template <class F>
void expect_derivatives(F f, const Tensor<double>& x, unsigned seed = 7) {
  const Tensor<double> v = randn({x.shape().begin(), x.shape().end()}, seed);
  ad::GradcheckOptions o;
  o.rtol = 1e-6;
  o.atol = 1e-8;
  auto g = ad::check_grad(f, x, o);
  EXPECT_TRUE(g.ok) << g.message;
  auto j = ad::check_jvp(f, x, v, o);
  EXPECT_TRUE(j.ok) << j.message;
  auto h = ad::check_hvp(f, x, v, o);
  EXPECT_TRUE(h.ok) << h.message;
}

// A fixed nonlinear readout so that every op's second derivative is exercised.
Var<double> readout(const Var<double>& y) {
  return ad::sum(ad::tanh(y) * ad::tanh(y) + y);
}

TEST(Ops, Tanh) { expect_derivatives([](const Var<double>& x) { return readout(ad::tanh(x)); }, randn({3, 4}, 1)); }
TEST(Ops, Exp) { expect_derivatives([](const Var<double>& x) { return readout(ad::exp(x)); }, randn({5}, 2)); }
TEST(Ops, Log) {
  const Tensor<double> x = xt::abs(randn({5}, 3)) + 0.5;
  expect_derivatives([](const Var<double>& x) { return readout(ad::log(x)); }, x);
}
TEST(Ops, MulWithBroadcasting) {
  const Tensor<double> b = randn({1, 4}, 4);
  expect_derivatives([&](const Var<double>& x) { return readout(x * (x + b) * 2.0); }, randn({3, 4}, 5));
}
TEST(Ops, AddSubBroadcastRow) {
  expect_derivatives(
      [](const Var<double>& x) {
        const Var<double> row = ad::sum(x, 0);  // (4,)
        return readout(ad::tanh(x) - row + 1.0);
      },
      randn({3, 4}, 6));
}
TEST(Ops, MatmulBothOperandsVary) {
  expect_derivatives([](const Var<double>& x) { return readout(ad::matmul(ad::tanh(x), x)); },
                     randn({4, 4}, 9));
}
TEST(Ops, MatmulMatrixVector) {
  expect_derivatives([](const Var<double>& x) { return readout(ad::matmul(x, ad::sum(ad::tanh(x), 0))); },
                     randn({4, 4}, 10));
}
TEST(Ops, MatmulWithConstant) {
  const Tensor<double> w = randn({4, 2}, 11);
  expect_derivatives([&](const Var<double>& x) { return readout(ad::matmul(x, w)); }, randn({3, 4}, 12));
  expect_derivatives([&](const Var<double>& x) { return readout(ad::matmul(w, ad::sum(x, 0))); },
                     randn({3, 2}, 13));
}

TEST(Ops, SliceAndReshapeOfAFlatVector) {
  // A flat vector split into a 2×3 matrix and a 3-vector, as a model's parameters are.
  expect_derivatives(
      [](const Var<double>& w) {
        const Var<double> m = ad::reshape(ad::slice(w, 0, 6), {2, 3});
        const Var<double> b = ad::slice(w, 6, 9);
        return readout(ad::matmul(m, b) * ad::sum(b));
      },
      randn({9}, 14));
}

}  // namespace
