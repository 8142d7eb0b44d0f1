// where: y = cond ? a : b elementwise, for a constant mask `cond` whose shape
// is that of a and b broadcast together (numpy broadcasting of a and b).
// Linear in (a, b) for a fixed mask:
//   ẏ = cond ? ȧ : ḃ;   ā += cond ? ȳ : 0,  b̄ += cond ? 0 : ȳ;
//   ā̇ += cond ? ȳ̇ : 0,  b̄̇ += cond ? 0 : ȳ̇  (summed to each operand's shape).
// The unselected operand gets an exact zero, even where it is NaN or ∞.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff/detail/binary.hpp"

namespace curv::ad {

using Mask = xt::xarray<bool>;

template <class T>
class WhereOp final : public Op<T> {
 public:
  explicit WhereOp(Mask cond) : cond_(std::move(cond)) {}

  std::string_view name() const override { return "where"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    if (c.has_tangent(0)) xt::noalias(t) += xt::where(cond_, c.input_tangent(0), T(0));
    if (c.has_tangent(1)) xt::noalias(t) += xt::where(cond_, T(0), c.input_tangent(1));
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    detail::accumulate_adjoint(c, 0, xt::where(cond_, c.adjoint(), T(0)));
    detail::accumulate_adjoint(c, 1, xt::where(cond_, T(0), c.adjoint()));
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (!c.has_adjoint_tangent()) return;
    detail::accumulate_adjoint_tangent(c, 0, xt::where(cond_, c.adjoint_tangent(), T(0)));
    detail::accumulate_adjoint_tangent(c, 1, xt::where(cond_, T(0), c.adjoint_tangent()));
  }

 private:
  Mask cond_;
};

template <class T>
Var<T> where(const Mask& cond, const Var<T>& a, const Var<T>& b) {
  const Shape shape = detail::broadcast_shape("where", a.shape(), b.shape());
  if (!std::equal(cond.shape().begin(), cond.shape().end(), shape.begin(), shape.end()))
    throw std::invalid_argument("curv::ad::where: cond has shape " + shape_string(cond.shape()) +
                                ", expected the shape of a and b broadcast together, " + shape_string(shape));
  Tensor<T> y = xt::where(cond, a.value(), b.value());
  return a.tape().record(std::make_unique<WhereOp<T>>(cond), {a, b}, std::move(y));
}

CURV_AD_EXPLICIT(Var<float> where(const Mask&, const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> where(const Mask&, const Var<double>&, const Var<double>&));

}  // namespace curv::ad
