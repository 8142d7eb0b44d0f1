// conv2d: y = x ⋆ W + b, a 2-D cross-correlation in NCHW layout (PyTorch's
// Conv2d): x (N, C, H, W), W (O, C, k, k), b (O), y (N, O, OH, OW) with
// OH = (H + 2p − k) / s + 1 for stride s and zero padding p.
//
// Per sample n, im2col unfolds xₙ into cols(xₙ) (C·k·k × OH·OW) and
// yₙ = W cols(xₙ) + b is one BLAS gemm (W viewed as O × C·k·k). The op is
// bilinear in (x, W):
//   ẏ = conv(ẋ, W) + conv(x, Ẇ) + ḃ
//   x̄ₙ += col2im(Wᵀ ȳₙ),     W̄ += Σₙ ȳₙ cols(xₙ)ᵀ,     b̄ += Σ ȳ over n and space
//   x̄̇ₙ += col2im(Wᵀ ȳ̇ₙ + Ẇᵀ ȳₙ),   W̄̇ += Σₙ ȳ̇ₙ cols(xₙ)ᵀ + ȳₙ cols(ẋₙ)ᵀ,   b̄̇ += Σ ȳ̇
// The bias is optional. Every operand is read, and every adjoint accumulated,
// in place (OpContext's pointer accessors): W and b are typically views of a
// model's flat parameter vector, and are not copied.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

struct Conv2dGeometry {
  std::size_t stride = 1;
  std::size_t padding = 0;
};

namespace detail {

// Sizes of one conv2d call, derived from x's and W's shapes.
struct ConvShape {
  std::size_t n, c, h, w;  // input
  std::size_t o, k;        // output channels, kernel size
  std::size_t stride, pad;
  std::size_t oh, ow;  // output spatial size
  std::size_t ckk() const { return c * k * k; }
  std::size_t out_plane() const { return oh * ow; }
  std::size_t in_sample() const { return c * h * w; }
  std::size_t out_sample() const { return o * oh * ow; }
};

// The outputs o ∈ [first, last) whose input position o·stride + offset − pad
// lies inside [0, size): the rest read the zero padding.
struct ValidRange {
  std::size_t first, last;
};
inline ValidRange valid_range(std::size_t outputs, std::size_t size, std::size_t stride, std::size_t pad,
                              std::size_t offset) {
  const std::size_t first = offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
  if (size + pad <= offset) return {0, 0};
  const std::size_t last = std::min(outputs, (size + pad - offset - 1) / stride + 1);
  return {std::min(first, last), last};
}

// One row (c, i, j) of the unfolded input cols (C·k·k × OH·OW): the outputs
// (oh, ow) reading x[c, oh·s − p + i, ow·s − p + j], inside the input for oh
// in `rows` and ow in `cols_in`.
struct UnfoldRow {
  std::size_t c, i, j;
  std::size_t index;  // (c·k + i)·k + j
  ValidRange rows, cols_in;
};

// f(row) for every row of the unfolded input, in order.
template <class F>
void for_each_unfold_row(const ConvShape& s, F f) {
  for (std::size_t c = 0; c < s.c; ++c)
    for (std::size_t i = 0; i < s.k; ++i) {
      const ValidRange rows = valid_range(s.oh, s.h, s.stride, s.pad, i);
      for (std::size_t j = 0; j < s.k; ++j)
        f(UnfoldRow{c, i, j, (c * s.k + i) * s.k + j, rows, valid_range(s.ow, s.w, s.stride, s.pad, j)});
    }
}

// cols (C·k·k × OH·OW), row (c, i, j), column (oh, ow): x[c, oh·s − p + i, ow·s − p + j] or 0.
template <class T>
void im2col(const ConvShape& s, const T* x, T* cols) {
  const std::size_t plane = s.out_plane();
  for_each_unfold_row(s, [&](const UnfoldRow& u) {
    const auto [c, i, j, index, rows, cols_in] = u;
    T* row = cols + index * plane;
    const T* xc = x + c * s.h * s.w;
    std::fill(row, row + rows.first * s.ow, T(0));
    for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
      T* out = row + oh * s.ow;
      // Output ow reads input column ow·s + j − p, inside the row for ow in cols_in.
      const T* xr = xc + (oh * s.stride + i - s.pad) * s.w;
      std::fill(out, out + cols_in.first, T(0));
      if (cols_in.first < cols_in.last) {
        if (s.stride == 1)
          std::copy(xr + (cols_in.first + j - s.pad), xr + (cols_in.last + j - s.pad), out + cols_in.first);
        else
          for (std::size_t ow = cols_in.first; ow < cols_in.last; ++ow) out[ow] = xr[ow * s.stride + j - s.pad];
      }
      std::fill(out + cols_in.last, out + s.ow, T(0));
    }
    std::fill(row + rows.last * s.ow, row + plane, T(0));
  });
}

