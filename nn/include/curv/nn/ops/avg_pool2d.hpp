// avg_pool2d: y[n, c, oh, ow] = mean over the k×k window at (oh·s, ow·s) of
// x (N, C, H, W), no padding. Linear, so with A the averaging map:
//   ẏ = A ẋ,   x̄ += Aᵀ ȳ (each window's inputs get ȳ / k²),   x̄̇ += Aᵀ ȳ̇.
#pragma once

#include <memory>

#include "curv/nn/ops/max_pool2d.hpp"

namespace curv::nn::ops {

namespace detail {

template <class T>
void average(const PoolShape& s, const T* x, T* y) {
  const T scale = T(1) / static_cast<T>(s.k * s.k);
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    const T* base = x + plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh)
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        T acc = T(0);
        for (std::size_t i = 0; i < s.k; ++i) {
          const T* row = base + (oh * s.stride + i) * s.w + ow * s.stride;
          for (std::size_t j = 0; j < s.k; ++j) acc += row[j];
        }
        y[o] = acc * scale;
      }
  }
}

template <class T>
void average_adjoint(const PoolShape& s, const T* ybar, T* xbar) {
  const T scale = T(1) / static_cast<T>(s.k * s.k);
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    T* base = xbar + plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh)
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const T g = ybar[o] * scale;
        for (std::size_t i = 0; i < s.k; ++i) {
          T* row = base + (oh * s.stride + i) * s.w + ow * s.stride;
          for (std::size_t j = 0; j < s.k; ++j) row[j] += g;
        }
      }
  }
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
