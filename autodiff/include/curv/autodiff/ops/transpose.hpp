// transpose: y = xᵀ of a 2-D x.  ẏ = ẋᵀ;  x̄ += ȳᵀ;  linear, so x̄̇ += ȳ̇ᵀ.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

template <class T>
Tensor<T> transposed(const Tensor<T>& x) {
  const std::size_t rows = x.shape(0), cols = x.shape(1);
  Tensor<T> y = Tensor<T>::from_shape({cols, rows});
  const T* in = x.data();
  T* out = y.data();
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  return y;
}

// into (rows × cols) += fromᵀ, from being cols × rows.
template <class T>
void add_transposed(Tensor<T>& into, const Tensor<T>& from) {
  const std::size_t rows = into.shape(0), cols = into.shape(1);
  T* out = into.data();
  const T* in = from.data();
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] += in[j * rows + i];
}

}  // namespace detail

template <class T>
class TransposeOp final : public Op<T> {
 public:
  std::string_view name() const override { return "transpose"; }

  Tensor<T> tangent(const OpContext<T>& c) const override { return detail::transposed(c.input_tangent(0)); }

  void adjoint(OpContext<T>& c) const override { detail::add_transposed(c.input_adjoint(0), c.adjoint()); }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) detail::add_transposed(c.input_adjoint_tangent(0), c.adjoint_tangent());
  }
};

template <class T>
Var<T> transpose(const Var<T>& x) {
  if (x.dimension() != 2)
    throw std::invalid_argument("curv::ad::transpose: expected a 2-D Var, got shape " +
                                shape_string(x.shape()));
  return x.tape().record(std::make_unique<TransposeOp<T>>(), {x}, detail::transposed(x.value()));
}

CURV_AD_EXPLICIT(Var<float> transpose(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> transpose(const Var<double>&));

}  // namespace curv::ad
