// elu: y = x for x > 0, α (eˣ − 1) otherwise,
//   y' = 1 for x > 0 and α eˣ otherwise,  y'' = 0 for x > 0 and α eˣ otherwise
//   (the left-hand values at x = 0, as in PyTorch). NaN stays NaN.
#pragma once

#include <cmath>
#include <type_traits>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct EluRule {
  static constexpr std::string_view name = "elu";
  T alpha;
  T value(T x) const { return x > T(0) ? x : alpha * std::expm1(x); }
  T first(T x, T) const { return x > T(0) ? T(1) : alpha * std::exp(x); }
  T second(T x, T) const { return x > T(0) ? T(0) : alpha * std::exp(x); }
};

template <class T>
Var<T> elu(const Var<T>& x, std::type_identity_t<T> alpha = T(1)) {
  return detail::elementwise<T>(x, EluRule<T>{alpha});
}

CURV_AD_EXPLICIT(Var<float> elu(const Var<float>&, float));
CURV_AD_EXPLICIT(Var<double> elu(const Var<double>&, double));

}  // namespace curv::ad
