// sqrt: y = √x,  y' = 1 / (2y),  y'' = −1 / (4y³).
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct SqrtRule {
  static constexpr std::string_view name = "sqrt";
  static constexpr bool from_output = true;
  template <class T>
  static T value(T x) {
    return std::sqrt(x);
  }
  template <class T>
  static T first(T, T y) {
    return T(0.5) / y;
  }
  template <class T>
  static T first_dy(T y) {  // d(1 / 2y)/dy = −1 / (2y²)
    return T(-0.5) / (y * y);
  }
  template <class T>
  static T second(T, T y) {
    return T(-0.25) / (y * y * y);
  }
};

template <class T>
Var<T> sqrt(const Var<T>& x) {
  return detail::elementwise<T>(x, SqrtRule{});
}

CURV_AD_EXPLICIT(Var<float> sqrt(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> sqrt(const Var<double>&));

}  // namespace curv::ad
