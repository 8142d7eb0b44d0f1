// sigmoid: y = σ(x) = 1 / (1 + e⁻ˣ),  y' = y(1 − y),  y'' = y(1 − y)(1 − 2y).
#pragma once

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct SigmoidRule {
  static constexpr std::string_view name = "sigmoid";
  // e⁻ˣ overflows to ∞ for very negative x, giving 1/∞ = 0: no NaN.
  Tensor<T> value(const Tensor<T>& x) const { return T(1) / (T(1) + xt::exp(-x)); }
  Tensor<T> first(const Tensor<T>&, const Tensor<T>& y) const { return y * (T(1) - y); }
  Tensor<T> second(const Tensor<T>&, const Tensor<T>& y) const { return y * (T(1) - y) * (T(1) - T(2) * y); }
};

template <class T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::elementwise<T, SigmoidRule<T>>(x);
}

extern template Var<float> sigmoid(const Var<float>&);
extern template Var<double> sigmoid(const Var<double>&);

}  // namespace curv::ad
