// Shared helpers of curv::nn's tests: seeded random tensors, and GoogleTest
// wrappers over the test kit's checks of a module's derivatives with respect
// to its parameters, its input, and both at once.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/nn.hpp"
#include "curv/testing.hpp"

namespace curv::nn::testing {

using ad::Var;

inline Tensor<double> randn(const Shape& shape, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (double& x : t) x = scale * standard_normal(rng);
  return t;
}

template <class T>
Tensor<T> cast(const Tensor<double>& x) {
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = static_cast<T>(x.data()[i]);
  return y;
}

using curv::testing::readout;

struct Problem {
  Tensor<double> w, x;
};

// A module's parameters near its initialization and a random input of x_shape.
inline Problem problem(const Module<double>& m, const Shape& x_shape, std::uint64_t seed) {
  return {m.initialize(seed) + randn({m.num_parameters()}, seed + 1, 0.1), randn(x_shape, seed + 2)};
}

// z = [w; vec(x)], the point of the joint checks.
inline Tensor<double> joined(const Problem& pr) { return curv::testing::detail::joined(pr.w, pr.x); }

// GoogleTest wrappers over the installed test kit (<curv/testing.hpp>), which
// holds the one implementation of the checks.

// Gradient, JVP and H·v of f at x in float64 against finite differences,
// along a random direction drawn from `seed`.
inline void expect_checks(const auto& f, const Tensor<double>& x, std::uint64_t seed, double rtol = 1e-6,
                          double atol = 1e-7) {
  curv::testing::CheckOptions o;
  o.rtol = rtol;
  o.atol = atol;
  const auto r = curv::testing::check_float64(f, x, curv::testing::random_normal(Shape(x.shape().begin(), x.shape().end()), seed), o);
  EXPECT_TRUE(r.ok()) << r.message();
}

// Gradient, JVP and H·v of the module's readout in float64 against finite
// differences: with respect to w (x fixed), x (w fixed) and both jointly.
inline void expect_module_derivatives(const Module<double>& m, const Problem& pr, std::uint64_t seed = 5) {
  curv::testing::CheckOptions o;
  o.atol = 1e-7;
  o.seed = seed;
  const auto r = curv::testing::check_module(m, pr.w, pr.x, o);
  EXPECT_TRUE(r.ok()) << r.message();
}

// max |a − b| / max(1, max |b|).
inline double relative_error(const Tensor<double>& a, const Tensor<double>& b) {
  double err = 0, scale = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  return err / scale;
}

template <class T>
Tensor<double> widen(const Tensor<T>& x) {
  Tensor<double> y = Tensor<double>::from_shape(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = static_cast<double>(x.data()[i]);
  return y;
}

// The float32 module's value, gradient, JVP and H·v (jointly in w and x)
// against the float64 module's, to `tolerance` of max(1, the result's scale).
inline void expect_float32_matches_float64(const Module<float>& m32, const Module<double>& m64, const Problem& pr,
                                           double tolerance = 2e-4) {
  curv::testing::CheckOptions o;
  o.float32_rtol = tolerance;
  o.float32_atol = tolerance;
  o.seed = 77;
  const auto r = curv::testing::check_module_float32(m32, m64, pr.w, pr.x, o);
  EXPECT_TRUE(r.ok()) << r.message();
}

// Both checks in a forward context (e.g. training, for a Dropout inside):
// float64 against finite differences, float32 against float64.
inline void expect_derivatives_in(const ForwardContext& context, const Module<double>& m64, const Module<float>& m32,
                                  const Problem& pr) {
  curv::testing::CheckOptions o;
  o.atol = 1e-7;
  const auto r = curv::testing::check_module(m64, pr.w, pr.x, context, o);
  EXPECT_TRUE(r.ok()) << r.message();
  o.float32_rtol = o.float32_atol = 2e-4;
  const auto r32 = curv::testing::check_module_float32(m32, m64, pr.w, pr.x, context, o);
  EXPECT_TRUE(r32.ok()) << r32.message();
}

// The message of the std::invalid_argument that f throws ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace curv::nn::testing
