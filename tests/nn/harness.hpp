// Shared helpers of curv::nn's tests: seeded random tensors and the
// finite-difference checks of a module's derivatives with respect to its
// parameters, its input, and both at once (which exercises the cross terms
// of the adjoint-tangent rules).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/nn.hpp"

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

// A fixed nonlinear scalar readout of a layer's output, so that second
// derivatives flow through every layer: Σ c ⊙ tanh(y) + ½ y ⊙ y.
template <class T>
Var<T> readout(const Var<T>& y) {
  std::vector<std::size_t> shape(y.shape().begin(), y.shape().end());
  const Tensor<T> c = cast<T>(randn(shape, 99));
  return ad::sum(ad::tanh(y) * c + y * y * T(0.5));
}

struct Problem {
  Tensor<double> w, x;
};

// f(z) with z = [w; vec(x)]: the module's readout as a function of both.
template <class T>
auto joint_function(const Module<T>& m, const Shape& x_shape) {
  const std::size_t p = m.num_parameters();
  return [&m, x_shape, p](const Var<T>& z) {
    std::size_t xs = 1;
    for (std::size_t d : x_shape) xs *= d;
    const Var<T> w = ad::slice(z, 0, p);
    const Var<T> x = ad::reshape(ad::slice(z, p, p + xs), x_shape);
    return readout(m.forward(w, x));
  };
}

inline Tensor<double> joined(const Problem& pr) {
  Tensor<double> z = Tensor<double>::from_shape({pr.w.size() + pr.x.size()});
  std::copy(pr.w.begin(), pr.w.end(), z.begin());
  std::copy(pr.x.begin(), pr.x.end(), z.begin() + static_cast<std::ptrdiff_t>(pr.w.size()));
  return z;
}

inline void expect_checks(const auto& f, const Tensor<double>& x, std::uint64_t seed, double rtol = 1e-6,
                          double atol = 1e-7) {
  const Shape shape(x.shape().begin(), x.shape().end());
  const Tensor<double> v = randn(shape, seed);
  ad::GradcheckOptions o;
  o.rtol = rtol;
  o.atol = atol;
  const auto g = ad::check_grad(f, x, o);
  EXPECT_TRUE(g.ok) << g.message;
  const auto j = ad::check_jvp(f, x, v, o);
  EXPECT_TRUE(j.ok) << j.message;
  const auto h = ad::check_hvp(f, x, v, o);
  EXPECT_TRUE(h.ok) << h.message;
}

// Gradient, JVP and H·v of the module's readout in float64 against finite
// differences: with respect to w (x fixed), x (w fixed) and both jointly.
inline void expect_module_derivatives(const Module<double>& m, const Problem& pr, std::uint64_t seed = 5) {
  const Shape x_shape(pr.x.shape().begin(), pr.x.shape().end());
  if (m.num_parameters() > 0) {
    SCOPED_TRACE("with respect to the parameters");
    expect_checks([&](const Var<double>& w) { return readout(m.forward(w, w.tape().constant(pr.x))); }, pr.w, seed);
  }
  {
    SCOPED_TRACE("with respect to the input");
    expect_checks([&](const Var<double>& x) { return readout(m.forward(x.tape().constant(pr.w), x)); }, pr.x,
                  seed + 1);
  }
  {
    SCOPED_TRACE("with respect to parameters and input jointly");
    expect_checks(joint_function(m, x_shape), joined(pr), seed + 2);
  }
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

// The float32 module's gradient and H·v (jointly in w and x) against the
// float64 module's, to a relative tolerance honest for single precision.
inline void expect_float32_matches_float64(const Module<float>& m32, const Module<double>& m64, const Problem& pr,
                                           double tolerance = 2e-4) {
  const Shape x_shape(pr.x.shape().begin(), pr.x.shape().end());
  const Tensor<double> z = joined(pr);
  const Tensor<double> v = randn(Shape{z.size()}, 77);
  const auto r64 = ad::hvp(joint_function(m64, x_shape), z, v);
  const auto r32 = ad::hvp(joint_function(m32, x_shape), cast<float>(z), cast<float>(v));
  EXPECT_LT(std::abs(r32.value - r64.value) / std::max(1.0, std::abs(r64.value)), tolerance);
  EXPECT_LT(relative_error(widen(r32.grad), r64.grad), tolerance);
  EXPECT_LT(relative_error(widen(r32.hv), r64.hv), tolerance);
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
