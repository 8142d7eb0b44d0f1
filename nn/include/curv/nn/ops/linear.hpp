// linear: y = x Wᵀ + b for x (N×in), W (out×in, PyTorch's layout), b (out),
// fused so that every product is one BLAS gemm with a transpose flag.
//   ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ
//   x̄ += ȳ W,             W̄ += ȳᵀ x,             b̄ += Σₙ ȳₙ
//   x̄̇ += ȳ̇ W + ȳ Ẇ,       W̄̇ += ȳ̇ᵀ x + ȳᵀ ẋ,       b̄̇ += Σₙ ȳ̇ₙ
// The bias is optional (arity 2 without it).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

namespace detail {

// c (+)= op(a) op(b) for 2-D row-major tensors whose result shape c already has.
template <class T>
void gemm_into(blas::Op op_a, const Tensor<T>& a, blas::Op op_b, const Tensor<T>& b, T beta, Tensor<T>& c) {
  const std::size_t m = op_a == blas::Op::none ? a.shape(0) : a.shape(1);
  const std::size_t k = op_a == blas::Op::none ? a.shape(1) : a.shape(0);
  const std::size_t n = op_b == blas::Op::none ? b.shape(1) : b.shape(0);
  blas::gemm(op_a, op_b, m, n, k, T(1), a.data(), a.shape(1), b.data(), b.shape(1), beta, c.data(), n);
}

// b (out) += column sums of y (N×out).
template <class T>
void add_column_sums(Tensor<T>& b, const Tensor<T>& y) {
  const std::size_t rows = y.shape(0), cols = y.shape(1);
  T* out = b.data();
  const T* in = y.data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) out[j] += in[r * cols + j];
}

template <class T>
void add_row_to_each(Tensor<T>& y, const Tensor<T>& b) {
  const std::size_t rows = y.shape(0), cols = y.shape(1);
  T* out = y.data();
  const T* in = b.data();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) out[r * cols + j] += in[j];
}

}  // namespace detail

template <class T>
class LinearOp final : public ad::Op<T> {
 public:
  std::string_view name() const override { return "linear"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    using blas::Op::none, blas::Op::transpose;
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    if (c.has_tangent(0)) detail::gemm_into(none, c.input_tangent(0), transpose, c.input(1), T(1), t);
    if (c.has_tangent(1)) detail::gemm_into(none, c.input(0), transpose, c.input_tangent(1), T(1), t);
    if (c.arity() == 3 && c.has_tangent(2)) detail::add_row_to_each(t, c.input_tangent(2));
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    using blas::Op::none, blas::Op::transpose;
    if (c.needs_adjoint(0)) detail::gemm_into(none, c.adjoint(), none, c.input(1), T(1), c.input_adjoint(0));
    if (c.needs_adjoint(1)) detail::gemm_into(transpose, c.adjoint(), none, c.input(0), T(1), c.input_adjoint(1));
    if (c.arity() == 3 && c.needs_adjoint(2)) detail::add_column_sums(c.input_adjoint(2), c.adjoint());
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    using blas::Op::none, blas::Op::transpose;
    const bool ydot_bar = c.has_adjoint_tangent();
    if (c.needs_adjoint(0) && (ydot_bar || c.has_tangent(1))) {
      Tensor<T>& xbar_dot = c.input_adjoint_tangent(0);
      if (ydot_bar) detail::gemm_into(none, c.adjoint_tangent(), none, c.input(1), T(1), xbar_dot);
      if (c.has_tangent(1)) detail::gemm_into(none, c.adjoint(), none, c.input_tangent(1), T(1), xbar_dot);
    }
    if (c.needs_adjoint(1) && (ydot_bar || c.has_tangent(0))) {
      Tensor<T>& wbar_dot = c.input_adjoint_tangent(1);
      if (ydot_bar) detail::gemm_into(transpose, c.adjoint_tangent(), none, c.input(0), T(1), wbar_dot);
      if (c.has_tangent(0)) detail::gemm_into(transpose, c.adjoint(), none, c.input_tangent(0), T(1), wbar_dot);
    }
    if (c.arity() == 3 && c.needs_adjoint(2) && ydot_bar)
      detail::add_column_sums(c.input_adjoint_tangent(2), c.adjoint_tangent());
  }
};

namespace detail {

template <class T>
void check_linear(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>* b) {
  const auto& sx = x.shape();
  const auto& sw = w.shape();
  if (sw.size() != 2 || sx.size() != 2 || sx[1] != sw[1])
    throw std::invalid_argument("curv::nn::ops::linear: input has shape " + shape_string(sx) +
                                " and weight " + shape_string(sw) +
                                ", expected (batch, in) and (out, in)");
  if (b && (b->dimension() != 1 || b->size() != sw[0]))
    throw std::invalid_argument("curv::nn::ops::linear: bias has shape " + shape_string(b->shape()) +
                                ", expected (" + std::to_string(sw[0]) + ",)");
}

}  // namespace detail

// y = x Wᵀ + b.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>& b) {
  detail::check_linear(x, w, &b);
  Tensor<T> y = Tensor<T>::from_shape({x.shape()[0], w.shape()[0]});
  detail::gemm_into(blas::Op::none, x.value(), blas::Op::transpose, w.value(), T(0), y);
  detail::add_row_to_each(y, b.value());
  return x.tape().record(std::make_unique<LinearOp<T>>(), {x, w, b}, std::move(y));
}

// y = x Wᵀ.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w) {
  detail::check_linear<T>(x, w, nullptr);
  Tensor<T> y = Tensor<T>::from_shape({x.shape()[0], w.shape()[0]});
  detail::gemm_into(blas::Op::none, x.value(), blas::Op::transpose, w.value(), T(0), y);
  return x.tape().record(std::make_unique<LinearOp<T>>(), {x, w}, std::move(y));
}

}  // namespace curv::nn::ops
