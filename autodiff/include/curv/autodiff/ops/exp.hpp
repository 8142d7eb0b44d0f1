// exp: y = eˣ,  y' = y,  y'' = y.
#pragma once

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct ExpRule {
  static constexpr std::string_view name = "exp";
  Tensor<T> value(const Tensor<T>& x) const { return xt::exp(x); }
  Tensor<T> first(const Tensor<T>&, const Tensor<T>& y) const { return y; }
  Tensor<T> second(const Tensor<T>&, const Tensor<T>& y) const { return y; }
};

template <class T>
Var<T> exp(const Var<T>& x) {
  return detail::elementwise<T, ExpRule<T>>(x);
}

extern template Var<float> exp(const Var<float>&);
extern template Var<double> exp(const Var<double>&);

}  // namespace curv::ad
