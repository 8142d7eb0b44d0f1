// conv2d: y = x ⋆ W + b, a 2-D cross-correlation in NCHW layout (PyTorch's
// Conv2d): x (N, C, H, W), W (O, C/g, kh, kw), b (O), y (N, O, OH, OW) with
//   OH = (H + 2·ph − dh·(kh − 1) − 1) / sh + 1   (OW likewise)
// for stride s, zero padding p, dilation d (the kernel's taps d apart) and g
// groups: input channels [i·C/g, (i+1)·C/g) feed only output channels
// [i·O/g, (i+1)·O/g) (g = C is a depthwise convolution).
//
// Per sample n, im2col unfolds xₙ into cols(xₙ) (C·kh·kw × OH·OW), whose rows
// come channel by channel, so group i's rows are one contiguous block
// colsᵢ(xₙ); yₙ,ᵢ = Wᵢ colsᵢ(xₙ) + bᵢ is one BLAS gemm per group (Wᵢ viewed
// as O/g × C/g·kh·kw; one gemm per sample when g = 1). The op is bilinear in
// (x, W), per group:
//   ẏ = conv(ẋ, W) + conv(x, Ẇ) + ḃ
//   x̄ₙ += col2im(Wᵀ ȳₙ),     W̄ += Σₙ ȳₙ cols(xₙ)ᵀ,     b̄ += Σ ȳ over n and space
//   x̄̇ₙ += col2im(Wᵀ ȳ̇ₙ + Ẇᵀ ȳₙ),   W̄̇ += Σₙ ȳ̇ₙ cols(xₙ)ᵀ + ȳₙ cols(ẋₙ)ᵀ,   b̄̇ += Σ ȳ̇
// (Wᵀ ȳₙ is block-diagonal: group i's rows of cols from Wᵢᵀ ȳₙ,ᵢ.)
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
#include "curv/nn/size2.hpp"

