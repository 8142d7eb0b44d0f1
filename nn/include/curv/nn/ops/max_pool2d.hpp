// max_pool2d: y[n, c, oh, ow] = max over the k×k window at (oh·s, ow·s) of
// x (N, C, H, W), no padding; OH = (H − k) / s + 1.
//
// The op is piecewise linear: at recording it saves, per output, the flat
// index of the chosen input (ties → the first maximum in row-major window
// order), and every rule reuses it:
//   ẏ = ẋ[argmax],   x̄[argmax] += ȳ,   x̄̇[argmax] += ȳ̇   (no second-order term).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

struct Pool2dGeometry {
  std::size_t kernel = 2;
  std::size_t stride = 0;  // 0: equal to the kernel (non-overlapping windows)
};

namespace detail {

struct PoolShape {
  std::size_t n, c, h, w, k, stride, oh, ow;
  std::size_t out_size() const { return n * c * oh * ow; }
};

template <class S>
PoolShape pool_shape(std::string_view op, const S& x, const Pool2dGeometry& g) {
  const std::size_t stride = g.stride == 0 ? g.kernel : g.stride;
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("curv::nn::ops::" + std::string(op) + ": input has shape " + shape_string(x) +
                                " (kernel " + std::to_string(g.kernel) + ", stride " + std::to_string(stride) +
                                "): " + why);
  };
  if (x.size() != 4) fail("expected a 4-D input (N, C, H, W)");
  if (g.kernel == 0) fail("kernel must be at least 1");
  if (x[2] < g.kernel || x[3] < g.kernel) fail("the window is larger than the input");
  return {x[0], x[1], x[2], x[3], g.kernel, stride, (x[2] - g.kernel) / stride + 1, (x[3] - g.kernel) / stride + 1};
}

template <class T>
void gather(const std::vector<std::size_t>& index, const T* from, T* to) {
  for (std::size_t i = 0, n = index.size(); i < n; ++i) to[i] = from[index[i]];
}

template <class T>
void scatter_add(const std::vector<std::size_t>& index, const T* from, T* to) {
  for (std::size_t i = 0, n = index.size(); i < n; ++i) to[index[i]] += from[i];
}

}  // namespace detail

template <class T>
class MaxPool2dOp final : public ad::Op<T> {
 public:
  explicit MaxPool2dOp(std::vector<std::size_t> argmax) : argmax_(std::move(argmax)) {}

  std::string_view name() const override { return "max_pool2d"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    detail::gather(argmax_, c.input_tangent(0).data(), t.data());
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    detail::scatter_add(argmax_, c.adjoint().data(), c.input_adjoint(0).data());
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (c.has_adjoint_tangent())
      detail::scatter_add(argmax_, c.adjoint_tangent().data(), c.input_adjoint_tangent(0).data());
  }

  const std::vector<std::size_t>& argmax() const { return argmax_; }

 private:
  std::vector<std::size_t> argmax_;  // flat index into x per output element
};

template <class T>
ad::Var<T> max_pool2d(const ad::Var<T>& x, const Pool2dGeometry& g = {}) {
  const detail::PoolShape s = detail::pool_shape("max_pool2d", x.shape(), g);
  Tensor<T> y = Tensor<T>::from_shape({s.n, s.c, s.oh, s.ow});
  std::vector<std::size_t> argmax(s.out_size());
  const T* in = x.value().data();
  T* out = y.data();
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    const std::size_t base = plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh)
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        std::size_t best = base + oh * s.stride * s.w + ow * s.stride;
        for (std::size_t i = 0; i < s.k; ++i) {
          const std::size_t row = base + (oh * s.stride + i) * s.w + ow * s.stride;
          for (std::size_t j = 0; j < s.k; ++j)
            if (in[row + j] > in[best]) best = row + j;  // strict: the first maximum wins
        }
        argmax[o] = best;
        out[o] = in[best];
      }
  }
  return x.tape().record(std::make_unique<MaxPool2dOp<T>>(std::move(argmax)), {x}, std::move(y));
}

}  // namespace curv::nn::ops
