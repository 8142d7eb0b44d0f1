// The functional entry points of curv::ad, in the manner of JAX:
//   value_and_grad(f, x)  value and ∇f(x)                  one forward + reverse pass
//   jvp(f, x, v)          value and ∇f(x)·v                 one tangent-carrying forward pass
//   hvp(f, x, v)          value, ∇f(x) and ∇²f(x)·v         forward-over-reverse, one sweep
// f is any callable Var<T>(const Var<T>&) returning a scalar (one element).
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

template <class T>
struct ValueAndGrad {
  T value;
  Tensor<T> grad;
};

template <class T>
struct Jvp {
  T value;
  T tangent;  // directional derivative ∇f(x)·v
};

template <class T>
struct Hvp {
  T value;
  Tensor<T> grad;
  Tensor<T> hv;  // ∇²f(x)·v
};

// The one value of y, the result of f in the entry point named fn (e.g.
// "hvp"); throws std::invalid_argument naming curv::ad::<fn> when f returned an
// empty Var or more than one element.
template <class T>
T scalar_result(std::string_view fn, const Var<T>& y) {
  if (!y.valid())
    throw std::invalid_argument("curv::ad::" + std::string(fn) + ": f returned an empty Var");
  if (y.size() != 1)
    throw std::invalid_argument("curv::ad::" + std::string(fn) + ": f must return a scalar, got shape " +
                                shape_string(y.shape()));
  return *y.value().data();
}

namespace detail {

template <class T>
void check_direction(std::string_view fn, const Tensor<T>& x, const Tensor<T>& v) {
  if (x.shape() != v.shape())
    throw std::invalid_argument("curv::ad::" + std::string(fn) + ": direction v has shape " +
                                shape_string(v.shape()) + ", expected x's shape " +
                                shape_string(x.shape()));
}

}  // namespace detail

template <class F, class T>
ValueAndGrad<T> value_and_grad(F&& f, const Tensor<T>& x) {
  Tape<T> tape;
  const Var<T> xv = tape.borrowed_variable(x);  // x outlives the tape: no copy
  const Var<T> y = std::invoke(std::forward<F>(f), xv);
  const T value = scalar_result("value_and_grad", y);
  tape.backward(y);
  return {value, tape.take_adjoint(xv)};
}

template <class F, class T>
Jvp<T> jvp(F&& f, const Tensor<T>& x, const Tensor<T>& v) {
  detail::check_direction("jvp", x, v);
  Tape<T> tape;
  const Var<T> xv = tape.borrowed_variable(x, v);
  const Var<T> y = std::invoke(std::forward<F>(f), xv);
  const T value = scalar_result("jvp", y);
  return {value, y.has_tangent() ? *y.tangent().data() : T(0)};
}

template <class F, class T>
Hvp<T> hvp(F&& f, const Tensor<T>& x, const Tensor<T>& v) {
  detail::check_direction("hvp", x, v);
  Tape<T> tape;
  const Var<T> xv = tape.borrowed_variable(x, v);
  const Var<T> y = std::invoke(std::forward<F>(f), xv);
  const T value = scalar_result("hvp", y);
  tape.backward(y);
  Tensor<T> grad = tape.take_adjoint(xv);
  return {value, std::move(grad), tape.take_adjoint_tangent(xv)};
}

}  // namespace curv::ad
