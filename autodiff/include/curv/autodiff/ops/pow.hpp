// pow: y = xᵖ for a constant exponent p,  y' = p xᵖ⁻¹,  y'' = p (p − 1) xᵖ⁻².
// As with std::pow, a negative x with a non-integer p gives NaN.
#pragma once

#include <cmath>
#include <type_traits>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct PowRule {
  static constexpr std::string_view name = "pow";
  T p;
  T value(T x) const { return std::pow(x, p); }
  T first(T x, T) const { return p * std::pow(x, p - T(1)); }
  T second(T x, T) const { return p * (p - T(1)) * std::pow(x, p - T(2)); }
};

template <class T>
Var<T> pow(const Var<T>& x, std::type_identity_t<T> p) {
  return detail::elementwise<T>(x, PowRule<T>{p});
}

CURV_AD_EXPLICIT(Var<float> pow(const Var<float>&, float));
CURV_AD_EXPLICIT(Var<double> pow(const Var<double>&, double));

}  // namespace curv::ad
