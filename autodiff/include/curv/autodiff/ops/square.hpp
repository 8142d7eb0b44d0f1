// square: y = x²,  y' = 2x,  y'' = 2.
#pragma once

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct SquareRule {
  static constexpr std::string_view name = "square";
  Tensor<T> value(const Tensor<T>& x) const { return x * x; }
  Tensor<T> first(const Tensor<T>& x, const Tensor<T>&) const { return T(2) * x; }
  T second(const Tensor<T>&, const Tensor<T>&) const { return T(2); }
};

template <class T>
Var<T> square(const Var<T>& x) {
  return detail::elementwise<T, SquareRule<T>>(x);
}

extern template Var<float> square(const Var<float>&);
extern template Var<double> square(const Var<double>&);

}  // namespace curv::ad
