// sum: y = Σ x over all elements (a 0-d result) or along one axis.
//   ẏ = Σ ẋ;  x̄ += ȳ broadcast back over the summed axes; linear, so x̄̇ += ȳ̇ likewise.
#pragma once

#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

template <class T>
Tensor<T> reduce_sum(const Tensor<T>& x, std::optional<std::size_t> axis) {
  if (axis) return xt::sum(x, {*axis});
  return Tensor<T>(std::accumulate(x.begin(), x.end(), T(0)));
}

// ȳ (reduced shape) spread back over x's shape.
template <class T>
void spread_add(Tensor<T>& into, const Tensor<T>& ybar, std::optional<std::size_t> axis) {
  if (axis)
    into += xt::expand_dims(ybar, *axis);
  else
    into += ybar();
}

inline std::size_t check_axis(std::string_view op, std::size_t axis, std::size_t dimension,
                              const std::string& shape) {
  if (axis >= dimension)
    throw std::invalid_argument("curv::ad::" + std::string(op) + ": axis " + std::to_string(axis) +
                                " out of range for shape " + shape);
  return axis;
}

}  // namespace detail

template <class T>
class SumOp final : public Op<T> {
 public:
  explicit SumOp(std::optional<std::size_t> axis) : axis_(axis) {}

  std::string_view name() const override { return "sum"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    return detail::reduce_sum(c.input_tangent(0), axis_);
  }

  void adjoint(OpContext<T>& c) const override {
    detail::spread_add(c.input_adjoint(0), c.adjoint(), axis_);
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) detail::spread_add(c.input_adjoint_tangent(0), c.adjoint_tangent(), axis_);
  }

 private:
  std::optional<std::size_t> axis_;
};

// Sum of all elements, a 0-d Var.
template <class T>
Var<T> sum(const Var<T>& x) {
  return x.tape().record(std::make_unique<SumOp<T>>(std::nullopt), {x},
                         detail::reduce_sum(x.value(), std::nullopt));
}

// Sum along `axis`, which is removed from the shape.
template <class T>
Var<T> sum(const Var<T>& x, std::size_t axis) {
  detail::check_axis("sum", axis, x.dimension(), shape_string(x.shape()));
  return x.tape().record(std::make_unique<SumOp<T>>(axis), {x}, detail::reduce_sum(x.value(), std::optional<std::size_t>(axis)));
}

CURV_AD_EXPLICIT(Var<float> sum(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> sum(const Var<double>&));
CURV_AD_EXPLICIT(Var<float> sum(const Var<float>&, std::size_t));
CURV_AD_EXPLICIT(Var<double> sum(const Var<double>&, std::size_t));

}  // namespace curv::ad