// x += col2im(cols): the adjoint of im2col (overlapping windows add up).
template <class T>
void col2im_add(const ConvShape& s, const T* cols, T* x) {
  const std::size_t plane = s.out_plane();
  for_each_unfold_row(s, [&](const UnfoldRow& u) {
    const auto [c, i, j, index, rows, cols_in] = u;
    const T* row = cols + index * plane;
    T* xc = x + c * s.h * s.w;
    for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
      const T* in = row + oh * s.ow;
      T* xr = xc + (oh * s.stride + i - s.pad) * s.w;
      for (std::size_t ow = cols_in.first; ow < cols_in.last; ++ow) xr[ow * s.stride + j - s.pad] += in[ow];
    }
  });
}

// y (+)= conv(x, W) without bias: per sample, y_n = W cols(x_n) + beta y_n.
template <class T>
void conv_forward(const ConvShape& s, const T* x, const T* w, T beta, T* y, std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  for (std::size_t n = 0; n < s.n; ++n) {
    im2col(s, x + n * s.in_sample(), cols.data());
    blas::gemm(blas::Op::none, blas::Op::none, s.o, s.out_plane(), s.ckk(), T(1), w, s.ckk(), cols.data(),
               s.out_plane(), beta, y + n * s.out_sample(), s.out_plane());
  }
}

// W̄ += Σₙ ȳₙ cols(xₙ)ᵀ.
template <class T>
void conv_weight_adjoint(const ConvShape& s, const T* x, const T* ybar, T* wbar, std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  for (std::size_t n = 0; n < s.n; ++n) {
    im2col(s, x + n * s.in_sample(), cols.data());
    blas::gemm(blas::Op::none, blas::Op::transpose, s.o, s.ckk(), s.out_plane(), T(1), ybar + n * s.out_sample(),
               s.out_plane(), cols.data(), s.out_plane(), T(1), wbar, s.ckk());
  }
}

// x̄ₙ += col2im(W₁ᵀ ȳ₁ₙ + W₂ᵀ ȳ₂ₙ) for the (W, ȳ) pairs given (W₂ may be null).
template <class T>
void conv_input_adjoint(const ConvShape& s, const T* w1, const T* ybar1, const T* w2, const T* ybar2, T* xbar,
                        std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  for (std::size_t n = 0; n < s.n; ++n) {
    T beta = T(0);
    for (auto [w, ybar] : {std::pair{w1, ybar1}, std::pair{w2, ybar2}}) {
      if (!w) continue;
      blas::gemm(blas::Op::transpose, blas::Op::none, s.ckk(), s.out_plane(), s.o, T(1), w, s.ckk(),
                 ybar + n * s.out_sample(), s.out_plane(), beta, cols.data(), s.out_plane());
      beta = T(1);
    }
    if (beta != T(0)) col2im_add(s, cols.data(), xbar + n * s.in_sample());
  }
}

// y[n, o, :] += b[o].
template <class T>
void conv_add_bias(const ConvShape& s, const T* b, T* y) {
  for (std::size_t n = 0; n < s.n; ++n)
    for (std::size_t o = 0; o < s.o; ++o) {
      T* p = y + n * s.out_sample() + o * s.out_plane();
      for (std::size_t q = 0; q < s.out_plane(); ++q) p[q] += b[o];
    }
}

// b̄[o] += Σ ȳ[n, o, :].
template <class T>
void conv_bias_adjoint(const ConvShape& s, const T* ybar, T* bbar) {
  for (std::size_t n = 0; n < s.n; ++n)
    for (std::size_t o = 0; o < s.o; ++o) {
      const T* p = ybar + n * s.out_sample() + o * s.out_plane();
      T acc = T(0);
      for (std::size_t q = 0; q < s.out_plane(); ++q) acc += p[q];
      bbar[o] += acc;
    }
}

template <class SX, class SW>
ConvShape conv_shape(const SX& x, const SW& w, const Conv2dGeometry& g) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("curv::nn::ops::conv2d: input has shape " + shape_string(x) + " and weight " +
                                shape_string(w) + " (stride " + std::to_string(g.stride) + ", padding " +
                                std::to_string(g.padding) + "): " + why);
  };
  if (x.size() != 4) fail("expected a 4-D input (N, C, H, W)");
  if (w.size() != 4 || w[2] != w[3]) fail("expected a 4-D weight (O, C, k, k) with a square kernel");
  if (x[1] != w[1]) fail("input channels " + std::to_string(x[1]) + " differ from the weight's " + std::to_string(w[1]));
  if (g.stride == 0) fail("stride must be at least 1");
  ConvShape s{x[0], x[1], x[2], x[3], w[0], w[2], g.stride, g.padding, 0, 0};
  if (s.h + 2 * s.pad < s.k || s.w + 2 * s.pad < s.k) fail("the kernel is larger than the padded input");
  s.oh = (s.h + 2 * s.pad - s.k) / s.stride + 1;
  s.ow = (s.w + 2 * s.pad - s.k) / s.stride + 1;
  return s;
}

}  // namespace detail

