// log_softmax: y = x − logsumexp(x) along `axis` (shape kept), computed
// stably through the max-shifted logsumexp. With s = softmax(x) = exp(y):
//   ẏ = ẋ − Σₖ sₖ ẋₖ;
//   x̄ += ȳ − s Σₖ ȳₖ;
//   x̄̇ += ȳ̇ − s Σₖ ȳ̇ₖ − ṡ Σₖ ȳₖ,  where ṡ = s ẏ.
// Softmax cross-entropy is −Σ onehot ⊙ log_softmax(logits): exact in both
// orders of differentiation, with no exp overflow.
#pragma once

#include <cmath>
#include <memory>

#include "curv/autodiff/ops/logsumexp.hpp"

namespace curv::ad {

template <class T>
class LogSoftmaxOp final : public Op<T> {
 public:
  explicit LogSoftmaxOp(detail::AxisLayout layout) : l_(layout) {}

  std::string_view name() const override { return "log_softmax"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    const T* y = c.output().data();
    const T* xdot = c.input_tangent(0).data();
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    T* ydot = t.data();
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        T s_xdot = 0;
        for (std::size_t k = 0; k < l_.n; ++k) s_xdot += std::exp(y[l_.at(o, k, i)]) * xdot[l_.at(o, k, i)];
        for (std::size_t k = 0; k < l_.n; ++k) ydot[l_.at(o, k, i)] = xdot[l_.at(o, k, i)] - s_xdot;
      }
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    const T* y = c.output().data();
    const T* ybar = c.adjoint().data();
    T* xbar = c.input_adjoint(0).data();
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        T sum_ybar = 0;
        for (std::size_t k = 0; k < l_.n; ++k) sum_ybar += ybar[l_.at(o, k, i)];
        for (std::size_t k = 0; k < l_.n; ++k) {
          const std::size_t j = l_.at(o, k, i);
          xbar[j] += ybar[j] - std::exp(y[j]) * sum_ybar;
        }
      }
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    const T* y = c.output().data();
    const T* ybar = c.adjoint().data();
    const T* ybar_dot = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    const T* ydot = c.has_output_tangent() ? c.output_tangent().data() : nullptr;
    T* xbar_dot = c.input_adjoint_tangent(0).data();
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        T sum_ybar = 0, sum_ybar_dot = 0;
        for (std::size_t k = 0; k < l_.n; ++k) {
          sum_ybar += ybar[l_.at(o, k, i)];
          if (ybar_dot) sum_ybar_dot += ybar_dot[l_.at(o, k, i)];
        }
        for (std::size_t k = 0; k < l_.n; ++k) {
          const std::size_t j = l_.at(o, k, i);
          const T s = std::exp(y[j]);
          T acc = 0;
          if (ybar_dot) acc += ybar_dot[j] - s * sum_ybar_dot;
          if (ydot) acc -= s * ydot[j] * sum_ybar;
          xbar_dot[j] += acc;
        }
      }
  }

 private:
  detail::AxisLayout l_;
};

template <class T>
Var<T> log_softmax(const Var<T>& x, std::size_t axis) {
  const detail::AxisLayout l = detail::axis_layout("log_softmax", x.shape(), axis);
  Tensor<T> lse = Tensor<T>::from_shape({l.outer * l.inner});
  detail::logsumexp_lines(l, x.value().data(), lse.data());
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  const T* xv = x.value().data();
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t k = 0; k < l.n; ++k)
      for (std::size_t i = 0; i < l.inner; ++i) {
        const std::size_t j = l.at(o, k, i);
        y.data()[j] = xv[j] - lse.data()[o * l.inner + i];
      }
  return x.tape().record(std::make_unique<LogSoftmaxOp<T>>(l), {x}, std::move(y));
}

CURV_AD_EXPLICIT(Var<float> log_softmax(const Var<float>&, std::size_t));
CURV_AD_EXPLICIT(Var<double> log_softmax(const Var<double>&, std::size_t));

}  // namespace curv::ad
