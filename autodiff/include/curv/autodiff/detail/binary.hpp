// Shared plumbing of broadcasting binary ops: lifting constants onto the tape
// and accumulating an operand's adjoint with broadcast axes summed away.
#pragma once

#include <type_traits>
#include <utility>

#include "curv/autodiff/detail/broadcast.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad::detail {

template <class T>
Var<T> lift(const Var<T>& like, Tensor<T> constant) {
  return like.tape().constant(std::move(constant));
}

template <class T>
Var<T> lift(const Var<T>& like, T constant) {
  return like.tape().constant(Tensor<T>(constant));
}

// x̄ᵢ += unbroadcast(e), skipped when input i wants no adjoint.
template <class T, class E>
void accumulate_adjoint(OpContext<T>& c, std::size_t i, E&& e) {
  if (!c.needs_adjoint(i)) return;
  Tensor<T>& a = c.input_adjoint(i);
  a += sum_to_shape(Tensor<T>(std::forward<E>(e)), a.shape());
}

template <class T, class E>
void accumulate_adjoint_tangent(OpContext<T>& c, std::size_t i, E&& e) {
  if (!c.needs_adjoint(i)) return;
  Tensor<T>& a = c.input_adjoint_tangent(i);
  a += sum_to_shape(Tensor<T>(std::forward<E>(e)), a.shape());
}

}  // namespace curv::ad::detail

// Declares the operator overloads of a binary op `fn` for Var ∘ Var,
// Var ∘ Tensor, Tensor ∘ Var, Var ∘ scalar and scalar ∘ Var.
#define CURV_AD_BINARY_OPERATORS(OPERATOR, fn)                                              \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Var<T>& a, const Var<T>& b) {                                       \
    return fn(a, b);                                                                        \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Var<T>& a, const Tensor<T>& b) {                                    \
    return fn(a, detail::lift(a, b));                                                       \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Tensor<T>& a, const Var<T>& b) {                                    \
    return fn(detail::lift(b, a), b);                                                       \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Var<T>& a, std::type_identity_t<T> b) {                             \
    return fn(a, detail::lift(a, b));                                                       \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(std::type_identity_t<T> a, const Var<T>& b) {                             \
    return fn(detail::lift(b, a), b);                                                       \
  }
