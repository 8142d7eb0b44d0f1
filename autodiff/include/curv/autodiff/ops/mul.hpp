// mul: y = a ⊙ b (numpy broadcasting).
//   ẏ = ȧ b + a ḃ;   ā += ȳ b,  b̄ += ȳ a;
//   ā̇ += ȳ̇ b + ȳ ḃ,  b̄̇ += ȳ̇ a + ȳ ȧ   (each summed to its operand's shape).
#pragma once

#include "curv/autodiff/detail/binary.hpp"

namespace curv::ad {

template <class T>
class MulOp final : public Op<T> {
 public:
  std::string_view name() const override { return "mul"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    if (!c.has_tangent(1)) return c.input_tangent(0) * c.input(1);
    if (!c.has_tangent(0)) return c.input(0) * c.input_tangent(1);
    return c.input_tangent(0) * c.input(1) + c.input(0) * c.input_tangent(1);
  }

  void adjoint(OpContext<T>& c) const override {
    detail::accumulate_adjoint(c, 0, c.adjoint() * c.input(1));
    detail::accumulate_adjoint(c, 1, c.adjoint() * c.input(0));
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    for (std::size_t i : {0u, 1u}) {
      const std::size_t other = 1 - i;
      if (c.has_adjoint_tangent())
        detail::accumulate_adjoint_tangent(c, i, c.adjoint_tangent() * c.input(other));
      if (c.has_tangent(other))
        detail::accumulate_adjoint_tangent(c, i, c.adjoint() * c.input_tangent(other));
    }
  }
};

template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  detail::broadcast_shape("mul", a.shape(), b.shape());
  return a.tape().record(std::make_unique<MulOp<T>>(), {a, b}, a.value() * b.value());
}

CURV_AD_BINARY_OPERATORS(operator*, mul)

CURV_AD_EXPLICIT(Var<float> mul(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> mul(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
