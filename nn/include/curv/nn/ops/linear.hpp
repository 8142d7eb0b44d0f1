// linear: y = x Wᵀ + b for x (N×in), W (out×in, PyTorch's layout), b (out),
// fused so that every product is one BLAS gemm with a transpose flag.
//   ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ
//   x̄ += ȳ W,             W̄ += ȳᵀ x,             b̄ += Σₙ ȳₙ
//   x̄̇ += ȳ̇ W + ȳ Ẇ,       W̄̇ += ȳ̇ᵀ x + ȳᵀ ẋ,       b̄̇ += Σₙ ȳ̇ₙ
// The bias is optional. Every operand is read, and every adjoint accumulated,
// in place (OpContext's pointer accessors): W and b are typically views of a
// model's flat parameter vector, x a view of a flattened activation, and
// none of them is copied.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

namespace detail {

// b (out) += column sums of y (rows × out).
template <class T>
void add_column_sums(T* b, const T* y, std::size_t rows, std::size_t out) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < out; ++j) b[j] += y[r * out + j];
}

// y (rows × out) += b (out) in every row.
template <class T>
void add_row_to_each(T* y, std::size_t rows, std::size_t out, const T* b) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < out; ++j) y[r * out + j] += b[j];
}

}  // namespace detail

template <class T>
class LinearOp final : public ad::Op<T> {
 public:
  // Inputs: x (n × in), W (out × in) and, with a bias, b (out).
  LinearOp(std::size_t out, std::size_t in) : out_(out), in_(in) {}

  std::string_view name() const override { return "linear"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    const std::size_t n = t.shape(0);
    if (c.has_tangent(0)) gemm_y(n, c.input_tangent_data(0), c.input_data(1), t.data());
    if (c.has_tangent(1)) gemm_y(n, c.input_data(0), c.input_tangent_data(1), t.data());
    if (has_bias(c) && c.has_tangent(2)) detail::add_row_to_each(t.data(), n, out_, c.input_tangent_data(2));
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    const std::size_t n = c.output().shape(0);
    const T* ybar = c.adjoint().data();
    if (c.needs_adjoint(0)) {
      bool fresh = false;
      T* xbar = c.input_adjoint_data_to_write(0, fresh);
      gemm_x(n, ybar, c.input_data(1), xbar, fresh ? T(0) : T(1));
    }
    if (c.needs_adjoint(1)) gemm_w(n, ybar, c.input_data(0), c.input_adjoint_data(1));
    if (has_bias(c) && c.needs_adjoint(2)) detail::add_column_sums(c.input_adjoint_data(2), ybar, n, out_);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const std::size_t n = c.output().shape(0);
    const T* ybar = c.adjoint().data();
    const T* ydot_bar = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    const bool w_dot = c.has_tangent(1);
    if (c.needs_adjoint(0) && (ydot_bar || w_dot)) {
      bool fresh = false;
      T* xbar_dot = c.input_adjoint_tangent_data_to_write(0, fresh);
      T beta = fresh ? T(0) : T(1);
      if (ydot_bar) gemm_x(n, ydot_bar, c.input_data(1), xbar_dot, std::exchange(beta, T(1)));
      if (w_dot) gemm_x(n, ybar, c.input_tangent_data(1), xbar_dot, beta);
    }
    if (c.needs_adjoint(1) && (ydot_bar || c.has_tangent(0))) {
      T* wbar_dot = c.input_adjoint_tangent_data(1);
      if (ydot_bar) gemm_w(n, ydot_bar, c.input_data(0), wbar_dot);
      if (c.has_tangent(0)) gemm_w(n, ybar, c.input_tangent_data(0), wbar_dot);
    }
    if (has_bias(c) && c.needs_adjoint(2) && ydot_bar)
      detail::add_column_sums(c.input_adjoint_tangent_data(2), ydot_bar, n, out_);
  }

 private:
  static bool has_bias(const ad::OpContext<T>& c) { return c.arity() == 3; }

  // y (n × out) += x (n × in) Wᵀ.
  void gemm_y(std::size_t n, const T* x, const T* w, T* y) const {
    blas::gemm(blas::Op::none, blas::Op::transpose, n, out_, in_, T(1), x, in_, w, in_, T(1), y, out_);
  }
  // x̄ (n × in) = ȳ (n × out) W (out × in) + beta x̄.
  void gemm_x(std::size_t n, const T* ybar, const T* w, T* xbar, T beta) const {
    blas::gemm(blas::Op::none, blas::Op::none, n, in_, out_, T(1), ybar, out_, w, in_, beta, xbar, in_);
  }
  // W̄ (out × in) += ȳᵀ (out × n) x (n × in).
  void gemm_w(std::size_t n, const T* ybar, const T* x, T* wbar) const {
    blas::gemm(blas::Op::transpose, blas::Op::none, out_, in_, n, T(1), ybar, out_, x, in_, T(1), wbar, in_);
  }

  std::size_t out_, in_;
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

template <class T>
ad::Var<T> linear_record(std::initializer_list<ad::Var<T>> inputs) {
  const ad::Var<T>& x = inputs.begin()[0];
  const ad::Var<T>& w = inputs.begin()[1];
  const std::size_t n = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  Tensor<T> y = Tensor<T>::from_shape({n, out});
  blas::gemm(blas::Op::none, blas::Op::transpose, n, out, in, T(1), x.data(), in, w.data(), in, T(0), y.data(), out);
  if (inputs.size() == 3) add_row_to_each(y.data(), n, out, inputs.begin()[2].data());
  return x.tape().record(std::make_unique<LinearOp<T>>(out, in), inputs, std::move(y));
}

}  // namespace detail

// y = x Wᵀ + b.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>& b) {
  detail::check_linear(x, w, &b);
  return detail::linear_record({x, w, b});
}

// y = x Wᵀ.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w) {
  detail::check_linear<T>(x, w, nullptr);
  return detail::linear_record({x, w});
}

}  // namespace curv::nn::ops
