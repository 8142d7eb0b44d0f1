// silu (swish): y = x σ(x),  y' = σ (1 + x (1 − σ)),  y'' = σ (1 − σ) (2 + x (1 − 2σ)).
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct SiluRule {
  static constexpr std::string_view name = "silu";
  // e⁻ˣ overflows to ∞ for very negative x: σ = 0 and y = −0, no NaN.
  template <class T>
  static T sigma(T x) {
    return T(1) / (T(1) + std::exp(-x));
  }
  template <class T>
  static T value(T x) {
    return x * sigma(x);
  }
  template <class T>
  static T first(T x, T) {
    const T s = sigma(x);
    return s * (T(1) + x * (T(1) - s));
  }
  template <class T>
  static T second(T x, T) {
    const T s = sigma(x);
    return s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s));
  }
};

template <class T>
Var<T> silu(const Var<T>& x) {
  return detail::elementwise<T>(x, SiluRule{});
}

CURV_AD_EXPLICIT(Var<float> silu(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> silu(const Var<double>&));

}  // namespace curv::ad
