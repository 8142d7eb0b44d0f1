// log: y = ln x,  y' = 1/x,  y'' = −1/x².
#pragma once

#include <xtensor/xmath.hpp>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct LogRule {
  static constexpr std::string_view name = "log";
  Tensor<T> value(const Tensor<T>& x) const { return xt::log(x); }
  Tensor<T> first(const Tensor<T>& x, const Tensor<T>&) const { return T(1) / x; }
  Tensor<T> second(const Tensor<T>& x, const Tensor<T>&) const { return T(-1) / (x * x); }
};

template <class T>
Var<T> log(const Var<T>& x) {
  return detail::elementwise<T, LogRule<T>>(x);
}

extern template Var<float> log(const Var<float>&);
extern template Var<double> log(const Var<double>&);

}  // namespace curv::ad
