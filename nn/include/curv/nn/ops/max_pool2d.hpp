// max_pool2d: y[n, c, oh, ow] = max over the k×k window at (oh·s, ow·s) of
// x (N, C, H, W), no padding; OH = (H − k) / s + 1.
//
// The op is piecewise linear: at recording it saves, per output, which
// element of its window was chosen (two bytes: row and column in the window;
// ties → the first maximum in row-major window order), and every rule reuses
// it:
//   ẏ = ẋ[argmax],   x̄[argmax] += ȳ,   x̄̇[argmax] += ȳ̇   (no second-order term).
#pragma once

#include <algorithm>
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
  if (g.kernel == 0 || g.kernel > 256) fail("kernel must be between 1 and 256");
  if (x[2] < g.kernel || x[3] < g.kernel) fail("the window is larger than the input");
  return {x[0], x[1], x[2], x[3], g.kernel, stride, (x[2] - g.kernel) / stride + 1, (x[3] - g.kernel) / stride + 1};
}

// The window element an output took, as its row-major index in the window
// (i·k + j for row i, column j; k ≤ 256 fits two bytes).
using Choice = std::uint16_t;
using Choices = std::vector<Choice, BufferAllocator<Choice>>;

// f(o, flat index into x) for every output o, in order.
template <class F>
void for_each_choice(const PoolShape& s, const Choice* choice, F f) {
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    const std::size_t base = plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh) {
      const std::size_t row = base + oh * s.stride * s.w;
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const std::size_t i = choice[o] / s.k, j = choice[o] % s.k;
        f(o, row + i * s.w + ow * s.stride + j);
      }
    }
  }
}

// One output row of a 2×2, stride-2 max-pool: y[ow] = the maximum of the
// window under rows r0, r1 at columns 2·ow, 2·ow + 1 (after value()), ch[ow]
// = the first position holding it. Arithmetic instead of branches (on real
// data the winner is unpredictable) and restrict pointers: GCC vectorizes it.
template <class T, class Value>
void max_pool_2x2_row(const T* __restrict r0, const T* __restrict r1, Value value, T* __restrict y,
                      Choice* __restrict ch, std::size_t n) {
  for (std::size_t ow = 0; ow < n; ++ow) {
    const T a = value(r0[2 * ow]), b = value(r0[2 * ow + 1]), c = value(r1[2 * ow]), d = value(r1[2 * ow + 1]);
    const T max = std::max(std::max(a, b), std::max(c, d));
    ch[ow] = static_cast<Choice>(Choice(a != max) * Choice(1 + Choice(b != max) * Choice(1 + Choice(c != max))));
    y[ow] = max;
  }
}

// The adjoint of one such row when its windows tile the input: each window
// written whole, v[ow] at its chosen element and zeros elsewhere (selects on
// restrict pointers: GCC vectorizes it).
template <class T>
void max_pool_2x2_scatter_row(const Choice* __restrict ch, const T* __restrict v, T* __restrict r0,
                              T* __restrict r1, std::size_t n) {
  for (std::size_t ow = 0; ow < n; ++ow) {
    const unsigned c = ch[ow];
    const T x = v[ow];
    r0[2 * ow] = c == 0 ? x : T(0);
    r0[2 * ow + 1] = c == 1 ? x : T(0);
    r1[2 * ow] = c == 2 ? x : T(0);
    r1[2 * ow + 1] = c == 3 ? x : T(0);
  }
}

