// maximum / minimum: y = max(a, b) / min(a, b) elementwise (numpy
// broadcasting). With m the weight of a (1 where a is chosen, 0 where b is,
// ½ at a tie a = b: the subgradient that splits ȳ evenly, as PyTorch and JAX
// do, so maximum(x, x) has derivative 1):
//   ẏ = m ȧ + (1 − m) ḃ;   ā += m ȳ,  b̄ += (1 − m) ȳ;
//   piecewise linear: ā̇ += m ȳ̇,  b̄̇ += (1 − m) ȳ̇ (summed to each operand's shape).
// NaN propagates, as in IEEE maximum and PyTorch: a NaN operand is chosen
// (m = 1 where a is NaN, m = 0 where only b is) and receives the adjoint.
#pragma once

#include <memory>

#include <xtensor/xbroadcast.hpp>

#include "curv/autodiff/detail/binary.hpp"

namespace curv::ad {

namespace detail {

// m, the weight of a in the output's shape.
template <bool Max, class T>
Tensor<T> weight_of_first(const Tensor<T>& a, const Tensor<T>& b, const Shape& shape) {
  const Tensor<T> ab = broadcast_to(a, shape), bb = broadcast_to(b, shape);
  Tensor<T> m = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < m.size(); ++i) {
    const T x = ab.data()[i], y = bb.data()[i];
    const bool a_wins = Max ? x > y : x < y;
    m.data()[i] = a_wins || x != x ? T(1) : (x == y ? T(0.5) : T(0));
  }
  return m;
}

}  // namespace detail

template <class T, bool Max>
class ExtremumOp final : public Op<T> {
 public:
  std::string_view name() const override { return Max ? "maximum" : "minimum"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    const Tensor<T> m = weight(c);
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    if (c.has_tangent(0)) xt::noalias(t) += m * c.input_tangent(0);
    if (c.has_tangent(1)) xt::noalias(t) += (T(1) - m) * c.input_tangent(1);
    return t;
  }

  void adjoint(OpContext<T>& c) const override { spread(c, c.adjoint()); }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) spread(c, c.adjoint_tangent(), true);
  }

 private:
  static Tensor<T> weight(const OpContext<T>& c) {
    return detail::weight_of_first<Max>(c.input(0), c.input(1), Shape(c.output().shape().begin(), c.output().shape().end()));
  }

  // x̄ (or x̄̇, when `tangents`) of both operands from d = ȳ (or ȳ̇).
  static void spread(OpContext<T>& c, const Tensor<T>& d, bool tangents = false) {
    if (!c.needs_adjoint(0) && !c.needs_adjoint(1)) return;
    const Tensor<T> m = weight(c);
    if (tangents) {
      detail::accumulate_adjoint_tangent(c, 0, m * d);
      detail::accumulate_adjoint_tangent(c, 1, (T(1) - m) * d);
    } else {
      detail::accumulate_adjoint(c, 0, m * d);
      detail::accumulate_adjoint(c, 1, (T(1) - m) * d);
    }
  }
};

template <class T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  const Shape shape = detail::broadcast_shape("maximum", a.shape(), b.shape());
  Tensor<T> y = xt::where(detail::weight_of_first<true>(a.value(), b.value(), shape) > T(0), a.value(), b.value());
  return a.tape().record(std::make_unique<ExtremumOp<T, true>>(), {a, b}, std::move(y));
}

template <class T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  const Shape shape = detail::broadcast_shape("minimum", a.shape(), b.shape());
  Tensor<T> y = xt::where(detail::weight_of_first<false>(a.value(), b.value(), shape) > T(0), a.value(), b.value());
  return a.tape().record(std::make_unique<ExtremumOp<T, false>>(), {a, b}, std::move(y));
}

// With a constant: maximum(x, 0.0), minimum(1.0, x), ….
template <class T>
Var<T> maximum(const Var<T>& a, std::type_identity_t<T> b) {
  return maximum(a, detail::lift(a, b));
}
template <class T>
Var<T> maximum(std::type_identity_t<T> a, const Var<T>& b) {
  return maximum(detail::lift(b, a), b);
}
template <class T>
Var<T> minimum(const Var<T>& a, std::type_identity_t<T> b) {
  return minimum(a, detail::lift(a, b));
}
template <class T>
Var<T> minimum(std::type_identity_t<T> a, const Var<T>& b) {
  return minimum(detail::lift(b, a), b);
}

CURV_AD_EXPLICIT(Var<float> maximum(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> maximum(const Var<double>&, const Var<double>&));
CURV_AD_EXPLICIT(Var<float> minimum(const Var<float>&, const Var<float>&));
CURV_AD_EXPLICIT(Var<double> minimum(const Var<double>&, const Var<double>&));

}  // namespace curv::ad
