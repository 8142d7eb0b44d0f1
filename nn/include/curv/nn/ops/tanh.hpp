// tanh for layers: y = tanh x,  y' = 1 − y²,  y'' = −2y(1 − y²), one fused
// loop per rule over raw storage:
//   ẏ = (1 − y²) ẋ,   x̄ += (1 − y²) ȳ,   x̄̇ += (1 − y²) ȳ̇ − 2y(1 − y²) ẋ ȳ.
// Same calculus as curv::ad::tanh; it exists because in the article's CNN the
// activation of the convolution's 6.4 M outputs per batch of 256 dominated the
// time of value_and_grad: glibc's tanhf costs ~25 ns, and every xtensor rule
// allocated temporaries. In float the value uses the rational approximation of
// Eigen's generic_fast_tanh_float (odd degree-13 over even degree-6
// polynomial, clamped where tanh rounds to ±1): within 4e-7 relative (about
// 6 ulp, checked by a test), no library call, vectorized by the compiler. In
// double it is an exp / expm1 form with both exponentials as polynomials
// (see tanh_value): within 3 ulp, no library call, vectorized too.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <memory>
#include <type_traits>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

namespace detail {

inline float tanh_value(float x) {
  // Beyond ±7.905… tanh(x) rounds to ±1 in float.
  constexpr float clamp = 7.90531110763549805f;
  x = x < -clamp ? -clamp : (x > clamp ? clamp : x);  // NaN stays NaN
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}

// e^y for y ∈ [−40, 0] with no library call, so that loops over it vectorize:
// y = k·ln 2 + r with k = round(y / ln 2) (by adding 1.5·2⁵², which leaves k in
// the low bits), r = y − k·ln 2 in two parts (fdlibm's split: k·ln2_hi is
// exact), |r| ≤ ½ ln 2, e^r by its Taylor polynomial of degree 13 (truncation
// below 5e-18 relative), and 2^k written into the exponent bits.
inline double exp_nonpositive(double y) {
  constexpr double inv_ln2 = 1.44269504088896338700e+00;
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double shifter = 0x1.8p52;
  const double kd = y * inv_ln2 + shifter;
  const double k = kd - shifter;
  const double r = (y - k * ln2_hi) - k * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // kd's low 52 bits hold 2⁵¹ + k; 2^k has exponent field k + 1023.
  const std::uint64_t low = std::bit_cast<std::uint64_t>(kd) & ((std::uint64_t{1} << 52) - 1);
  const double scale = std::bit_cast<double>((low - (std::uint64_t{1} << 51) + 1023) << 52);
  return p * scale;
}

// e^y − 1 for y ∈ [−1, 0] by its Taylor polynomial of degree 19 (truncation
// below 5e-19 relative), without the cancellation of e^y − 1.
inline double expm1_unit(double y) {
  double p = 1.0 / 121645100408832000.0;  // 1/19!
  p = p * y + 1.0 / 6402373705728000.0;
  p = p * y + 1.0 / 355687428096000.0;
  p = p * y + 1.0 / 20922789888000.0;
  p = p * y + 1.0 / 1307674368000.0;
  p = p * y + 1.0 / 87178291200.0;
  p = p * y + 1.0 / 6227020800.0;
  p = p * y + 1.0 / 479001600.0;
  p = p * y + 1.0 / 39916800.0;
  p = p * y + 1.0 / 3628800.0;
  p = p * y + 1.0 / 362880.0;
  p = p * y + 1.0 / 40320.0;
  p = p * y + 1.0 / 5040.0;
  p = p * y + 1.0 / 720.0;
  p = p * y + 1.0 / 120.0;
  p = p * y + 1.0 / 24.0;
  p = p * y + 1.0 / 6.0;
  p = p * y + 0.5;
  p = p * y + 1.0;
  return p * y;
}

// tanh(|x|) = (1 − e)/(1 + e) with e = exp(−2|x|) where 1 − e cannot cancel
// (|x| ≥ ½), and −m/(2 + m) with m = expm1(−2|x|) below; |x| is clamped at
// 20, beyond which tanh rounds to 1 (NaN stays NaN). Both branches are
// computed and one selected, with the exponentials above instead of libm's:
// no call and no branch, so loops over it vectorize. Within 3 ulp of
// std::tanh (tested).
inline double tanh_value(double x) {
  const double a = std::min(std::fabs(x), 20.0);
  const double e = exp_nonpositive(-2 * a);
  const double large = (1 - e) / (1 + e);
  const double m = expm1_unit(-2 * std::min(a, 0.5));
  const double small = -m / (2 + m);
  return std::copysign(a >= 0.5 ? large : small, x);
}

// The rules' loops over raw storage, compiled in src/tanh.cpp: with
// -fno-trapping-math (without which GCC does not vectorize the clamp), for
// the CPU's vector width where GCC can clone functions by target (x86-64:
// AVX-512, AVX2, baseline), and spread over TBB's threads in fixed chunks
// for large tensors (elementwise, so the values do not depend on threads).
//   tanh_values:    y[i] = tanh_value(x[i])
//   tanh_scale:     out[i] (+)= (1 − y[i]²) d[i]   (assign unless accumulate)
//   tanh_curvature: out[i] −= 2 y[i] (1 − y[i]²) ẋ[i] ȳ[i]
void tanh_values(const float* x, float* y, std::size_t n);
void tanh_values(const double* x, double* y, std::size_t n);
void tanh_scale(const float* y, const float* d, float* out, std::size_t n, bool accumulate);
void tanh_scale(const double* y, const double* d, double* out, std::size_t n, bool accumulate);
void tanh_curvature(const float* y, const float* xdot, const float* ybar, float* out, std::size_t n);
void tanh_curvature(const double* y, const double* xdot, const double* ybar, double* out, std::size_t n);

}  // namespace detail

template <class T>
class TanhOp final : public ad::Op<T> {
 public:
  std::string_view name() const override { return "tanh"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    detail::tanh_scale(c.output().data(), c.input_tangent(0).data(), t.data(), t.size(), false);
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    bool fresh = false;
    T* xbar = c.input_adjoint_to_write(0, fresh).data();
    detail::tanh_scale(c.output().data(), c.adjoint().data(), xbar, c.output().size(), !fresh);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const std::size_t n = c.output().size();
    const T* y = c.output().data();
    T* xbar_dot = c.input_adjoint_tangent(0).data();
    if (c.has_adjoint_tangent()) detail::tanh_scale(y, c.adjoint_tangent().data(), xbar_dot, n, true);
    if (c.has_tangent(0)) detail::tanh_curvature(y, c.input_tangent(0).data(), c.adjoint().data(), xbar_dot, n);
  }
};

template <class T>
ad::Var<T> tanh(const ad::Var<T>& x) {
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  detail::tanh_values(x.value().data(), y.data(), y.size());
  return x.tape().record(std::make_unique<TanhOp<T>>(), {x}, std::move(y));
}

}  // namespace curv::nn::ops
