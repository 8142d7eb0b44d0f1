// logsumexp: y = log Σₖ exp(xₖ) along `axis` (removed from the shape),
// computed stably as m + log Σₖ exp(xₖ − m) with m = maxₖ xₖ.
// With s = softmax(x) = exp(x − y) along the axis:
//   ẏ = Σₖ sₖ ẋₖ;   x̄ += s ȳ;
//   x̄̇ += s ȳ̇ + ṡ ȳ,  where ṡ = s (ẋ − ẏ).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "curv/autodiff/detail/axis.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

// lse[line] = log Σₖ exp(x) along each line of `l`.
template <class T>
void logsumexp_lines(const AxisLayout& l, const T* x, T* lse) {
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      T m = -std::numeric_limits<T>::infinity();
      for (std::size_t k = 0; k < l.n; ++k) m = std::max(m, x[l.at(o, k, i)]);
      T& out = lse[o * l.inner + i];
      if (std::isinf(m)) {  // all −∞ (sum 0), or a +∞ term
        out = m;
        continue;
      }
      T s = 0;
      for (std::size_t k = 0; k < l.n; ++k) s += std::exp(x[l.at(o, k, i)] - m);
      out = m + std::log(s);
    }
}

}  // namespace detail

template <class T>
class LogsumexpOp final : public Op<T> {
 public:
  explicit LogsumexpOp(detail::AxisLayout layout) : l_(layout) {}

  std::string_view name() const override { return "logsumexp"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    const T* x = c.input(0).data();
    const T* y = c.output().data();
    const T* xdot = c.input_tangent(0).data();
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        const std::size_t line = o * l_.inner + i;
        T acc = 0;
        for (std::size_t k = 0; k < l_.n; ++k) {
          const std::size_t j = l_.at(o, k, i);
          acc += std::exp(x[j] - y[line]) * xdot[j];
        }
        t.data()[line] = acc;
      }
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    const T* x = c.input(0).data();
    const T* y = c.output().data();
    const T* ybar = c.adjoint().data();
    T* xbar = c.input_adjoint(0).data();
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        const std::size_t line = o * l_.inner + i;
        for (std::size_t k = 0; k < l_.n; ++k) {
          const std::size_t j = l_.at(o, k, i);
          xbar[j] += std::exp(x[j] - y[line]) * ybar[line];
        }
      }
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    const T* x = c.input(0).data();
    const T* y = c.output().data();
    const T* ybar = c.adjoint().data();
    const T* ybar_dot = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    const T* xdot = c.has_tangent(0) ? c.input_tangent(0).data() : nullptr;
    const T* ydot = c.has_output_tangent() ? c.output_tangent().data() : nullptr;
    T* xbar_dot = c.input_adjoint_tangent(0).data();
    for (std::size_t o = 0; o < l_.outer; ++o)
      for (std::size_t i = 0; i < l_.inner; ++i) {
        const std::size_t line = o * l_.inner + i;
        for (std::size_t k = 0; k < l_.n; ++k) {
          const std::size_t j = l_.at(o, k, i);
          const T s = std::exp(x[j] - y[line]);
          T acc = 0;
          if (ybar_dot) acc += s * ybar_dot[line];
          if (xdot) acc += s * (xdot[j] - ydot[line]) * ybar[line];
          xbar_dot[j] += acc;
        }
      }
  }

 private:
  detail::AxisLayout l_;
};

template <class T>
Var<T> logsumexp(const Var<T>& x, std::size_t axis) {
  const detail::AxisLayout l = detail::axis_layout("logsumexp", x.shape(), axis);
  Tensor<T> y = Tensor<T>::from_shape(detail::reduced_shape(x.shape(), axis));
  detail::logsumexp_lines(l, x.value().data(), y.data());
  return x.tape().record(std::make_unique<LogsumexpOp<T>>(l), {x}, std::move(y));
}

CURV_AD_EXPLICIT(Var<float> logsumexp(const Var<float>&, std::size_t));
CURV_AD_EXPLICIT(Var<double> logsumexp(const Var<double>&, std::size_t));

}  // namespace curv::ad
