// sub: y = a − b (numpy broadcasting).  ẏ = ȧ − ḃ;  ā += ȳ, b̄ −= ȳ;
// linear, so ā̇ += ȳ̇, b̄̇ −= ȳ̇.
#pragma once

#include "curv/autodiff/detail/binary.hpp"

namespace curv::ad {

template <class T>
class SubOp final : public Op<T> {
 public:
  std::string_view name() const override { return "sub"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    if (!c.has_tangent(1)) return detail::broadcast_to(c.input_tangent(0), c.output().shape());
    if (!c.has_tangent(0)) return Tensor<T>(-detail::broadcast_to(c.input_tangent(1), c.output().shape()));
    return c.input_tangent(0) - c.input_tangent(1);
  }

  void adjoint(OpContext<T>& c) const override {
    detail::accumulate_adjoint(c, 0, c.adjoint());
    detail::accumulate_adjoint(c, 1, -c.adjoint());
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (!c.has_adjoint_tangent()) return;
    detail::accumulate_adjoint_tangent(c, 0, c.adjoint_tangent());
    detail::accumulate_adjoint_tangent(c, 1, -c.adjoint_tangent());
  }
};

template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  detail::broadcast_shape("sub", a.shape(), b.shape());
  return a.tape().record(std::make_unique<SubOp<T>>(), {a, b}, a.value() - b.value());
}

CURV_AD_BINARY_OPERATORS(operator-, sub)

CURV_AD_EXPLICIT(Var<float> sub(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> sub(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
