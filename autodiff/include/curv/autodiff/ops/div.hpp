// div: y = a / b (numpy broadcasting).
//   ẏ = ȧ / b − a ḃ / b²;   ā += ȳ / b,  b̄ += −ȳ a / b²;
//   ā̇ += ȳ̇ / b − ȳ ḃ / b²,
//   b̄̇ += −ȳ̇ a / b² − ȳ ȧ / b² + 2 ȳ a ḃ / b³   (each summed to its operand's shape).
#pragma once

#include "curv/autodiff/detail/binary.hpp"

namespace curv::ad {

template <class T>
class DivOp final : public Op<T> {
 public:
  std::string_view name() const override { return "div"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    const Tensor<T>& b = c.input(1);
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    if (c.has_tangent(0)) xt::noalias(t) += c.input_tangent(0) / b;
    if (c.has_tangent(1)) xt::noalias(t) -= c.output() * c.input_tangent(1) / b;  // y ḃ / b = a ḃ / b²
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    const Tensor<T>& b = c.input(1);
    detail::accumulate_adjoint(c, 0, c.adjoint() / b);
    detail::accumulate_adjoint(c, 1, -c.adjoint() * c.output() / b);
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    const Tensor<T>& a = c.input(0);
    const Tensor<T>& b = c.input(1);
    const Tensor<T>& ybar = c.adjoint();
    if (c.has_adjoint_tangent()) {
      detail::accumulate_adjoint_tangent(c, 0, c.adjoint_tangent() / b);
      detail::accumulate_adjoint_tangent(c, 1, -c.adjoint_tangent() * a / (b * b));
    }
    if (c.has_tangent(1)) {
      const Tensor<T>& bdot = c.input_tangent(1);
      detail::accumulate_adjoint_tangent(c, 0, -ybar * bdot / (b * b));
      detail::accumulate_adjoint_tangent(c, 1, T(2) * ybar * a * bdot / (b * b * b));
    }
    if (c.has_tangent(0))
      detail::accumulate_adjoint_tangent(c, 1, -ybar * c.input_tangent(0) / (b * b));
  }
};

template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  detail::broadcast_shape("div", a.shape(), b.shape());
  return a.tape().record(std::make_unique<DivOp<T>>(), {a, b}, a.value() / b.value());
}

CURV_AD_BINARY_OPERATORS(operator/, div)

CURV_AD_EXPLICIT(Var<float> div(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> div(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
