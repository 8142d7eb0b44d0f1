// sigmoid: y = σ(x) = 1 / (1 + e⁻ˣ),  y' = y(1 − y),  y'' = y(1 − y)(1 − 2y).
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct SigmoidRule {
  static constexpr std::string_view name = "sigmoid";
  static constexpr bool from_output = true;
  // e⁻ˣ overflows to ∞ for very negative x, giving 1/∞ = 0: no NaN.
  template <class T>
  static T value(T x) {
    return T(1) / (T(1) + std::exp(-x));
  }
  template <class T>
  static T first(T, T y) {
    return y * (T(1) - y);
  }
  template <class T>
  static T first_dy(T y) {
    return T(1) - T(2) * y;
  }
  template <class T>
  static T second(T x, T y) {
    return first(x, y) * first_dy(y);
  }
};

template <class T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::elementwise<T>(x, SigmoidRule{});
}

CURV_AD_EXPLICIT(Var<float> sigmoid(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> sigmoid(const Var<double>&));

}  // namespace curv::ad
