// tanh: y = tanh x,  y' = 1 − y²,  y'' = −2y(1 − y²).
#pragma once

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct TanhRule {
  static constexpr std::string_view name = "tanh";
  Tensor<T> value(const Tensor<T>& x) const { return xt::tanh(x); }
  Tensor<T> first(const Tensor<T>&, const Tensor<T>& y) const { return T(1) - y * y; }
  Tensor<T> second(const Tensor<T>&, const Tensor<T>& y) const { return T(-2) * y * (T(1) - y * y); }
};

template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::elementwise<T, TanhRule<T>>(x);
}

extern template Var<float> tanh(const Var<float>&);
extern template Var<double> tanh(const Var<double>&);

}  // namespace curv::ad
