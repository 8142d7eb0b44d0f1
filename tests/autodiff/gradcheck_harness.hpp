// The one harness every op test goes through: a GoogleTest wrapper over the
// installed test kit's check of an op's gradient, JVP and H·v, in float64
// against central finite differences, and in float32 against float64.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "curv/autodiff.hpp"
#include "curv/autodiff/testing.hpp"

namespace curv_test {

using curv::Tensor;
using curv::ad::Var;

inline Tensor<double> randn(std::vector<std::size_t> shape, unsigned seed) {
  return curv::testing::random_normal(curv::Shape(shape.begin(), shape.end()), seed);
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
// scalar; x and the direction v (random, from `seed`) are float64. The test
// kit (<curv/autodiff/testing.hpp>) checks, with its default tolerances, the
// gradient, JVP and H·v in float64 against central finite differences, and in
// float32 against the float64 derivatives at the same float-rounded point.
template <class F>
void expect_derivatives(F f, const Tensor<double>& x, unsigned seed = 7) {
  const auto r =
      curv::testing::check_function(f, x, curv::testing::random_normal({x.shape().begin(), x.shape().end()}, seed));
  EXPECT_TRUE(r.ok()) << r.message();
}

}  // namespace curv_test
