// exp: y = eˣ,  y' = y,  y'' = y.
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct ExpRule {
  static constexpr std::string_view name = "exp";
  static constexpr bool from_output = true;
  template <class T>
  static T value(T x) {
    return std::exp(x);
  }
  template <class T>
  static T first(T, T y) {
    return y;
  }
  template <class T>
  static T first_dy(T) {
    return T(1);
  }
  template <class T>
  static T second(T, T y) {
    return y;
  }
};

template <class T>
Var<T> exp(const Var<T>& x) {
  return detail::elementwise<T>(x, ExpRule{});
}

CURV_AD_EXPLICIT(Var<float> exp(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> exp(const Var<double>&));

}  // namespace curv::ad
