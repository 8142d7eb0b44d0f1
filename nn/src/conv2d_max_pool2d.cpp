// curv::nn::ops::conv2d_max_pool2d: the fused op, its rules and its
// per-sample loop (see the header for the math).
#include "curv/nn/ops/conv2d_max_pool2d.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace curv::nn::ops {

namespace detail {

namespace {

// Samples per block: the unit of parallel work and of the ordered reduction.
// Fixed (not derived from the thread count), so results are too.
constexpr std::size_t samples_per_block = 4;

// Per-sample gemms of fewer multiply-adds than this run on one thread inside
// OpenBLAS (its SMP threshold), so the samples themselves can be spread over
// TBB's threads; larger convolutions keep the samples in order on the calling
// thread and let BLAS use its threads for each product.
constexpr std::size_t blas_single_threaded_work = 65536 * 4;

template <class T>
using Scratch = std::vector<T, BufferAllocator<T>>;

// The sizes of one fused call: the convolution per sample (n = 1) and the
// pooling of its output, per sample and for the batch.
struct FusedShape {
  ConvShape conv;    // n = 1: the per-sample view the conv2d kernels take
  PoolShape pool;    // n = 1: one sample's O planes of OH × OW
  std::size_t n;     // samples
  std::size_t pooled() const { return pool.c * pool.oh * pool.ow; }  // y elements per sample
  std::size_t conv_out() const { return conv.out_sample(); }          // z elements per sample
  bool parallel() const { return conv.o * conv.ckk() * conv.out_plane() < blas_single_threaded_work; }
};

// f(block, first sample, end sample) for every block of samples, on TBB's
// threads when the shape allows it.
template <class F>
void for_each_block(const FusedShape& s, F f) {
  const std::size_t blocks = (s.n + samples_per_block - 1) / samples_per_block;
  auto run = [&](std::size_t b) { f(b, b * samples_per_block, std::min(s.n, (b + 1) * samples_per_block)); };
  if (!s.parallel() || blocks < 2) {
    for (std::size_t b = 0; b < blocks; ++b) run(b);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, blocks, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t b = r.begin(); b != r.end(); ++b) run(b);
        },
        tbb::simple_partitioner());
  });
}

// Per-block partial sums of a parameter adjoint (count elements each), added
// into the target in block order.
template <class T>
class BlockSums {
 public:
  BlockSums(const FusedShape& s, std::size_t count)
      : count_(count), sums_(count * ((s.n + samples_per_block - 1) / samples_per_block), T(0)) {}
  T* block(std::size_t b) { return sums_.data() + b * count_; }
  void add_into(T* target) const {
    for (std::size_t i = 0; i < sums_.size(); i += count_)
      for (std::size_t j = 0; j < count_; ++j) target[j] += sums_[i + j];
  }

 private:
  std::size_t count_;
  std::vector<T> sums_;
};

// sums[o] += Σ over sample's plane o of y.
template <class T>
void add_plane_sums(const FusedShape& s, const T* y, T* sums) {
  const std::size_t plane = s.pool.oh * s.pool.ow;
  for (std::size_t o = 0; o < s.pool.c; ++o) {
    T acc = T(0);
    for (std::size_t q = 0; q < plane; ++q) acc += y[o * plane + q];
    sums[o] += acc;
  }
}

}  // namespace

template <class T>
class Conv2dMaxPool2dOp final : public ad::Op<T> {
 public:
  Conv2dMaxPool2dOp(FusedShape s, Slot w, std::optional<Slot> b, Choices choice)
      : s_(s), w_(w), b_(b), choice_(std::move(choice)) {}

  std::string_view name() const override { return "conv2d_max_pool2d"; }

