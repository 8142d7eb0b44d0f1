// pow: y = xᵖ for a constant exponent p,  y' = p xᵖ⁻¹,  y'' = p (p − 1) xᵖ⁻².
// As with std::pow, a negative x with a non-integer p gives NaN.
#pragma once

#include <type_traits>

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct PowRule {
  static constexpr std::string_view name = "pow";
  T p;
  Tensor<T> value(const Tensor<T>& x) const { return xt::pow(x, p); }
  Tensor<T> first(const Tensor<T>& x, const Tensor<T>&) const { return p * xt::pow(x, p - T(1)); }
  Tensor<T> second(const Tensor<T>& x, const Tensor<T>&) const {
    return p * (p - T(1)) * xt::pow(x, p - T(2));
  }
};

template <class T>
Var<T> pow(const Var<T>& x, std::type_identity_t<T> p) {
  return detail::elementwise<T, PowRule<T>>(x, PowRule<T>{p});
}

extern template Var<float> pow(const Var<float>&, float);
extern template Var<double> pow(const Var<double>&, double);

}  // namespace curv::ad
