// linear: y = x Wᵀ + b for x (N×in), W (out×in, PyTorch's layout), b (out),
// fused so that every product is one BLAS gemm with a transpose flag.
//   ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ
//   x̄ += ȳ W,             W̄ += ȳᵀ x,             b̄ += Σₙ ȳₙ
//   x̄̇ += ȳ̇ W + ȳ Ẇ,       W̄̇ += ȳ̇ᵀ x + ȳᵀ ẋ,       b̄̇ += Σₙ ȳ̇ₙ
// The bias is optional. W and b are read through Slots (slot.hpp): Vars of
// their own, or ranges of the model's flat parameter vector read in place.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "curv/autodiff.hpp"
#include "curv/nn/ops/slot.hpp"

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
  // W (out × in) and b (out) are read in place from the inputs and offsets
  // their slots name: their own Vars, or ranges of one flat parameter vector.
  LinearOp(std::size_t out, std::size_t in, Slot weight, std::optional<Slot> bias)
      : out_(out), in_(in), w_(weight), b_(bias) {}

  std::string_view name() const override { return "linear"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    const std::size_t n = t.shape(0);
    if (c.has_tangent(0)) gemm_y(n, c.input_tangent(0).data(), w_.value(c), t.data());
    if (c.has_tangent(w_.input)) gemm_y(n, c.input(0).data(), w_.tangent(c), t.data());
    if (b_ && c.has_tangent(b_->input)) detail::add_row_to_each(t.data(), n, out_, b_->tangent(c));
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    const std::size_t n = c.output().shape(0);
    const T* ybar = c.adjoint().data();
    if (c.needs_adjoint(0)) {
      bool fresh = false;
      T* xbar = c.input_adjoint_to_write(0, fresh).data();
      gemm_x(n, ybar, w_.value(c), xbar, fresh ? T(0) : T(1));
    }
    if (c.needs_adjoint(w_.input)) gemm_w(n, ybar, c.input(0).data(), w_.adjoint(c));
    if (b_ && c.needs_adjoint(b_->input)) detail::add_column_sums(b_->adjoint(c), ybar, n, out_);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const std::size_t n = c.output().shape(0);
    const T* ybar = c.adjoint().data();
    const T* ydot_bar = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    const bool w_dot = c.has_tangent(w_.input);
    if (c.needs_adjoint(0) && (ydot_bar || w_dot)) {
      bool fresh = false;
      T* xbar_dot = c.input_adjoint_tangent_to_write(0, fresh).data();
      T beta = fresh ? T(0) : T(1);
      if (ydot_bar) gemm_x(n, ydot_bar, w_.value(c), xbar_dot, std::exchange(beta, T(1)));
      if (w_dot) gemm_x(n, ybar, w_.tangent(c), xbar_dot, beta);
    }
    if (c.needs_adjoint(w_.input) && (ydot_bar || c.has_tangent(0))) {
      T* wbar_dot = w_.adjoint_tangent(c);
      if (ydot_bar) gemm_w(n, ydot_bar, c.input(0).data(), wbar_dot);
      if (c.has_tangent(0)) gemm_w(n, ybar, c.input_tangent(0).data(), wbar_dot);
    }
    if (b_ && c.needs_adjoint(b_->input) && ydot_bar) detail::add_column_sums(b_->adjoint_tangent(c), ydot_bar, n, out_);
  }

 private:
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
  Slot w_;
  std::optional<Slot> b_;
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
ad::Var<T> linear_record(const ad::Var<T>& x, std::initializer_list<ad::Var<T>> inputs, std::size_t out, Slot w,
                         std::optional<Slot> b) {
  const ad::Var<T>* in = inputs.begin();
  const std::size_t n = x.shape()[0], k = n == 0 ? 0 : x.size() / n;  // x is read as (n, k)
  Tensor<T> y = Tensor<T>::from_shape({n, out});
  blas::gemm(blas::Op::none, blas::Op::transpose, n, out, k, T(1), x.value().data(), k, w.value(in[w.input]), k, T(0),
             y.data(), out);
  if (b) add_row_to_each(y.data(), n, out, b->value(in[b->input]));
  return x.tape().record(std::make_unique<LinearOp<T>>(out, k, w, b), inputs, std::move(y));
}

}  // namespace detail

// y = x Wᵀ + b.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>& b) {
  detail::check_linear(x, w, &b);
  return detail::linear_record(x, {x, w, b}, w.shape()[0], Slot{1, 0}, Slot{2, 0});
}

// y = x Wᵀ.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& w) {
  detail::check_linear<T>(x, w, nullptr);
  return detail::linear_record(x, {x, w}, w.shape()[0], Slot{1, 0}, std::nullopt);
}

// y = x Wᵀ (+ b) with W (out × in) stored row-major at flat[weight_offset, …)
// and, when bias_offset is given, b (out) at flat[bias_offset, …): the
// parameters are read in place, so nothing parameter-sized is copied onto the
// tape and the adjoints land directly in flat's adjoint.
template <class T>
ad::Var<T> linear(const ad::Var<T>& x, const ad::Var<T>& flat, std::size_t out, std::size_t weight_offset,
                  std::optional<std::size_t> bias_offset) {
  if (x.dimension() != 2)
    throw std::invalid_argument("curv::nn::ops::linear: input has shape " + shape_string(x.shape()) +
                                ", expected (batch, in)");
  detail::check_flat_range("linear", flat, weight_offset, out * x.shape()[1], "the weight");
  if (bias_offset) detail::check_flat_range("linear", flat, *bias_offset, out, "the bias");
  std::optional<Slot> b;
  if (bias_offset) b = Slot{1, *bias_offset};
  return detail::linear_record(x, {x, flat}, out, Slot{1, weight_offset}, b);
}

// The same with x of any shape (batch, ...) read as (batch, in) in place:
// linear(flatten(x), …) without the flattened copy (nor its adjoint's).
// x̄ comes back in x's shape.
template <class T>
ad::Var<T> linear_flattened(const ad::Var<T>& x, const ad::Var<T>& flat, std::size_t out, std::size_t weight_offset,
                            std::optional<std::size_t> bias_offset) {
  if (x.dimension() < 1 || x.shape()[0] == 0)
    throw std::invalid_argument("curv::nn::ops::linear_flattened: input has shape " + shape_string(x.shape()) +
                                ", expected (batch, ...) with a batch of at least one");
  detail::check_flat_range("linear", flat, weight_offset, out * (x.size() / x.shape()[0]), "the weight");
  if (bias_offset) detail::check_flat_range("linear", flat, *bias_offset, out, "the bias");
  std::optional<Slot> b;
  if (bias_offset) b = Slot{1, *bias_offset};
  return detail::linear_record(x, {x, flat}, out, Slot{1, weight_offset}, b);
}

}  // namespace curv::nn::ops
