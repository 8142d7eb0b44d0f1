// Exact second order: H·v of the n-dimensional Rosenbrock function against its
// analytic Hessian, and the Hessian assembled column by column from hvp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <xtensor-blas/xlinalg.hpp>

#include "gradcheck_harness.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using curv_test::as;
using curv_test::expect_close_on_scale;
using curv_test::randn;
namespace ad = curv::ad;

// f(x) = Σᵢ₌₀ⁿ⁻² 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², built from slices of x.
template <class T>
Var<T> rosenbrock(const Var<T>& x) {
  const std::size_t n = x.size();
  const Var<T> head = ad::slice(x, 0, n - 1), tail = ad::slice(x, 1, n);
  return ad::sum(100.0 * ad::square(tail - ad::square(head)) + ad::square(1.0 - head));
}

Tensor<double> rosenbrock_gradient(const Tensor<double>& x) {
  const std::size_t n = x.size();
  Tensor<double> g = xt::zeros<double>({n});
  for (std::size_t i = 0; i + 1 < n; ++i) {
    g(i) += -400 * x(i) * (x(i + 1) - x(i) * x(i)) - 2 * (1 - x(i));
    g(i + 1) += 200 * (x(i + 1) - x(i) * x(i));
  }
  return g;
}

Tensor<double> rosenbrock_hessian(const Tensor<double>& x) {
  const std::size_t n = x.size();
  Tensor<double> h = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i + 1 < n; ++i) {
    h(i, i) += 1200 * x(i) * x(i) - 400 * x(i + 1) + 2;
    h(i + 1, i + 1) += 200;
    h(i, i + 1) = h(i + 1, i) = -400 * x(i);
  }
  return h;
}

class RosenbrockHvp : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RosenbrockHvp, EqualsAnalyticHessianTimesV) {
  const std::size_t n = GetParam();
  const Tensor<double> x = randn({n}, 40), v = randn({n}, 41);
  auto f = []<class T>(const Var<T>& x) { return rosenbrock(x); };
  const auto h = ad::hvp(f, x, v);
  const Tensor<double> expected_hv = xt::linalg::dot(rosenbrock_hessian(x), v);
  // Both sides are a few roundings of O(10³)-sized terms: 1e-13 of the scale.
  expect_close_on_scale("hv", h.hv, expected_hv, 1e-13, 0.0);
  expect_close_on_scale("grad", h.grad, rosenbrock_gradient(x), 1e-13, 0.0);
}

TEST_P(RosenbrockHvp, IsZeroGradientAndPositiveDefiniteAtTheMinimum) {
  // At x = (1, …, 1) the gradient vanishes and vᵀHv > 0 for any v ≠ 0.
  const std::size_t n = GetParam();
  const Tensor<double> ones = xt::ones<double>({n}), v = randn({n}, 42);
  const auto h = ad::hvp([]<class T>(const Var<T>& x) { return rosenbrock(x); }, ones, v);
  EXPECT_EQ(h.value, 0.0);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(h.grad(i), 0.0);
  EXPECT_GT(xt::sum(h.hv * v)(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Dimensions, RosenbrockHvp, ::testing::Values(2, 10),
                         [](const auto& info) {
                           std::string name = "n";  // not "n" + …: GCC 12's -Wrestrict false positive
                           name += std::to_string(info.param);
                           return name;
                         });

// Softmax cross-entropy of a 3-4-3 tanh MLP whose parameters are one flat
// vector, as curv models hold them: every op's second-order rules meet.
template <class T>
Var<T> small_mlp_loss(const Var<T>& w, const Tensor<double>& inputs, const Tensor<double>& onehot) {
  const Var<T> w1 = ad::reshape(ad::slice(w, 0, 12), {3, 4});
  const Var<T> b1 = ad::slice(w, 12, 16);
  const Var<T> w2 = ad::reshape(ad::slice(w, 16, 28), {4, 3});
  const Var<T> b2 = ad::slice(w, 28, 31);
  const Var<T> hidden = ad::tanh(ad::matmul(as<T>(inputs), w1) + b1);
  const Var<T> logits = ad::matmul(hidden, w2) + b2;
  return -ad::mean(ad::sum(ad::log_softmax(logits, 1) * as<T>(onehot), 1));
}

TEST(HessianFromHvp, IsSymmetric) {
  const Tensor<double> inputs = randn({5, 3}, 43);
  const Tensor<double> onehot = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}};
  const Tensor<double> w = randn({31}, 44);
  auto f = [&]<class T>(const Var<T>& w) { return small_mlp_loss(w, inputs, onehot); };
  const std::size_t n = w.size();
  Tensor<double> hessian = xt::zeros<double>({n, n});
  for (std::size_t j = 0; j < n; ++j) {
    Tensor<double> e = xt::zeros<double>({n});
    e(j) = 1;
    const Tensor<double> column = ad::hvp(f, w, e).hv;
    for (std::size_t i = 0; i < n; ++i) hessian(i, j) = column(i);
  }
  double scale = 0, asymmetry = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      scale = std::max(scale, std::abs(hessian(i, j)));
      asymmetry = std::max(asymmetry, std::abs(hessian(i, j) - hessian(j, i)));
    }
  ASSERT_GT(scale, 0.0);
  // Hᵢⱼ and Hⱼᵢ are sums of the same products in different orders.
  EXPECT_LE(asymmetry, 1e-13 * scale);
  // And the assembled Hessian is the Hessian: its action on a direction
  // matches finite differences of the gradient.
  const Tensor<double> v = randn({n}, 45);
  ad::GradcheckOptions o;
  const auto check = ad::check_hvp(f, w, v, o);
  EXPECT_TRUE(check.ok) << check.message;
  expect_close_on_scale("H v", Tensor<double>(xt::linalg::dot(hessian, v)), ad::hvp(f, w, v).hv, 1e-13, 0.0);
}

}  // namespace
