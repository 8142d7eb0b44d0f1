// conv2d_max_pool2d: y = a(max_pool2d(conv2d(x, W) + b)), a convolution, the
// max-pooling that follows it and optionally an elementwise activation a
// (tanh or relu) after the pooling, as one op: what nn::fuse puts in place
// of a Conv2d followed by a MaxPool2d (and a Tanh or ReLU). It takes every
// geometry option of conv2d and max_pool2d (it shares their unfolding and
// window loops) except groups, which must be 1 (one gemm per sample).
//
// Why fuse: the convolution's output z (N, O, OH, OW) is the largest tensor
// of a small CNN — 32×28×28 per sample for the article's, four times the
// pooled output — and unfused it is written, read back by the pooling, and
// on the reverse sweep its adjoint (and adjoint tangent) is written whole and
// read back by the convolution's rules: memory-bound passes that cost more
// than the convolution's arithmetic. Fused, z lives one sample at a time in
// a scratch buffer that stays in cache (a block of 8 planes at a time when
// 2×2 windows tile it), the tape holds only y and the 2-byte window choices,
// and the per-sample work runs on TBB's threads.
//
// Values: per sample n, zₙ = W cols(xₙ) + b (conv2d's gemm and bias add, the
// bias added before the comparison as the two ops do), and y = max over each
// window of zₙ with the first maximum in row-major window order chosen. When
// 2×2 windows tile zₙ, its positions are stored in window order (so that
// pooling and its adjoint vectorize) and the gemm may round a position
// differently than in conv2d's order: y equals max_pool2d(conv2d(x, W, b)) to
// rounding; otherwise bit for bit. With the choices fixed the op is bilinear in (x, W) plus b,
// and every rule is conv2d's rule applied to the scattered pooled quantity:
//   ẏ = gather(conv(ẋ, W) + conv(x, Ẇ) + ḃ)
//   z̄ = scatter(ȳ):  x̄ₙ += col2im(Wᵀ z̄ₙ),  W̄ += Σₙ z̄ₙ cols(xₙ)ᵀ,  b̄ += Σ ȳ
//   ż̄ = scatter(ȳ̇): x̄̇ₙ += col2im(Wᵀ ż̄ₙ + Ẇᵀ z̄ₙ),
//                    W̄̇ += Σₙ ż̄ₙ cols(xₙ)ᵀ + z̄ₙ cols(ẋₙ)ᵀ,  b̄̇ += Σ ȳ̇
// (scatter puts each pooled value at its window's chosen element, zeros
// elsewhere; gather reads it back).
//
// With an activation, u = the pooled value above and y = a(u), a's calculus
// being autodiff's elementwise Rule (ad::TanhRule, ad::ReluRule) run by
// autodiff's array kernels (ad::rule_values, …; curv/autodiff/rule.hpp). The
// tape keeps y only (not u); a's rules, which read y only, wrap the ones above:
//   ẏ = a'·u̇,   ū = a'·ȳ,   ū̇ = a'·ȳ̇ + a''·u̇·ȳ
// where a''·u̇ = (d a'/dy)·ẏ, ẏ being the op's own output tangent (it already
// holds a'·u̇): tanh's d a'/dy = −2y; relu's a'' = 0. Values are those of
// ad::tanh / ad::relu applied to the pooled output, bit for bit.
//
// Determinism: samples are taken in fixed blocks; each block sums its own
// W̄ and b̄ contributions and the blocks' sums are added in block order, so
// the result does not depend on the number of threads or their scheduling.
// The parallel loop runs isolated (tbb::this_task_arena::isolate), so a
// waiting thread never picks up an unrelated outer task (e.g. another of the
// Accumulator's minibatches) and the number of live tapes stays bounded.
//
// Instantiated for float and double (in nn/src/conv2d_max_pool2d.cpp).
#pragma once

#include <cstddef>

#include "curv/autodiff.hpp"
#include "curv/nn/ops/conv2d.hpp"
#include "curv/nn/ops/max_pool2d.hpp"

namespace curv::nn::ops {

// The elementwise activation applied after the pooling: none, or the one of
// ad::tanh (ad::TanhRule) or ad::relu (ad::ReluRule).
enum class PooledActivation { identity, tanh, relu };

namespace detail {

// Records the fused op on inputs {x, W} or {x, W, b}, all read in place.
// Checks the pooling geometry against the convolution's output.
template <class T>
ad::Var<T> conv2d_max_pool2d_record(const ConvShape& s, const Pool2dGeometry& pool,
                                    std::initializer_list<ad::Var<T>> inputs, PooledActivation activation);

extern template ad::Var<float> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&,
                                                        std::initializer_list<ad::Var<float>>, PooledActivation);
extern template ad::Var<double> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&,
                                                         std::initializer_list<ad::Var<double>>, PooledActivation);

}  // namespace detail

// y = a(max_pool2d(conv2d(x, W) + b)).
template <class T>
ad::Var<T> conv2d_max_pool2d(const ad::Var<T>& x, const ad::Var<T>& w, const ad::Var<T>& b,
                             const Conv2dGeometry& conv = {}, const Pool2dGeometry& pool = {},
                             PooledActivation activation = PooledActivation::identity) {
  const detail::ConvShape s = detail::conv_shape(x.shape(), w.shape(), conv);
  detail::check_conv_bias(s, b);
  return detail::conv2d_max_pool2d_record(s, pool, {x, w, b}, activation);
}

// y = a(max_pool2d(conv2d(x, W))).
template <class T>
ad::Var<T> conv2d_max_pool2d(const ad::Var<T>& x, const ad::Var<T>& w, const Conv2dGeometry& conv = {},
                             const Pool2dGeometry& pool = {},
                             PooledActivation activation = PooledActivation::identity) {
  const detail::ConvShape s = detail::conv_shape(x.shape(), w.shape(), conv);
  return detail::conv2d_max_pool2d_record<T>(s, pool, {x, w}, activation);
}

}  // namespace curv::nn::ops
