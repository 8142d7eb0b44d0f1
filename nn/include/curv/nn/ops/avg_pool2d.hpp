// avg_pool2d: y[n, c, oh, ow] = the mean over the kh×kw window at
// (oh·sh − ph, ow·sw − pw) of x (N, C, H, W), PyTorch's AvgPool2d without
// divisor_override; windows and ceil_mode as max_pool2d's. The sum runs over
// the window's elements inside x; it is divided by the window's size in the
// padded input (count_include_pad, the default: padding counts as zeros) or
// by the number of elements summed (count_include_pad = false). Linear, so
// with A the averaging map:
//   ẏ = A ẋ,   x̄ += Aᵀ ȳ (each window's inputs get ȳ / its divisor),   x̄̇ += Aᵀ ȳ̇.
#pragma once

#include <memory>

#include "curv/nn/ops/max_pool2d.hpp"

namespace curv::nn::ops {

namespace detail {

// f(o, rows, columns, 1 / divisor) for every output o, in order.
template <class T, class F>
void for_each_window(const PoolShape& s, F f) {
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane)
    for (std::size_t oh = 0; oh < s.oh; ++oh) {
      const WindowSpan r = window_span(oh, s.sh, s.ph, s.kh, s.h);
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const WindowSpan q = window_span(ow, s.sw, s.pw, s.kw, s.w);
        const std::size_t divisor =
            s.count_include_pad ? r.padded * q.padded : (r.last - r.first) * (q.last - q.first);
        f(o, plane * s.h * s.w, r, q, T(1) / static_cast<T>(divisor));
      }
    }
}

template <class T>
void average(const PoolShape& s, const T* x, T* y) {
  for_each_window<T>(s, [&](std::size_t o, std::size_t base, const WindowSpan& r, const WindowSpan& q, T scale) {
    T acc = T(0);
    for (std::size_t i = r.first; i < r.last; ++i) {
      const T* row = x + base + i * s.w;
      for (std::size_t j = q.first; j < q.last; ++j) acc += row[j];
    }
    y[o] = acc * scale;
  });
}

template <class T>
void average_adjoint(const PoolShape& s, const T* ybar, T* xbar) {
  for_each_window<T>(s, [&](std::size_t o, std::size_t base, const WindowSpan& r, const WindowSpan& q, T scale) {
    const T g = ybar[o] * scale;
    for (std::size_t i = r.first; i < r.last; ++i) {
      T* row = xbar + base + i * s.w;
      for (std::size_t j = q.first; j < q.last; ++j) row[j] += g;
    }
  });
}

}  // namespace detail

template <class T>
class AvgPool2dOp final : public ad::Op<T> {
 public:
  explicit AvgPool2dOp(detail::PoolShape s) : s_(s) {}

  std::string_view name() const override { return "avg_pool2d"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    detail::average(s_, c.input_tangent(0).data(), t.data());
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    detail::average_adjoint(s_, c.adjoint().data(), c.input_adjoint(0).data());
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (c.has_adjoint_tangent())
      detail::average_adjoint(s_, c.adjoint_tangent().data(), c.input_adjoint_tangent(0).data());
  }

 private:
  detail::PoolShape s_;
};

template <class T>
ad::Var<T> avg_pool2d(const ad::Var<T>& x, const Pool2dGeometry& g = {}) {
  const detail::PoolShape s = detail::pool_shape("avg_pool2d", x.shape(), g);
  Tensor<T> y = Tensor<T>::from_shape({s.n, s.c, s.oh, s.ow});
  detail::average(s, x.value().data(), y.data());
  return x.tape().record(std::make_unique<AvgPool2dOp<T>>(s), {x}, std::move(y));
}

}  // namespace curv::nn::ops
