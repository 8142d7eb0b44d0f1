// abs: y = |x|,  y' = sign(x) (0 at x = 0, as in PyTorch and JAX),  y'' = 0:
// abs is piecewise linear, so its adjoint's tangent only carries ȳ̇ through.
// y' needs x's sign, which y does not keep. abs(NaN) = NaN, and so is its
// derivative there: a NaN is never turned into a finite gradient.
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct AbsRule {
  static constexpr std::string_view name = "abs";
  static constexpr bool piecewise_linear = true;
  template <class T>
  static T value(T x) {
    return std::abs(x);
  }
  template <class T>
  static T first(T x, T) {
    return x != x ? x : T(x > T(0)) - T(x < T(0));
  }
};

template <class T>
Var<T> abs(const Var<T>& x) {
  return detail::elementwise<T>(x, AbsRule{});
}

CURV_AD_EXPLICIT(Var<float> abs(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> abs(const Var<double>&));

}  // namespace curv::ad