template <class T>
class Conv2dOp final : public ad::Op<T> {
 public:
  // Inputs: x, W and, with a bias, b.
  explicit Conv2dOp(detail::ConvShape s) : s_(s) {}

  std::string_view name() const override { return "conv2d"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    std::vector<T> cols;
    if (c.has_tangent(0)) detail::conv_forward(s_, c.input_tangent_data(0), c.input_data(1), T(1), t.data(), cols);
    if (c.has_tangent(1)) detail::conv_forward(s_, c.input_data(0), c.input_tangent_data(1), T(1), t.data(), cols);
    if (has_bias(c) && c.has_tangent(2)) detail::conv_add_bias(s_, c.input_tangent_data(2), t.data());
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    std::vector<T> cols;
    const T* ybar = c.adjoint().data();
    if (c.needs_adjoint(0))
      detail::conv_input_adjoint<T>(s_, c.input_data(1), ybar, nullptr, nullptr, c.input_adjoint_data(0), cols);
    if (c.needs_adjoint(1)) detail::conv_weight_adjoint(s_, c.input_data(0), ybar, c.input_adjoint_data(1), cols);
    if (has_bias(c) && c.needs_adjoint(2)) detail::conv_bias_adjoint(s_, ybar, c.input_adjoint_data(2));
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    std::vector<T> cols;
    const T* ybar = c.adjoint().data();
    const T* ydot_bar = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    if (c.needs_adjoint(0) && (ydot_bar || c.has_tangent(1))) {
      const T* w_dot = c.has_tangent(1) ? c.input_tangent_data(1) : nullptr;
      T* xbar_dot = c.input_adjoint_tangent_data(0);
      // x̄̇ₙ += col2im(Wᵀ ȳ̇ₙ + Ẇᵀ ȳₙ), either term possibly absent.
      if (ydot_bar)
        detail::conv_input_adjoint(s_, c.input_data(1), ydot_bar, w_dot, w_dot ? ybar : nullptr, xbar_dot, cols);
      else
        detail::conv_input_adjoint<T>(s_, w_dot, ybar, nullptr, nullptr, xbar_dot, cols);
    }
    if (c.needs_adjoint(1) && (ydot_bar || c.has_tangent(0))) {
      T* wbar_dot = c.input_adjoint_tangent_data(1);
      if (ydot_bar) detail::conv_weight_adjoint(s_, c.input_data(0), ydot_bar, wbar_dot, cols);
      if (c.has_tangent(0)) detail::conv_weight_adjoint(s_, c.input_tangent_data(0), ybar, wbar_dot, cols);
    }
    if (has_bias(c) && c.needs_adjoint(2) && ydot_bar)
      detail::conv_bias_adjoint(s_, ydot_bar, c.input_adjoint_tangent_data(2));
  }

 private:
  static bool has_bias(const ad::OpContext<T>& c) { return c.arity() == 3; }

  detail::ConvShape s_;
};

namespace detail {

template <class T>
ad::Var<T> conv2d_record(const ConvShape& s, std::initializer_list<ad::Var<T>> inputs) {
  const ad::Var<T>& x = inputs.begin()[0];
  Tensor<T> y = Tensor<T>::from_shape({s.n, s.o, s.oh, s.ow});
  std::vector<T> cols;
  conv_forward(s, x.data(), inputs.begin()[1].data(), T(0), y.data(), cols);
  if (inputs.size() == 3) conv_add_bias(s, inputs.begin()[2].data(), y.data());
  return x.tape().record(std::make_unique<Conv2dOp<T>>(s), inputs, std::move(y));
}

template <class T>
void check_conv_bias(const ConvShape& s, const ad::Var<T>& b) {
  if (b.dimension() != 1 || b.size() != s.o)
    throw std::invalid_argument("curv::nn::ops::conv2d: bias has shape " + shape_string(b.shape()) + ", expected (" +
                                std::to_string(s.o) + ",)");
}

}  // namespace detail

// y = conv(x, W) + b.
template <class T>
ad::Var<T> conv2d(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>& b, const Conv2dGeometry& g = {}) {
  const detail::ConvShape s = detail::conv_shape(x.shape(), w.shape(), g);
  detail::check_conv_bias(s, b);
  return detail::conv2d_record(s, {x, w, b});
}

// y = conv(x, W).
template <class T>
ad::Var<T> conv2d(const ad::Var<T>& x, const ad::Var<T>& w, const Conv2dGeometry& g = {}) {
  const detail::ConvShape s = detail::conv_shape(x.shape(), w.shape(), g);
  return detail::conv2d_record<T>(s, {x, w});
}

}  // namespace curv::nn::ops
