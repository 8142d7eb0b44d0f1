// mean: y = (1/n) Σ x over all n elements (a 0-d result) or over the n
// entries along one axis.  ẏ = (1/n) Σ ẋ;  x̄ += ȳ / n broadcast back over the
// reduced axes;  linear, so x̄̇ += ȳ̇ / n likewise.
#pragma once

#include <memory>
#include <optional>

#include "curv/autodiff/ops/sum.hpp"

namespace curv::ad {

template <class T>
class MeanOp final : public Op<T> {
 public:
  MeanOp(std::optional<std::size_t> axis, T scale) : axis_(axis), scale_(scale) {}

  std::string_view name() const override { return "mean"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    Tensor<T> t = detail::reduce_sum(c.input_tangent(0), axis_);
    t *= scale_;
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    detail::spread_add(c.input_adjoint(0), Tensor<T>(c.adjoint() * scale_), axis_);
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent())
      detail::spread_add(c.input_adjoint_tangent(0), Tensor<T>(c.adjoint_tangent() * scale_), axis_);
  }

 private:
  std::optional<std::size_t> axis_;
  T scale_;  // 1/n
};

// Mean of all elements, a 0-d Var.
template <class T>
Var<T> mean(const Var<T>& x) {
  if (x.size() == 0) throw std::invalid_argument("curv::ad::mean: empty operand of shape " + shape_string(x.shape()));
  const T scale = T(1) / static_cast<T>(x.size());
  Tensor<T> y = detail::reduce_sum(x.value(), std::nullopt);
  y *= scale;
  return x.tape().record(std::make_unique<MeanOp<T>>(std::nullopt, scale), {x}, std::move(y));
}

// Mean along `axis`, which is removed from the shape.
template <class T>
Var<T> mean(const Var<T>& x, std::size_t axis) {
  detail::check_axis("mean", axis, x.dimension(), shape_string(x.shape()));
  if (x.shape()[axis] == 0)
    throw std::invalid_argument("curv::ad::mean: axis " + std::to_string(axis) + " of shape " +
                                shape_string(x.shape()) + " is empty");
  const T scale = T(1) / static_cast<T>(x.shape()[axis]);
  Tensor<T> y = detail::reduce_sum(x.value(), std::optional<std::size_t>(axis));
  y *= scale;
  return x.tape().record(std::make_unique<MeanOp<T>>(axis, scale), {x}, std::move(y));
}

CURV_AD_EXPLICIT(Var<float> mean(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> mean(const Var<double>&));
CURV_AD_EXPLICIT(Var<float> mean(const Var<float>&, std::size_t));
CURV_AD_EXPLICIT(Var<double> mean(const Var<double>&, std::size_t));

}  // namespace curv::ad
