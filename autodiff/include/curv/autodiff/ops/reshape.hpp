// reshape: y = x viewed with another shape of the same size (row-major order).
//   ẏ = reshape(ẋ);  x̄ += reshape(ȳ);  linear, so x̄̇ += reshape(ȳ̇).
#pragma once

#include <memory>
#include <stdexcept>
#include <vector>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

template <class T, class S>
Tensor<T> reshaped(const Tensor<T>& x, const S& shape) {
  Tensor<T> y = x;
  y.reshape(Shape(shape.begin(), shape.end()));
  return y;
}

template <class T>
void add_reshaped(Tensor<T>& into, const Tensor<T>& from) {
  // Same size, row-major: add element by element in storage order.
  T* out = into.data();
  const T* in = from.data();
  for (std::size_t i = 0, n = into.size(); i < n; ++i) out[i] += in[i];
}

}  // namespace detail

template <class T>
class ReshapeOp final : public Op<T> {
 public:
  std::string_view name() const override { return "reshape"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    return detail::reshaped(c.input_tangent(0), c.output().shape());
  }

  void adjoint(OpContext<T>& c) const override { detail::add_reshaped(c.input_adjoint(0), c.adjoint()); }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) detail::add_reshaped(c.input_adjoint_tangent(0), c.adjoint_tangent());
  }
};

template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  std::size_t size = 1;
  for (std::size_t d : shape) size *= d;
  if (size != x.size())
    throw std::invalid_argument("curv::ad::reshape: cannot reshape " + shape_string(x.shape()) +
                                " (" + std::to_string(x.size()) + " elements) to " +
                                shape_string(shape) + " (" + std::to_string(size) + " elements)");
  return x.tape().record(std::make_unique<ReshapeOp<T>>(), {x}, detail::reshaped(x.value(), shape));
}

extern template Var<float> reshape(const Var<float>&, const Shape&);
extern template Var<double> reshape(const Var<double>&, const Shape&);

}  // namespace curv::ad
