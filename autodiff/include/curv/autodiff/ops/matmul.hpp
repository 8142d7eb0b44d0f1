// matmul: y = A B for A (m×k) and B (k×n) or B (k), through BLAS gemm.
//   ẏ = Ȧ B + A Ḃ;   Ā += ȳ Bᵀ,  B̄ += Aᵀ ȳ;
//   Ā̇ += ȳ̇ Bᵀ + ȳ Ḃᵀ,  B̄̇ += Aᵀ ȳ̇ + Ȧᵀ ȳ.
// Either operand may be a constant (lift it with Tape::constant or pass a
// Tensor); its adjoint products are then skipped.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff/blas.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

// C (+)= op(A) op(B), where a 1-D tensor is a column (len × 1).
template <class T>
void matmul_into(blas::Op op_a, const Tensor<T>& a, blas::Op op_b, const Tensor<T>& b, T beta,
                 Tensor<T>& c) {
  const std::size_t a_rows = a.shape(0), a_cols = a.dimension() == 2 ? a.shape(1) : 1;
  const std::size_t b_rows = b.shape(0), b_cols = b.dimension() == 2 ? b.shape(1) : 1;
  const std::size_t m = op_a == blas::Op::none ? a_rows : a_cols;
  const std::size_t k = op_a == blas::Op::none ? a_cols : a_rows;
  const std::size_t n = op_b == blas::Op::none ? b_cols : b_rows;
  assert(k == (op_b == blas::Op::none ? b_rows : b_cols));
  assert(c.size() == m * n);
  blas::gemm(op_a, op_b, m, n, k, T(1), a.data(), a_cols, b.data(), b_cols, beta, c.data(), n);
}

}  // namespace detail

template <class T>
class MatmulOp final : public Op<T> {
 public:
  std::string_view name() const override { return "matmul"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    using blas::Op::none;
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    if (c.has_tangent(0)) detail::matmul_into(none, c.input_tangent(0), none, c.input(1), T(1), t);
    if (c.has_tangent(1)) detail::matmul_into(none, c.input(0), none, c.input_tangent(1), T(1), t);
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    using blas::Op::none, blas::Op::transpose;
    if (c.needs_adjoint(0))
      detail::matmul_into(none, c.adjoint(), transpose, c.input(1), T(1), c.input_adjoint(0));
    if (c.needs_adjoint(1))
      detail::matmul_into(transpose, c.input(0), none, c.adjoint(), T(1), c.input_adjoint(1));
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    using blas::Op::none, blas::Op::transpose;
    if (c.needs_adjoint(0)) {
      Tensor<T>& abar_dot = c.input_adjoint_tangent(0);
      if (c.has_adjoint_tangent())
        detail::matmul_into(none, c.adjoint_tangent(), transpose, c.input(1), T(1), abar_dot);
      if (c.has_tangent(1))
        detail::matmul_into(none, c.adjoint(), transpose, c.input_tangent(1), T(1), abar_dot);
    }
    if (c.needs_adjoint(1)) {
      Tensor<T>& bbar_dot = c.input_adjoint_tangent(1);
      if (c.has_adjoint_tangent())
        detail::matmul_into(transpose, c.input(0), none, c.adjoint_tangent(), T(1), bbar_dot);
      if (c.has_tangent(0))
        detail::matmul_into(transpose, c.input_tangent(0), none, c.adjoint(), T(1), bbar_dot);
    }
  }
};

template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  const auto& sa = a.shape();
  const auto& sb = b.shape();
  if (sa.size() != 2 || (sb.size() != 1 && sb.size() != 2) || sa[1] != sb[0])
    throw std::invalid_argument("curv::ad::matmul: cannot multiply shapes " + shape_string(sa) +
                                " and " + shape_string(sb) +
                                " (expected (m, k) times (k, n) or (k,))");
  Tensor<T> y = sb.size() == 2 ? Tensor<T>::from_shape({sa[0], sb[1]}) : Tensor<T>::from_shape({sa[0]});
  detail::matmul_into(blas::Op::none, a.value(), blas::Op::none, b.value(), T(0), y);
  return a.tape().record(std::make_unique<MatmulOp<T>>(), {a, b}, std::move(y));
}

template <class T>
Var<T> matmul(const Var<T>& a, const Tensor<T>& b) {
  return matmul(a, a.tape().constant(b));
}

template <class T>
Var<T> matmul(const Tensor<T>& a, const Var<T>& b) {
  return matmul(b.tape().constant(a), b);
}

CURV_AD_EXPLICIT(Var<float> matmul(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> matmul(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
