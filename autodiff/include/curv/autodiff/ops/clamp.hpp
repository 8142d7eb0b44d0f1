// clamp: y = min(max(x, lo), hi) for constant bounds lo ≤ hi,
//   y' = 1 for lo ≤ x ≤ hi and 0 outside (the bounds included, as in
//   PyTorch),  y'' = 0: piecewise linear, the adjoint's tangent only carries
//   ȳ̇ through. clamp(NaN) = NaN, as in PyTorch.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct ClampRule {
  static constexpr std::string_view name = "clamp";
  static constexpr bool piecewise_linear = true;
  T lo, hi;
  T value(T x) const { return x < lo ? lo : (x > hi ? hi : x); }  // NaN fails both tests: stays NaN
  T first(T x, T) const { return T(x >= lo && x <= hi); }
};

template <class T>
Var<T> clamp(const Var<T>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  if (!(lo <= hi))
    throw std::invalid_argument("curv::ad::clamp: expected lo <= hi, found lo = " + std::to_string(lo) +
                                ", hi = " + std::to_string(hi));
  return detail::elementwise<T>(x, ClampRule<T>{lo, hi});
}

CURV_AD_EXPLICIT(Var<float> clamp(const Var<float>&, float, float));
CURV_AD_EXPLICIT(Var<double> clamp(const Var<double>&, double, double));

}  // namespace curv::ad