// out = the maximum of value(plane, x) over each window of every plane of in,
// choice = where it was (the first maximum in row-major window order).
// value(plane, x) is x for max_pool2d, x + b[channel] for the fused
// conv2d_max_pool2d (bias before the comparison, as the unfused ops do).
template <class T, class Value>
void max_pool(const PoolShape& s, const T* in, Value value, T* out, Choice* choice) {
  std::size_t o = 0;
  if (s.k == 2 && s.stride == 2) {  // the common case: the same choices as the loop below
    for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
      auto plane_value = [&value, plane](T x) { return value(plane, x); };
      for (std::size_t oh = 0; oh < s.oh; ++oh, o += s.ow) {
        const T* r0 = in + plane * s.h * s.w + 2 * oh * s.w;
        max_pool_2x2_row(r0, r0 + s.w, plane_value, out + o, choice + o, s.ow);
      }
    }
    return;
  }
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    const std::size_t base = plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh)
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const T* window = in + base + oh * s.stride * s.w + ow * s.stride;
        Choice best = 0;
        T max = value(plane, window[0]);
        for (std::size_t i = 0; i < s.k; ++i)
          for (std::size_t j = 0; j < s.k; ++j) {
            const T v = value(plane, window[i * s.w + j]);
            if (v > max) {  // strict: the first maximum wins
              max = v;
              best = static_cast<Choice>(i * s.k + j);
            }
          }
        choice[o] = best;
        out[o] = max;
      }
  }
}

// to[argmax] += from (the adjoint of max_pool); when fresh, `to` is
// uninitialized and every element is written.
template <class T>
void max_pool_scatter(const PoolShape& s, const Choice* choice, const T* from, T* to, bool fresh) {
  if (fresh && s.k == 2 && s.stride == 2 && s.h % 2 == 0 && s.w % 2 == 0) {
    // The windows tile `to`: write each one whole.
    for (std::size_t plane = 0, o = 0; plane < s.n * s.c; ++plane)
      for (std::size_t oh = 0; oh < s.oh; ++oh, o += s.ow) {
        T* r0 = to + plane * s.h * s.w + 2 * oh * s.w;
        max_pool_2x2_scatter_row(choice + o, from + o, r0, r0 + s.w, s.ow);
      }
    return;
  }
  if (fresh) std::fill(to, to + s.n * s.c * s.h * s.w, T(0));
  for_each_choice(s, choice, [&](std::size_t o, std::size_t i) { to[i] += from[o]; });
}

// out[o] = from[argmax of o] (the tangent of max_pool).
template <class T>
void max_pool_gather(const PoolShape& s, const Choice* choice, const T* from, T* out) {
  for_each_choice(s, choice, [&](std::size_t o, std::size_t i) { out[o] = from[i]; });
}

}  // namespace detail

template <class T>
class MaxPool2dOp final : public ad::Op<T> {
 public:
  MaxPool2dOp(detail::PoolShape s, detail::Choices choice) : s_(s), choice_(std::move(choice)) {}

  std::string_view name() const override { return "max_pool2d"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    detail::max_pool_gather(s_, choice_.data(), c.input_tangent(0).data(), t.data());
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    bool fresh = false;
    Tensor<T>& xbar = c.input_adjoint_to_write(0, fresh);
    detail::max_pool_scatter(s_, choice_.data(), c.adjoint().data(), xbar.data(), fresh);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (!c.has_adjoint_tangent()) return;
    bool fresh = false;
    Tensor<T>& xbar_dot = c.input_adjoint_tangent_to_write(0, fresh);
    detail::max_pool_scatter(s_, choice_.data(), c.adjoint_tangent().data(), xbar_dot.data(), fresh);
  }

 private:
  detail::PoolShape s_;
  detail::Choices choice_;
};

template <class T>
ad::Var<T> max_pool2d(const ad::Var<T>& x, const Pool2dGeometry& g = {}) {
  const detail::PoolShape s = detail::pool_shape("max_pool2d", x.shape(), g);
  Tensor<T> y = Tensor<T>::from_shape({s.n, s.c, s.oh, s.ow});
  detail::Choices choice(s.out_size());
  detail::max_pool(s, x.value().data(), [](std::size_t, T v) { return v; }, y.data(), choice.data());
  return x.tape().record(std::make_unique<MaxPool2dOp<T>>(s, std::move(choice)), {x}, std::move(y));
}

}  // namespace curv::nn::ops
