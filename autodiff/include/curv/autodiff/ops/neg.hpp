// neg: y = −x (unary minus).  ẏ = −ẋ;  x̄ −= ȳ;  linear, so x̄̇ −= ȳ̇.
#pragma once

#include <memory>

#include <xtensor/xnoalias.hpp>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

template <class T>
class NegOp final : public Op<T> {
 public:
  std::string_view name() const override { return "neg"; }

  Tensor<T> tangent(const OpContext<T>& c) const override { return -c.input_tangent(0); }

  void adjoint(OpContext<T>& c) const override { xt::noalias(c.input_adjoint(0)) -= c.adjoint(); }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) xt::noalias(c.input_adjoint_tangent(0)) -= c.adjoint_tangent();
  }
};

template <class T>
Var<T> neg(const Var<T>& x) {
  return x.tape().record(std::make_unique<NegOp<T>>(), {x}, -x.value());
}

template <class T>
Var<T> operator-(const Var<T>& x) {
  return neg(x);
}

CURV_AD_EXPLICIT(Var<float> neg(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> neg(const Var<double>&));

}  // namespace curv::ad
