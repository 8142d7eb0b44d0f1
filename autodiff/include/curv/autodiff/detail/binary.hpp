// Shared plumbing of broadcasting binary ops: lifting constants onto the tape
// and accumulating an operand's adjoint with broadcast axes summed away.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xnoalias.hpp>

#include "curv/autodiff/detail/broadcast.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad::detail {

template <class V>
struct VarTraits {
  static constexpr bool is_var = false;
};
template <class T>
struct VarTraits<Var<T>> {
  static constexpr bool is_var = true;
  using scalar = T;
};

template <class V>
concept is_var = VarTraits<std::remove_cvref_t<V>>::is_var;
template <class V>
using var_scalar_t = typename VarTraits<std::remove_cvref_t<V>>::scalar;
template <class E>
concept is_tensor_expression = xt::is_xexpression<std::decay_t<E>>::value;

template <class T>
Var<T> lift(const Var<T>& like, Tensor<T> constant) {
  return like.tape().constant(std::move(constant));
}

template <class T>
Var<T> lift(const Var<T>& like, T constant) {
  return like.tape().constant(Tensor<T>(constant));
}

// a += unbroadcast(e): straight into `a` when e already has a's shape,
// otherwise through one evaluated temporary summed into `a`.
template <class T, class E>
void add_unbroadcast(Tensor<T>& a, E&& e) {
  if (std::equal(e.shape().begin(), e.shape().end(), a.shape().begin(), a.shape().end())) {
    xt::noalias(a) += std::forward<E>(e);
  } else {
    add_sum_to_shape(a, Tensor<T>(std::forward<E>(e)));
  }
}

// x̄ᵢ += unbroadcast(e), skipped when input i wants no adjoint.
template <class T, class E>
void accumulate_adjoint(OpContext<T>& c, std::size_t i, E&& e) {
  if (!c.needs_adjoint(i)) return;
  add_unbroadcast(c.input_adjoint(i), std::forward<E>(e));
}

template <class T, class E>
void accumulate_adjoint_tangent(OpContext<T>& c, std::size_t i, E&& e) {
  if (!c.needs_adjoint(i)) return;
  add_unbroadcast(c.input_adjoint_tangent(i), std::forward<E>(e));
}

// An input's tangent spread to the output's shape (numpy broadcasting).
template <class T, class S>
Tensor<T> broadcast_to(const Tensor<T>& t, const S& shape) {
  if (std::equal(t.shape().begin(), t.shape().end(), shape.begin(), shape.end())) return t;
  return xt::broadcast(t, shape);
}

}  // namespace curv::ad::detail

// Declares the operator overloads of a binary op `fn` for Var ∘ Var,
// Var ∘ Tensor, Tensor ∘ Var, Var ∘ scalar and scalar ∘ Var. The tensor side
// takes any xtensor expression (a Tensor, xt::ones, …). Mixed Var/tensor
// overloads take both operands by forwarding reference, constrained: xtensor's
// own operators are unconstrained forwarding templates that would otherwise
// win for an rvalue or non-const operand and wrap the Var as an xscalar; with
// equal signatures, C++20 prefers the more constrained template.
#define CURV_AD_BINARY_OPERATORS(OPERATOR, fn)                                              \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Var<T>& a, const Var<T>& b) {                                       \
    return fn(a, b);                                                                        \
  }                                                                                         \
  template <class V, class E>                                                               \
    requires detail::is_var<V> && detail::is_tensor_expression<E>                           \
  auto OPERATOR(V&& a, E&& b) {                                                             \
    using T = detail::var_scalar_t<V>;                                                      \
    return fn(a, detail::lift(a, Tensor<T>(std::forward<E>(b))));                           \
  }                                                                                         \
  template <class E, class V>                                                               \
    requires detail::is_var<V> && detail::is_tensor_expression<E>                           \
  auto OPERATOR(E&& a, V&& b) {                                                             \
    using T = detail::var_scalar_t<V>;                                                      \
    return fn(detail::lift(b, Tensor<T>(std::forward<E>(a))), b);                           \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(const Var<T>& a, std::type_identity_t<T> b) {                             \
    return fn(a, detail::lift(a, b));                                                       \
  }                                                                                         \
  template <class T>                                                                        \
  Var<T> OPERATOR(std::type_identity_t<T> a, const Var<T>& b) {                             \
    return fn(detail::lift(b, a), b);                                                       \
  }
