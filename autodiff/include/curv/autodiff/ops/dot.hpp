// dot: y = Σᵢ aᵢ bᵢ = ⟨a, b⟩ of two 1-D operands of one length (a 0-d result).
//   ẏ = ⟨ȧ, b⟩ + ⟨a, ḃ⟩;   ā += ȳ b,  b̄ += ȳ a;
//   ā̇ += ȳ̇ b + ȳ ḃ,  b̄̇ += ȳ̇ a + ȳ ȧ.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff/blas.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

// ⟨a, b⟩ through BLAS, as the 1×n by n×1 product.
template <class T>
T inner(const Tensor<T>& a, const Tensor<T>& b) {
  T out = 0;
  blas::gemm(blas::Op::none, blas::Op::none, 1, 1, a.size(), T(1), a.data(), a.size(), b.data(), 1,
             T(0), &out, 1);
  return out;
}

// into += alpha · x
template <class T>
void add_scaled(Tensor<T>& into, T alpha, const Tensor<T>& x) {
  T* out = into.data();
  const T* in = x.data();
  for (std::size_t i = 0, n = into.size(); i < n; ++i) out[i] += alpha * in[i];
}

}  // namespace detail

template <class T>
class DotOp final : public Op<T> {
 public:
  std::string_view name() const override { return "dot"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    T t = 0;
    if (c.has_tangent(0)) t += detail::inner(c.input_tangent(0), c.input(1));
    if (c.has_tangent(1)) t += detail::inner(c.input(0), c.input_tangent(1));
    return Tensor<T>(t);
  }

  void adjoint(OpContext<T>& c) const override {
    const T ybar = c.adjoint()();
    if (c.needs_adjoint(0)) detail::add_scaled(c.input_adjoint(0), ybar, c.input(1));
    if (c.needs_adjoint(1)) detail::add_scaled(c.input_adjoint(1), ybar, c.input(0));
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    const T ybar = c.adjoint()();
    for (std::size_t i : {0u, 1u}) {
      if (!c.needs_adjoint(i)) continue;
      const std::size_t other = 1 - i;
      Tensor<T>& xbar_dot = c.input_adjoint_tangent(i);
      if (c.has_adjoint_tangent()) detail::add_scaled(xbar_dot, c.adjoint_tangent()(), c.input(other));
      if (c.has_tangent(other)) detail::add_scaled(xbar_dot, ybar, c.input_tangent(other));
    }
  }
};

template <class T>
Var<T> dot(const Var<T>& a, const Var<T>& b) {
  if (a.dimension() != 1 || b.dimension() != 1 || a.size() != b.size())
    throw std::invalid_argument("curv::ad::dot: shapes " + shape_string(a.shape()) + " and " +
                                shape_string(b.shape()) + " are not two 1-D operands of one length");
  return a.tape().record(std::make_unique<DotOp<T>>(), {a, b},
                         Tensor<T>(detail::inner(a.value(), b.value())));
}

template <class T>
Var<T> dot(const Var<T>& a, const Tensor<T>& b) {
  return dot(a, a.tape().constant(b));
}

template <class T>
Var<T> dot(const Tensor<T>& a, const Var<T>& b) {
  return dot(b.tape().constant(a), b);
}

CURV_AD_EXPLICIT(Var<float> dot(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> dot(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