  // ẏ = gather(conv(ẋ, W) + conv(x, Ẇ)) + ḃ.
  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    const T* x = c.input(0).data();
    const T* xdot = c.has_tangent(0) ? c.input_tangent(0).data() : nullptr;
    const T* w = w_.value(c);
    const T* wdot = c.has_tangent(w_.input) ? w_.tangent(c) : nullptr;
    const T* bdot = b_ && c.has_tangent(b_->input) ? b_->tangent(c) : nullptr;
    for_each_block(s_, [&](std::size_t, std::size_t first, std::size_t end) {
      Scratch<T> z(s_.conv_out());
      std::vector<T> cols;
      for (std::size_t n = first; n < end; ++n) {
        const std::size_t in = n * s_.conv.in_sample();
        if (xdot) conv_forward(s_.conv, xdot + in, w, T(0), z.data(), cols);
        if (wdot) conv_forward(s_.conv, x + in, wdot, xdot ? T(1) : T(0), z.data(), cols);
        if (!xdot && !wdot) std::fill(z.begin(), z.end(), T(0));
        T* out = t.data() + n * s_.pooled();
        max_pool_gather(s_.pool, choices(n), z.data(), out);
        if (bdot) add_bias(bdot, out);
      }
    });
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    const T* ybar = c.adjoint().data();
    T* xbar = c.needs_adjoint(0) ? c.input_adjoint(0).data() : nullptr;
    T* wbar = c.needs_adjoint(w_.input) ? w_.adjoint(c) : nullptr;
    T* bbar = b_ && c.needs_adjoint(b_->input) ? b_->adjoint(c) : nullptr;
    const T* x = c.input(0).data();
    const T* w = w_.value(c);
    BlockSums<T> wsum(s_, wbar ? s_.conv.o * s_.conv.ckk() : 0), bsum(s_, bbar ? s_.conv.o : 0);
    for_each_block(s_, [&](std::size_t b, std::size_t first, std::size_t end) {
      Scratch<T> zbar(xbar || wbar ? s_.conv_out() : 0);
      std::vector<T> cols;
      for (std::size_t n = first; n < end; ++n) {
        const T* ybar_n = ybar + n * s_.pooled();
        if (bbar) add_plane_sums(s_, ybar_n, bsum.block(b));
        if (!xbar && !wbar) continue;
        max_pool_scatter(s_.pool, choices(n), ybar_n, zbar.data(), true);
        if (xbar) conv_input_adjoint<T>(s_.conv, w, zbar.data(), nullptr, nullptr, xbar + n * s_.conv.in_sample(), cols);
        if (wbar) conv_weight_adjoint(s_.conv, x + n * s_.conv.in_sample(), zbar.data(), wsum.block(b), cols);
      }
    });
    if (wbar) wsum.add_into(wbar);
    if (bbar) bsum.add_into(bbar);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const T* ybar = c.adjoint().data();
    const T* ydot_bar = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    const T* x = c.input(0).data();
    const T* xdot = c.has_tangent(0) ? c.input_tangent(0).data() : nullptr;
    const T* w = w_.value(c);
    const T* wdot = c.has_tangent(w_.input) ? w_.tangent(c) : nullptr;
    // Which terms exist: x̄̇ needs ȳ̇ or Ẇ, W̄̇ needs ȳ̇ or ẋ, b̄̇ needs ȳ̇.
    T* xbar_dot = c.needs_adjoint(0) && (ydot_bar || wdot) ? c.input_adjoint_tangent(0).data() : nullptr;
    T* wbar_dot = c.needs_adjoint(w_.input) && (ydot_bar || xdot) ? w_.adjoint_tangent(c) : nullptr;
    T* bbar_dot = b_ && c.needs_adjoint(b_->input) && ydot_bar ? b_->adjoint_tangent(c) : nullptr;
    if (!xbar_dot && !wbar_dot && !bbar_dot) return;
    // z̄ (scattered ȳ) is needed for Ẇᵀ z̄ in x̄̇ and for z̄ cols(ẋ)ᵀ in W̄̇.
    const bool need_zbar = (xbar_dot && wdot) || (wbar_dot && xdot);
    const bool need_zdot_bar = ydot_bar && (xbar_dot || wbar_dot);
    BlockSums<T> wsum(s_, wbar_dot ? s_.conv.o * s_.conv.ckk() : 0), bsum(s_, bbar_dot ? s_.conv.o : 0);
    for_each_block(s_, [&](std::size_t b, std::size_t first, std::size_t end) {
      Scratch<T> zbar(need_zbar ? s_.conv_out() : 0), zdot_bar(need_zdot_bar ? s_.conv_out() : 0);
      std::vector<T> cols;
      for (std::size_t n = first; n < end; ++n) {
        const std::size_t in = n * s_.conv.in_sample();
        if (bbar_dot) add_plane_sums(s_, ydot_bar + n * s_.pooled(), bsum.block(b));
        if (need_zbar) max_pool_scatter(s_.pool, choices(n), ybar + n * s_.pooled(), zbar.data(), true);
        if (need_zdot_bar) max_pool_scatter(s_.pool, choices(n), ydot_bar + n * s_.pooled(), zdot_bar.data(), true);
        if (xbar_dot) {
          // x̄̇ₙ += col2im(Wᵀ ż̄ₙ + Ẇᵀ z̄ₙ), either term possibly absent.
          const T* w1 = ydot_bar ? w : wdot;
          const T* z1 = ydot_bar ? zdot_bar.data() : zbar.data();
          const T* w2 = ydot_bar && wdot ? wdot : nullptr;
          conv_input_adjoint(s_.conv, w1, z1, w2, w2 ? zbar.data() : nullptr, xbar_dot + in, cols);
        }
        if (wbar_dot) {
          if (ydot_bar) conv_weight_adjoint(s_.conv, x + in, zdot_bar.data(), wsum.block(b), cols);
          if (xdot) conv_weight_adjoint(s_.conv, xdot + in, zbar.data(), wsum.block(b), cols);
        }
      }
    });
    if (wbar_dot) wsum.add_into(wbar_dot);
    if (bbar_dot) bsum.add_into(bbar_dot);
  }

 private:
  const Choice* choices(std::size_t n) const { return choice_.data() + n * s_.pooled(); }

  // out[o, :] += b[o] over one sample's planes.
  void add_bias(const T* b, T* out) const {
    const std::size_t plane = s_.pool.oh * s_.pool.ow;
    for (std::size_t o = 0; o < s_.pool.c; ++o)
      for (std::size_t q = 0; q < plane; ++q) out[o * plane + q] += b[o];
  }

  FusedShape s_;
  Slot w_;
  std::optional<Slot> b_;
  Choices choice_;
};

