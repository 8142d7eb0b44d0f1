// square: y = x²,  y' = 2x,  y'' = 2.
#pragma once

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct SquareRule {
  static constexpr std::string_view name = "square";
  template <class T>
  static T value(T x) {
    return x * x;
  }
  template <class T>
  static T first(T x, T) {
    return T(2) * x;
  }
  template <class T>
  static T second(T, T) {
    return T(2);
  }
};

template <class T>
Var<T> square(const Var<T>& x) {
  return detail::elementwise<T>(x, SquareRule{});
}

CURV_AD_EXPLICIT(Var<float> square(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> square(const Var<double>&));

}  // namespace curv::ad
