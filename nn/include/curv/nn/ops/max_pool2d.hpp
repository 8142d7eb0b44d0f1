// max_pool2d: y[n, c, oh, ow] = max over the kh×kw window at
// (oh·sh − ph, ow·sw − pw) of x (N, C, H, W), PyTorch's MaxPool2d without
// dilation:
//   OH = (H + 2·ph − kh) / sh + 1   (OW likewise),
// rounded up instead with ceil_mode (then a last window that would start in
// the bottom or right padding is dropped, as PyTorch does). The padding acts
// as −∞: only elements of x are ever chosen (ph ≤ kh / 2 makes every window
// hold one).
//
// The op is piecewise linear: at recording it saves, per output, which
// element of its window was chosen (two bytes: its row-major index i·kw + j
// in the window, padding included; ties → the first maximum in row-major
// window order), and every rule reuses it:
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
#include "curv/nn/size2.hpp"

namespace curv::nn::ops {

struct Pool2dGeometry {
  Size2 kernel = 2;
  Size2 stride = 0;   // 0 on an axis: that axis's kernel (non-overlapping windows)
  Size2 padding = 0;  // on each side, at most half the kernel
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg_pool2d: divide by the window's size in the padded input
};

namespace detail {

struct PoolShape {
  std::size_t n, c, h, w;
  std::size_t kh, kw, sh, sw, ph, pw;
  std::size_t oh, ow;
  bool count_include_pad = true;
  std::size_t out_size() const { return n * c * oh * ow; }
  // Windows of 2×2 with stride 2, no padding, all inside x (ceil_mode may add
  // a last one that is not): the common case, with kernels of its own.
  bool two_by_two() const {
    return kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * oh <= h && 2 * ow <= w;
  }
};

// The part of the window of output o (along one axis) inside the input:
// positions [first, last) of x, the window starting at `start` (negative in
// the padding), and `padded`, how many of its positions lie in the padded
// input (k, unless ceil_mode cuts the last window short).
struct WindowSpan {
  std::ptrdiff_t start;
  std::size_t first, last, padded;
};
inline WindowSpan window_span(std::size_t o, std::size_t stride, std::size_t pad, std::size_t k, std::size_t size) {
  const auto start = static_cast<std::ptrdiff_t>(o * stride) - static_cast<std::ptrdiff_t>(pad);
  const std::ptrdiff_t end = std::min(start + static_cast<std::ptrdiff_t>(k), static_cast<std::ptrdiff_t>(size + pad));
  return {start, static_cast<std::size_t>(std::max<std::ptrdiff_t>(start, 0)),
          static_cast<std::size_t>(std::min(end, static_cast<std::ptrdiff_t>(size))),
          static_cast<std::size_t>(end - start)};
}

// The number of windows along an axis of `size` (PyTorch's pooling_output_shape).
inline std::size_t pooled_size(std::size_t size, std::size_t k, std::size_t stride, std::size_t pad, bool ceil_mode) {
  std::size_t out = (size + 2 * pad - k + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= size + pad) --out;  // the last window would start in the padding
  return out;
}

// "kernel 2, stride 2" and, when set, ", padding p", ", ceil_mode".
inline std::string pool_geometry_string(const Pool2dGeometry& g) {
  const Size2 stride{g.stride.h == 0 ? g.kernel.h : g.stride.h, g.stride.w == 0 ? g.kernel.w : g.stride.w};
  return "kernel " + to_string(g.kernel) + ", stride " + to_string(stride) +
         (g.padding == Size2(0) ? "" : ", padding " + to_string(g.padding)) + (g.ceil_mode ? ", ceil_mode" : "");
}

template <class S>
PoolShape pool_shape(std::string_view op, const S& x, const Pool2dGeometry& g) {
  const Size2 k = g.kernel, p = g.padding;
  const Size2 stride{g.stride.h == 0 ? k.h : g.stride.h, g.stride.w == 0 ? k.w : g.stride.w};
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("curv::nn::ops::" + std::string(op) + ": input has shape " + shape_string(x) + " (" +
                                pool_geometry_string(g) + "): " + why);
  };
  if (x.size() != 4) fail("expected a 4-D input (N, C, H, W)");
  if (k.h == 0 || k.h > 256 || k.w == 0 || k.w > 256) fail("kernel must be between 1 and 256");
  if (2 * p.h > k.h || 2 * p.w > k.w)
    fail("padding must be at most half the kernel (as PyTorch), found padding " + to_string(p) + " for kernel " +
         to_string(k));
  if (x[2] + 2 * p.h < k.h || x[3] + 2 * p.w < k.w) fail("the window is larger than the padded input");
  return {x[0], x[1], x[2], x[3], k.h, k.w, stride.h, stride.w, p.h, p.w,
          pooled_size(x[2], k.h, stride.h, p.h, g.ceil_mode), pooled_size(x[3], k.w, stride.w, p.w, g.ceil_mode),
          g.count_include_pad};
}

// The window element an output took, as its row-major index in the window
// (i·kw + j for row i, column j, padding included; kh, kw ≤ 256 fit two bytes).
using Choice = std::uint16_t;
using Choices = std::vector<Choice, BufferAllocator<Choice>>;

// f(o, flat index into x) for every output o, in order. The chosen element
// is inside x, so its index oh·sh − ph + i (…) is too (unsigned arithmetic
// wraps back into range).
template <class F>
void for_each_choice(const PoolShape& s, const Choice* choice, F f) {
  std::size_t o = 0;
  for (std::size_t plane = 0; plane < s.n * s.c; ++plane) {
    const std::size_t base = plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh) {
      const std::size_t row = base + (oh * s.sh - s.ph) * s.w - s.pw;
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const std::size_t i = choice[o] / s.kw, j = choice[o] % s.kw;
        f(o, row + i * s.w + ow * s.sw + j);
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
  if (s.two_by_two()) {  // the common case: the same choices as the loop below
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
    const T* base = in + plane * s.h * s.w;
    for (std::size_t oh = 0; oh < s.oh; ++oh) {
      const WindowSpan r = window_span(oh, s.sh, s.ph, s.kh, s.h);
      for (std::size_t ow = 0; ow < s.ow; ++ow, ++o) {
        const WindowSpan q = window_span(ow, s.sw, s.pw, s.kw, s.w);
        // Window element (i, j) is x[start_r + i, start_q + j]; only those inside x compete.
        const auto i0 = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(r.first) - r.start);
        const auto j0 = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(q.first) - q.start);
        Choice best = static_cast<Choice>(i0 * s.kw + j0);
        T max = value(plane, base[r.first * s.w + q.first]);
        for (std::size_t y = r.first; y < r.last; ++y)
          for (std::size_t x = q.first; x < q.last; ++x) {
            const T v = value(plane, base[y * s.w + x]);
            if (v > max) {  // strict: the first maximum wins
              max = v;
              best = static_cast<Choice>((y - r.first + i0) * s.kw + (x - q.first + j0));
            }
          }
        choice[o] = best;
        out[o] = max;
      }
    }
  }
}

// to[argmax] += from (the adjoint of max_pool); when fresh, `to` is
// uninitialized and every element is written.
template <class T>
void max_pool_scatter(const PoolShape& s, const Choice* choice, const T* from, T* to, bool fresh) {
  if (fresh && s.two_by_two() && s.h % 2 == 0 && s.w % 2 == 0) {
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