template <class T>
ad::Var<T> conv2d_max_pool2d_record(const ConvShape& s, const Pool2dGeometry& pool, const ad::Var<T>& x,
                                    std::initializer_list<ad::Var<T>> inputs, Slot w, std::optional<Slot> b) {
  ConvShape one = s;
  one.n = 1;
  const PoolShape p = pool_shape("conv2d_max_pool2d", Shape{1, s.o, s.oh, s.ow}, pool);
  const FusedShape f{one, p, s.n};
  const ad::Var<T>* in = inputs.begin();
  const T* xv = x.value().data();
  const T* wv = w.value(in[w.input]);
  const T* bv = b ? b->value(in[b->input]) : nullptr;
  Tensor<T> y = Tensor<T>::from_shape({s.n, p.c, p.oh, p.ow});
  Choices choice(s.n * f.pooled());
  for_each_block(f, [&](std::size_t, std::size_t first, std::size_t end) {
    Scratch<T> z(f.conv_out());
    std::vector<T> cols;
    for (std::size_t n = first; n < end; ++n) {
      conv_forward(one, xv + n * s.in_sample(), wv, T(0), z.data(), cols);
      // The bias is added before the comparison, as conv2d then max_pool2d
      // would: the same values and the same choices.
      T* out = y.data() + n * f.pooled();
      Choice* ch = choice.data() + n * f.pooled();
      if (bv)
        max_pool(p, z.data(), [bv](std::size_t o, T v) { return v + bv[o]; }, out, ch);
      else
        max_pool(p, z.data(), [](std::size_t, T v) { return v; }, out, ch);
    }
  });
  return x.tape().record(std::make_unique<Conv2dMaxPool2dOp<T>>(f, w, b, std::move(choice)), inputs, std::move(y));
}

template ad::Var<float> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&, const ad::Var<float>&,
                                                 std::initializer_list<ad::Var<float>>, Slot, std::optional<Slot>);
template ad::Var<double> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&, const ad::Var<double>&,
                                                  std::initializer_list<ad::Var<double>>, Slot,
                                                  std::optional<Slot>);

}  // namespace detail

}  // namespace curv::nn::ops
