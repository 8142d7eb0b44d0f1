// The one harness every op test goes through: an op's gradient, JVP and H·v,
// in float64 against central finite differences, and in float32 against the
// float64 derivatives of the same function.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xrandom.hpp>

#include "curv/autodiff.hpp"

namespace curv_test {

using curv::Tensor;
using curv::ad::Var;

inline Tensor<double> randn(std::vector<std::size_t> shape, unsigned seed) {
  xt::random::seed(seed);
  return xt::random::randn<double>(shape);
}

// A constant of the scalar type the function is being differentiated in.
template <class T>
Tensor<T> as(const Tensor<double>& t) {
  return xt::cast<T>(t);
}

// A fixed nonlinear readout, so that the second-order terms of the op under
// test meet a nonzero ȳ and a nonzero ȳ̇ (a plain sum would have ȳ̇ = 0).
template <class T>
Var<T> readout(const Var<T>& y) {
  return curv::ad::sum(curv::ad::tanh(y) * curv::ad::tanh(y) + y);
}

// |a − b| ≤ rtol · max|b| + atol for every element, max over the tensor so
// that tiny entries produced by cancellation are judged on the tensor's scale.
template <class A, class B>
void expect_close_on_scale(const char* what, const A& a, const B& b, double rtol, double atol) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < b.size(); ++i) scale = std::max(scale, std::abs(double(b.data()[i])));
  for (std::size_t i = 0; i < b.size(); ++i)
    worst = std::max(worst, std::abs(double(a.data()[i]) - double(b.data()[i])));
  EXPECT_LE(worst, rtol * scale + atol) << what << ": largest difference " << worst << " on scale " << scale;
}

// f is a template lambda  []<class T>(const Var<T>& x) -> Var<T>  returning a
// scalar; x and the direction v (random, from `seed`) are float64.
template <class F>
void expect_derivatives(F f, const Tensor<double>& x, unsigned seed = 7) {
  namespace ad = curv::ad;
  const Tensor<double> v = randn({x.shape().begin(), x.shape().end()}, seed);
  {
    SCOPED_TRACE("float64 against central finite differences");
    ad::GradcheckOptions o;
    o.rtol = 1e-6;
    o.atol = 1e-8;
    const auto g = ad::check_grad(f, x, o);
    EXPECT_TRUE(g.ok) << g.message;
    const auto j = ad::check_jvp(f, x, v, o);
    EXPECT_TRUE(j.ok) << j.message;
    const auto h = ad::check_hvp(f, x, v, o);
    EXPECT_TRUE(h.ok) << h.message;
  }
  {
    // Central differences in float32 carry ~ε^(2/3) ≈ 2.5e-5 relative error
    // from truncation and rounding together (more where f is curved), too
    // coarse to tell a slightly wrong rule from noise. Instead, the float32
    // derivatives are compared with the float64 ones — just verified against
    // finite differences — at the same, float-rounded, point. What remains is
    // float32 rounding through a handful of ops: a few ε = 1.2e-7 per op,
    // amplified by cancellation, hence 1e-4 of the result's scale.
    SCOPED_TRACE("float32 against float64");
    const Tensor<float> x32 = xt::cast<float>(x), v32 = xt::cast<float>(v);
    const Tensor<double> x64 = xt::cast<double>(x32), v64 = xt::cast<double>(v32);
    const auto g32 = ad::value_and_grad(f, x32);
    const auto j32 = ad::jvp(f, x32, v32);
    const auto h32 = ad::hvp(f, x32, v32);
    const auto h64 = ad::hvp(f, x64, v64);
    const auto j64 = ad::jvp(f, x64, v64);
    const double rtol = 1e-4, atol = 1e-6;
    expect_close_on_scale("value", Tensor<float>(g32.value), Tensor<double>(h64.value), rtol, atol);
    expect_close_on_scale("grad", g32.grad, h64.grad, rtol, atol);
    expect_close_on_scale("hvp's grad", h32.grad, h64.grad, rtol, atol);
    expect_close_on_scale("jvp", Tensor<float>(j32.tangent), Tensor<double>(j64.tangent), rtol, atol);
    expect_close_on_scale("hv", h32.hv, h64.hv, rtol, atol);
  }
}

}  // namespace curv_test
