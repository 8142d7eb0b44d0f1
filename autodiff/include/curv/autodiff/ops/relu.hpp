// relu: y = max(x, 0),  y' = 1 for x > 0 and 0 otherwise (0 at x = 0, as in
// PyTorch and JAX),  y'' = 0: relu is piecewise linear, so its adjoint's
// tangent only carries ȳ̇ through. y' reads y alone: y > 0 exactly when x > 0.
// relu(NaN) = NaN, as in PyTorch: a NaN input is not silently hidden (its
// loss is NaN and the non-finite check that follows names it).
#pragma once

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct ReluRule {
  static constexpr std::string_view name = "relu";
  static constexpr bool piecewise_linear = true;
  static constexpr bool from_output = true;
  template <class T>
  static T value(T x) {
    return x > T(0) || x != x ? x : T(0);
  }
  template <class T>
  static T first(T, T y) {
    return T(y > T(0));
  }
};

template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::elementwise<T>(x, ReluRule{});
}

CURV_AD_EXPLICIT(Var<float> relu(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> relu(const Var<double>&));

}  // namespace curv::ad