namespace curv::nn::ops {

struct Conv2dGeometry {
  Size2 stride = 1;
  Size2 padding = 0;   // zeros on each side
  Size2 dilation = 1;  // the distance between the kernel's taps
  std::size_t groups = 1;
};

namespace detail {

// Sizes of one conv2d call, derived from x's and W's shapes.
struct ConvShape {
  std::size_t n, c, h, w;  // input
  std::size_t o, kh, kw;   // output channels, kernel size
  std::size_t sh, sw;      // stride
  std::size_t ph, pw;      // padding
  std::size_t dh, dw;      // dilation
  std::size_t groups;
  std::size_t oh, ow;  // output spatial size
  std::size_t ckk() const { return c * kh * kw; }                  // rows of the unfolded input
  std::size_t group_ckk() const { return c / groups * kh * kw; }   // one group's rows: a weight row
  std::size_t group_outputs() const { return o / groups; }
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

// One row (c, i, j) of the unfolded input cols (C·kh·kw × OH·OW): the outputs
// (oh, ow) reading x[c, oh·sh − ph + di, ow·sw − pw + dj] (di = i·dh,
// dj = j·dw: the tap's offset), inside the input for oh in `rows` and ow in
// `cols_in`.
struct UnfoldRow {
  std::size_t c, di, dj;
  std::size_t index;  // (c·kh + i)·kw + j
  ValidRange rows, cols_in;
};

// f(row) for every row of the unfolded input, in order.
template <class F>
void for_each_unfold_row(const ConvShape& s, F f) {
  for (std::size_t c = 0; c < s.c; ++c)
    for (std::size_t i = 0; i < s.kh; ++i) {
      const ValidRange rows = valid_range(s.oh, s.h, s.sh, s.ph, i * s.dh);
      for (std::size_t j = 0; j < s.kw; ++j)
        f(UnfoldRow{c, i * s.dh, j * s.dw, (c * s.kh + i) * s.kw + j, rows,
                    valid_range(s.ow, s.w, s.sw, s.pw, j * s.dw)});
    }
}

// cols (C·kh·kw × OH·OW), row (c, i, j), column (oh, ow): x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] or 0.
template <class T>
void im2col(const ConvShape& s, const T* x, T* cols) {
  const std::size_t plane = s.out_plane();
  for_each_unfold_row(s, [&](const UnfoldRow& u) {
    const auto [c, di, dj, index, rows, cols_in] = u;
    T* row = cols + index * plane;
    const T* xc = x + c * s.h * s.w;
    std::fill(row, row + rows.first * s.ow, T(0));
    for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
      T* out = row + oh * s.ow;
      // Output ow reads input column ow·sw + dj − pw, inside the row for ow in cols_in.
      const T* xr = xc + (oh * s.sh + di - s.ph) * s.w;
      std::fill(out, out + cols_in.first, T(0));
      if (cols_in.first < cols_in.last) {
        if (s.sw == 1)
          std::copy(xr + (cols_in.first + dj - s.pw), xr + (cols_in.last + dj - s.pw), out + cols_in.first);
        else
          for (std::size_t ow = cols_in.first; ow < cols_in.last; ++ow) out[ow] = xr[ow * s.sw + dj - s.pw];
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
    const auto [c, di, dj, index, rows, cols_in] = u;
    const T* row = cols + index * plane;
    T* xc = x + c * s.h * s.w;
    for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
      const T* in = row + oh * s.ow;
      T* xr = xc + (oh * s.sh + di - s.ph) * s.w;
      for (std::size_t ow = cols_in.first; ow < cols_in.last; ++ow) xr[ow * s.sw + dj - s.pw] += in[ow];
    }
  });
}

// y (+)= conv(x, W) without bias: per sample and group, yₙ,ᵢ = Wᵢ colsᵢ(xₙ) + beta yₙ,ᵢ.
template <class T>
void conv_forward(const ConvShape& s, const T* x, const T* w, T beta, T* y, std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  const std::size_t og = s.group_outputs(), gckk = s.group_ckk(), plane = s.out_plane();
  for (std::size_t n = 0; n < s.n; ++n) {
    im2col(s, x + n * s.in_sample(), cols.data());
    for (std::size_t g = 0; g < s.groups; ++g)
      blas::gemm(blas::Op::none, blas::Op::none, og, plane, gckk, T(1), w + g * og * gckk, gckk,
                 cols.data() + g * gckk * plane, plane, beta, y + n * s.out_sample() + g * og * plane, plane);
  }
}

// W̄ᵢ += Σₙ ȳₙ,ᵢ colsᵢ(xₙ)ᵀ.
template <class T>
void conv_weight_adjoint(const ConvShape& s, const T* x, const T* ybar, T* wbar, std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  const std::size_t og = s.group_outputs(), gckk = s.group_ckk(), plane = s.out_plane();
  for (std::size_t n = 0; n < s.n; ++n) {
    im2col(s, x + n * s.in_sample(), cols.data());
    for (std::size_t g = 0; g < s.groups; ++g)
      blas::gemm(blas::Op::none, blas::Op::transpose, og, gckk, plane, T(1), ybar + n * s.out_sample() + g * og * plane,
                 plane, cols.data() + g * gckk * plane, plane, T(1), wbar + g * og * gckk, gckk);
  }
}

// x̄ₙ += col2im(W₁ᵀ ȳ₁ₙ + W₂ᵀ ȳ₂ₙ) for the (W, ȳ) pairs given (W₂ may be null),
// group by group.
template <class T>
void conv_input_adjoint(const ConvShape& s, const T* w1, const T* ybar1, const T* w2, const T* ybar2, T* xbar,
                        std::vector<T>& cols) {
  cols.resize(s.ckk() * s.out_plane());
  const std::size_t og = s.group_outputs(), gckk = s.group_ckk(), plane = s.out_plane();
  for (std::size_t n = 0; n < s.n; ++n) {
    T beta = T(0);
    for (auto [w, ybar] : {std::pair{w1, ybar1}, std::pair{w2, ybar2}}) {
      if (!w) continue;
      for (std::size_t g = 0; g < s.groups; ++g)
        blas::gemm(blas::Op::transpose, blas::Op::none, gckk, plane, og, T(1), w + g * og * gckk, gckk,
                   ybar + n * s.out_sample() + g * og * plane, plane, beta, cols.data() + g * gckk * plane, plane);
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

// "stride 1, padding 0" and, when not 1, ", dilation d" and ", groups g".
inline std::string geometry_string(const Conv2dGeometry& g) {
  return "stride " + to_string(g.stride) + ", padding " + to_string(g.padding) +
         (g.dilation == Size2(1) ? "" : ", dilation " + to_string(g.dilation)) +
         (g.groups == 1 ? "" : ", groups " + std::to_string(g.groups));
}

template <class SX, class SW>
ConvShape conv_shape(const SX& x, const SW& w, const Conv2dGeometry& g) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("curv::nn::ops::conv2d: input has shape " + shape_string(x) + " and weight " +
                                shape_string(w) + " (" + geometry_string(g) + "): " + why);
  };
  auto str = [](std::size_t v) { return std::to_string(v); };
  if (x.size() != 4) fail("expected a 4-D input (N, C, H, W)");
  if (w.size() != 4) fail("expected a 4-D weight (O, C / groups, kh, kw)");
  if (g.stride.h == 0 || g.stride.w == 0) fail("stride must be at least 1");
  if (g.dilation.h == 0 || g.dilation.w == 0) fail("dilation must be at least 1");
  if (g.groups == 0) fail("groups must be at least 1");
  if (w[2] == 0 || w[3] == 0) fail("the kernel must be at least 1x1");
  if (g.groups == 1 && x[1] != w[1])
    fail("input channels " + str(x[1]) + " differ from the weight's " + str(w[1]));
  if (x[1] % g.groups != 0)
    fail("input channels " + str(x[1]) + " are not divisible by groups " + str(g.groups));
  if (w[0] % g.groups != 0)
    fail("output channels " + str(w[0]) + " (the weight's first dimension) are not divisible by groups " +
         str(g.groups));
  if (w[1] * g.groups != x[1])
    fail("the weight has " + str(w[1]) + " input channels per group, expected " + str(x[1] / g.groups) +
         " (input channels " + str(x[1]) + " / groups " + str(g.groups) + ")");
  ConvShape s{x[0], x[1], x[2], x[3], w[0], w[2], w[3], g.stride.h, g.stride.w, g.padding.h, g.padding.w,
              g.dilation.h, g.dilation.w, g.groups, 0, 0};
  // The kernel's extent with its dilation: d·(k − 1) + 1.
  const std::size_t eh = s.dh * (s.kh - 1) + 1, ew = s.dw * (s.kw - 1) + 1;
  if (s.h + 2 * s.ph < eh || s.w + 2 * s.pw < ew)
    fail("the kernel (" + str(eh) + "x" + str(ew) + " with its dilation) is larger than the padded input (" +
         str(s.h + 2 * s.ph) + "x" + str(s.w + 2 * s.pw) + ")");
  s.oh = (s.h + 2 * s.ph - eh) / s.sh + 1;
  s.ow = (s.w + 2 * s.pw - ew) / s.sw + 1;
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
