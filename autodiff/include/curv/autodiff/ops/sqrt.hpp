// sqrt: y = √x,  y' = 1 / (2y),  y'' = −1 / (4y³).
#pragma once

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct SqrtRule {
  static constexpr std::string_view name = "sqrt";
  Tensor<T> value(const Tensor<T>& x) const { return xt::sqrt(x); }
  Tensor<T> first(const Tensor<T>&, const Tensor<T>& y) const { return T(0.5) / y; }
  Tensor<T> second(const Tensor<T>&, const Tensor<T>& y) const { return T(-0.25) / (y * y * y); }
};

template <class T>
Var<T> sqrt(const Var<T>& x) {
  return detail::elementwise<T, SqrtRule<T>>(x);
}

extern template Var<float> sqrt(const Var<float>&);
extern template Var<double> sqrt(const Var<double>&);

}  // namespace curv::ad
