// gelu: y = x Φ(x) with Φ the standard normal CDF (the exact, erf form), and
// gelu_tanh, its tanh approximation (Hendrycks & Gimpel 2016; PyTorch's
// approximate='tanh'):
//   erf form:   Φ = ½ (1 + erf(x/√2)),  φ = e^(−x²/2)/√(2π);
//               y' = Φ + x φ,  y'' = φ (2 − x²).
//   tanh form:  u = √(2/π) (x + 0.044715 x³),  t = tanh u,  s = 1 − t²;
//               y = ½ x (1 + t),  y' = ½ (1 + t) + ½ x s u',
//               y'' = s (u' + ½ x (u'' − 2 t u'²)).
#pragma once

#include <cmath>
#include <numbers>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct GeluRule {
  static constexpr std::string_view name = "gelu";
  template <class T>
  static T cdf(T x) {
    return T(0.5) * std::erfc(-x * std::numbers::sqrt2_v<T> / T(2));  // erfc keeps Φ accurate for x ≪ 0
  }
  template <class T>
  static T pdf(T x) {
    return std::exp(T(-0.5) * x * x) * std::numbers::inv_sqrtpi_v<T> / std::numbers::sqrt2_v<T>;
  }
  template <class T>
  static T value(T x) {
    return x * cdf(x);
  }
  template <class T>
  static T first(T x, T) {
    return cdf(x) + x * pdf(x);
  }
  template <class T>
  static T second(T x, T) {
    return pdf(x) * (T(2) - x * x);
  }
};

struct GeluTanhRule {
  static constexpr std::string_view name = "gelu_tanh";
  template <class T>
  static T k() {  // √(2/π)
    return std::numbers::sqrt2_v<T> * std::numbers::inv_sqrtpi_v<T>;
  }
  static constexpr double c = 0.044715;
  template <class T>
  static T value(T x) {
    return T(0.5) * x * (T(1) + std::tanh(k<T>() * (x + T(c) * x * x * x)));
  }
  template <class T>
  static T first(T x, T) {
    const T t = std::tanh(k<T>() * (x + T(c) * x * x * x));
    const T du = k<T>() * (T(1) + T(3 * c) * x * x);
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
  }
  template <class T>
  static T second(T x, T) {
    const T t = std::tanh(k<T>() * (x + T(c) * x * x * x));
    const T du = k<T>() * (T(1) + T(3 * c) * x * x), d2u = k<T>() * T(6 * c) * x;
    return (T(1) - t * t) * (du + T(0.5) * x * (d2u - T(2) * t * du * du));
  }
};

template <class T>
Var<T> gelu(const Var<T>& x) {
  return detail::elementwise<T>(x, GeluRule{});
}

template <class T>
Var<T> gelu_tanh(const Var<T>& x) {
  return detail::elementwise<T>(x, GeluTanhRule{});
}

CURV_AD_EXPLICIT(Var<float> gelu(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> gelu(const Var<double>&));
CURV_AD_EXPLICIT(Var<float> gelu_tanh(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> gelu_tanh(const Var<double>&));

}  // namespace curv::ad
