// relu: y = max(x, 0),  y' = 1 for x > 0 and 0 otherwise (0 at x = 0, as in
// PyTorch and JAX),  y'' = 0: relu is piecewise linear, so its adjoint's
// tangent only carries ȳ̇ through.
#pragma once

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct ReluRule {
  static constexpr std::string_view name = "relu";
  static constexpr bool piecewise_linear = true;
  Tensor<T> value(const Tensor<T>& x) const { return xt::maximum(x, T(0)); }
  Tensor<T> first(const Tensor<T>& x, const Tensor<T>&) const { return xt::where(x > T(0), T(1), T(0)); }
};

template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::elementwise<T, ReluRule<T>>(x);
}

extern template Var<float> relu(const Var<float>&);
extern template Var<double> relu(const Var<double>&);

}  // namespace curv::ad
