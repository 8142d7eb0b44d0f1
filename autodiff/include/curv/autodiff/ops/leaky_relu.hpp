// leaky_relu: y = x for x > 0, a x otherwise (a = negative_slope),
//   y' = 1 for x > 0 and a otherwise (a at x = 0, as in PyTorch),  y'' = 0:
//   piecewise linear. NaN stays NaN (a · NaN).
#pragma once

#include <type_traits>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct LeakyReluRule {
  static constexpr std::string_view name = "leaky_relu";
  static constexpr bool piecewise_linear = true;
  T negative_slope;
  T value(T x) const { return x > T(0) ? x : negative_slope * x; }
  T first(T x, T) const { return x > T(0) ? T(1) : negative_slope; }
};

template <class T>
Var<T> leaky_relu(const Var<T>& x, std::type_identity_t<T> negative_slope = T(0.01)) {
  return detail::elementwise<T>(x, LeakyReluRule<T>{negative_slope});
}

CURV_AD_EXPLICIT(Var<float> leaky_relu(const Var<float>&, float));
CURV_AD_EXPLICIT(Var<double> leaky_relu(const Var<double>&, double));

}  // namespace curv::ad
