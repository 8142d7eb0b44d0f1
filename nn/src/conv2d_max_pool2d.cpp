// curv::nn::ops::conv2d_max_pool2d: the fused op, its rules and its
// per-sample loop (see the header for the math).
#include "curv/nn/ops/conv2d_max_pool2d.hpp"

#include "window_runs.hpp"
#include "curv/autodiff/parallel.hpp"


#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
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

// Output planes per block when 2×2 windows tile the output: the convolution's
// output and its adjoint are then made and consumed a block of planes at a
// time (8 planes of the article's 28×28 are 25 KB in float), so they stay in
// the core's nearest caches instead of a whole sample's (100 KB) going out
// and back through L2.
constexpr std::size_t planes_per_block = 8;

// Uninitialized scratch from the buffer pool (every use writes it before
// reading it: a std::vector would first zero, e.g., a batch's 7 MB of
// unfolded input).
template <class T>
class Scratch {
 public:
  explicit Scratch(std::size_t n) : n_(n), p_(n ? BufferAllocator<T>().allocate(n) : nullptr) {}
  Scratch(Scratch&& other) noexcept : n_(std::exchange(other.n_, 0)), p_(std::exchange(other.p_, nullptr)) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch& operator=(Scratch&&) = delete;
  ~Scratch() {
    if (p_) BufferAllocator<T>().deallocate(p_, n_);
  }
  T* data() const { return p_; }
  T* begin() const { return p_; }
  T* end() const { return p_ + n_; }
  bool empty() const { return n_ == 0; }

 private:
  std::size_t n_;
  T* p_;
};

// The sizes of one fused call: the convolution per sample (n = 1) and the
// pooling of its output, per sample and for the batch.
struct FusedShape {
  ConvShape conv;    // n = 1: the per-sample view the conv2d kernels take
  PoolShape pool;    // n = 1: one sample's O planes of OH × OW
  std::size_t n;     // samples
  std::size_t pooled() const { return pool.c * pool.oh * pool.ow; }  // y elements per sample
  std::size_t conv_out() const { return conv.out_sample(); }          // z elements per sample
  bool parallel() const { return conv.o * conv.ckk() * conv.out_plane() < blas_single_threaded_work; }
  // 2×2 windows with stride 2 tiling the convolution's output: the columns
  // (of cols, z and z̄) are then kept in window-major order (see below).
  bool tiled() const { return pool.two_by_two() && conv.oh % 2 == 0 && conv.ow % 2 == 0; }
};

// Column order of one sample's cols (C·k·k × OH·OW), z and z̄ (O × OH·OW).
// The gemms do not care in which order the OH·OW output positions come, as
// long as cols and z agree. When 2×2 windows tile the output, each output
// plane is stored as four runs of OH/2 · OW/2 values, one per window element
// e = 2·(h%2) + w%2 (the choice's code), each in pooled-output order:
//   position (h, w) at  e · OH/2 · OW/2 + h/2 · OW/2 + w/2,
// so that the pooling compares four contiguous runs element by element and
// the adjoint writes z̄ plainly, both without shuffles (they vectorize).
// Otherwise the order is conv2d's row-major one and the max_pool2d kernels
// apply.
struct WindowRuns {
  std::size_t row;   // OW / 2: windows per pooled row
  std::size_t size;  // OH / 2 · OW / 2: windows per plane, the length of a run
  // Where conv row h's columns w = 2·q + wj start (q = 0, 1, …).
  std::size_t at(std::size_t h, std::size_t wj) const { return (2 * (h & 1) + wj) * size + (h >> 1) * row; }
};

// The run positions w/2 ∈ [first, last) whose column w = 2·(w/2) + wj is in
// `valid`.
inline ValidRange run_range(ValidRange valid, std::size_t wj) {
  auto count_below = [wj](std::size_t end) { return end > wj ? (end - wj + 1) / 2 : 0; };
  return {count_below(valid.first), count_below(valid.last)};
}

// a[q] = src[2q], b[q] = src[2q + 1].
template <class T>
[[gnu::noinline]] void deinterleave(const T* __restrict src, T* __restrict a, T* __restrict b, std::size_t n) {
  for (std::size_t q = 0; q < n; ++q) {
    a[q] = src[2 * q];
    b[q] = src[2 * q + 1];
  }
}

// cols of one sample in window-run order (im2col's values).
template <class T>
void im2col_windowed(const ConvShape& s, const T* x, T* cols) {
  const WindowRuns runs{s.ow / 2, s.oh / 2 * (s.ow / 2)};
  const std::size_t plane = s.out_plane();
  for_each_unfold_row(s, [&](const UnfoldRow& u) {
    const auto [c, di, dj, index, rows, cols_in] = u;
    T* row = cols + index * plane;
    const ValidRange r0 = run_range(cols_in, 0), r1 = run_range(cols_in, 1);
    // Runs whose both columns are inside the input (stride 1: a plain deinterleave).
    const ValidRange both{std::max(r0.first, r1.first), std::min(r0.last, r1.last)};
    for (std::size_t h = 0; h < s.oh; ++h) {
      T* dst0 = row + runs.at(h, 0);
      T* dst1 = row + runs.at(h, 1);
      if (h < rows.first || h >= rows.last) {
        std::fill(dst0, dst0 + runs.row, T(0));
        std::fill(dst1, dst1 + runs.row, T(0));
        continue;
      }
      const T* xr = x + c * s.h * s.w + (h * s.sh + di - s.ph) * s.w;
      auto at = [&](std::size_t w) { return w >= cols_in.first && w < cols_in.last ? xr[w * s.sw + dj - s.pw] : T(0); };
      if (s.sw == 1 && both.first < both.last) {
        for (std::size_t q = 0; q < both.first; ++q) dst0[q] = at(2 * q), dst1[q] = at(2 * q + 1);
        deinterleave(xr + 2 * both.first + dj - s.pw, dst0 + both.first, dst1 + both.first, both.last - both.first);
        for (std::size_t q = both.last; q < runs.row; ++q) dst0[q] = at(2 * q), dst1[q] = at(2 * q + 1);
      } else {
        for (std::size_t q = 0; q < runs.row; ++q) dst0[q] = at(2 * q), dst1[q] = at(2 * q + 1);
      }
    }
  });
}

// x += the fold of window-run cols (the adjoint of im2col_windowed).
template <class T>
void col2im_windowed_add(const ConvShape& s, const T* cols, T* x) {
  const WindowRuns runs{s.ow / 2, s.oh / 2 * (s.ow / 2)};
  const std::size_t plane = s.out_plane();
  for_each_unfold_row(s, [&](const UnfoldRow& u) {
    const auto [c, di, dj, index, rows, cols_in] = u;
    const T* row = cols + index * plane;
    for (std::size_t h = rows.first; h < rows.last; ++h)
      for (std::size_t wj = 0; wj < 2; ++wj) {
        const T* src = row + runs.at(h, wj);
        T* xr = x + c * s.h * s.w + (h * s.sh + di - s.ph) * s.w;
        const ValidRange r = run_range(cols_in, wj);
        for (std::size_t q = r.first; q < r.last; ++q) xr[(2 * q + wj) * s.sw + dj - s.pw] += src[q];
      }
  });
}

// f(rule) with the autodiff Rule of activation a, whose calculus the fused
// op runs through autodiff's kernels; nothing for identity. The rules read y
// only (the op keeps y, not u).
static_assert(ad::from_output_rule<ad::TanhRule> && ad::from_output_rule<ad::ReluRule>);
template <class F>
void with_rule(PooledActivation a, F&& f) {
  switch (a) {
    case PooledActivation::identity: return;
    case PooledActivation::tanh: return f(ad::TanhRule{});
    case PooledActivation::relu: return f(ad::ReluRule{});
  }
}

// y = a(y) over n pooled values, as ad::tanh and ad::relu compute it.
template <class T>
void activate(PooledActivation a, T* y, std::size_t n) {
  with_rule(a, [&](auto rule) { ad::rule_values(y, y, n, rule); });
}

// out = a'·d over n pooled values, a' from the outputs y (see the header).
template <class T>
void activation_slope(PooledActivation a, const T* y, const T* d, T* out, std::size_t n) {
  with_rule(a, [&](auto rule) { ad::rule_scale(static_cast<const T*>(nullptr), y, d, out, n, false, rule); });
}

// out += a''·u̇·ȳ over n pooled values, from the outputs y and their tangents
// ẏ = a'·u̇ (u̇ is not kept).
template <class T>
void add_activation_curvature(PooledActivation a, const T* y, const T* ydot, const T* ybar, T* out, std::size_t n) {
  with_rule(a, [&](auto rule) { ad::rule_output_curvature(y, ydot, ybar, out, n, rule); });
}

// Whether a'' ≠ 0, so that ū̇ has a curvature term.
inline bool curved(PooledActivation a) {
  bool result = false;
  with_rule(a, [&](auto rule) { result = !ad::piecewise_linear_rule<decltype(rule)>; });
  return result;
}

// f(block, first sample, end sample) for every block of samples, on TBB's
// threads when the shape allows it.
template <class F>
void for_each_block(const FusedShape& s, F f) {
  auto run = [&](std::size_t first, std::size_t end) { f(first / samples_per_block, first, end); };
  if (s.parallel()) {
    curv::for_each_chunk(s.n, samples_per_block, run);
  } else {
    for (std::size_t first = 0; first < s.n; first += samples_per_block)
      run(first, std::min(s.n, first + samples_per_block));
  }
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

// sums[o] += Σ over sample's plane o of y, in eight interleaved partial
// sums (a fixed order, so deterministic; independent adds, so they vectorize
// and do not wait on each other).
template <class T>
void add_plane_sums(const FusedShape& s, const T* y, T* sums) {
  constexpr std::size_t lanes = 8;
  const std::size_t plane = s.pool.oh * s.pool.ow, whole = plane / lanes * lanes;
  for (std::size_t o = 0; o < s.pool.c; ++o) {
    const T* p = y + o * plane;
    T acc[lanes] = {};
    for (std::size_t q = 0; q < whole; q += lanes)
      for (std::size_t l = 0; l < lanes; ++l) acc[l] += p[q + l];
    T total = T(0);
    for (std::size_t l = 0; l < lanes; ++l) total += acc[l];
    for (std::size_t q = whole; q < plane; ++q) total += p[q];
    sums[o] += total;
  }
}

// The per-sample steps, in the shape's column order (window-major when tiled).
template <class T>
class Sample {
 public:
  explicit Sample(const FusedShape& s)
      : s_(s), o_(s.conv.o), ckk_(s.conv.ckk()), p_(s.conv.out_plane()), q_(s.pool.oh * s.pool.ow) {}

  std::size_t cols_size() const { return ckk_ * p_; }
  // Planes of z (or z̄) made at a time by convolve_and_pool and
  // scattered_weight_product, and the scratch they need.
  std::size_t block_planes() const { return s_.tiled() ? std::min(o_, planes_per_block) : o_; }
  std::size_t block_size() const { return block_planes() * p_; }

  // y, ch = the pooling of W cols + bias[o] (bias may be null); z is scratch
  // of block_size().
  void convolve_and_pool(const T* w, const T* cols, const T* bias, T* z, T* y, Choice* ch) const {
    if (!s_.tiled()) {
      product(w, cols, T(0), z);
      return pool(z, bias, y, ch);
    }
    for (std::size_t o = 0; o < o_; o += block_planes()) {
      const std::size_t planes = std::min(block_planes(), o_ - o);
      blas::gemm(blas::Op::none, blas::Op::none, planes, p_, ckk_, T(1), w + o * ckk_, ckk_, cols, p_, T(0), z, p_);
      pool_window_runs(z, bias ? bias + o : nullptr, planes, q_, y + o * q_, ch + o * q_);
    }
  }
  // W̄ += z̄ colsᵀ with z̄ = the scatter of the pooled u, made in zbar (scratch
  // of block_size()) a block of planes at a time.
  void scattered_weight_product(const Choice* ch, const T* u, const T* cols, T* zbar, T* wbar) const {
    if (!s_.tiled()) {
      scatter(ch, u, zbar);
      return weight_product(zbar, cols, wbar);
    }
    for (std::size_t o = 0; o < o_; o += block_planes()) {
      const std::size_t planes = std::min(block_planes(), o_ - o);
      scatter_window_runs(ch + o * q_, u + o * q_, planes, q_, zbar);
      blas::gemm(blas::Op::none, blas::Op::transpose, planes, ckk_, p_, T(1), zbar, p_, cols, p_, T(1),
                 wbar + o * ckk_, ckk_);
    }
  }

  // cols = the unfolded input of one sample.
  void unfold(const T* x, T* cols) const {
    if (s_.tiled())
      im2col_windowed(s_.conv, x, cols);
    else
      im2col(s_.conv, x, cols);
  }
  // z = W cols + beta z.
  void product(const T* w, const T* cols, T beta, T* z) const {
    blas::gemm(blas::Op::none, blas::Op::none, o_, p_, ckk_, T(1), w, ckk_, cols, p_, beta, z, p_);
  }
  // W̄ += z̄ colsᵀ.
  void weight_product(const T* zbar, const T* cols, T* wbar) const {
    blas::gemm(blas::Op::none, blas::Op::transpose, o_, ckk_, p_, T(1), zbar, p_, cols, p_, T(1), wbar, ckk_);
  }
  // x̄ += fold(W₁ᵀ z̄₁ + W₂ᵀ z̄₂), the second term when w2 is given; cols is scratch.
  void input_product(const T* w1, const T* z1, const T* w2, const T* z2, T* cols, T* xbar) const {
    blas::gemm(blas::Op::transpose, blas::Op::none, ckk_, p_, o_, T(1), w1, ckk_, z1, p_, T(0), cols, p_);
    if (w2) blas::gemm(blas::Op::transpose, blas::Op::none, ckk_, p_, o_, T(1), w2, ckk_, z2, p_, T(1), cols, p_);
    if (s_.tiled())
      col2im_windowed_add(s_.conv, cols, xbar);
    else
      col2im_add(s_.conv, cols, xbar);
  }
  // y, ch = the pooling of z + bias[o] (bias may be null). The bias is added
  // before the comparison, as conv2d then max_pool2d would: the same values
  // and the same choices.
  void pool(const T* z, const T* bias, T* y, Choice* ch) const {
    if (!s_.tiled()) {
      if (bias) return max_pool(s_.pool, z, [bias](std::size_t o, T v) { return v + bias[o]; }, y, ch);
      return max_pool(s_.pool, z, [](std::size_t, T v) { return v; }, y, ch);
    }
    pool_window_runs(z, bias, o_, q_, y, ch);
  }
  // z̄ = the pooled v at the chosen positions, zeros elsewhere (all written).
  void scatter(const Choice* ch, const T* v, T* zbar) const {
    if (!s_.tiled()) return max_pool_scatter(s_.pool, ch, v, zbar, true);
    scatter_window_runs(ch, v, o_, q_, zbar);
  }
  // out = z at the chosen positions.
  void gather(const Choice* ch, const T* z, T* out) const {
    if (!s_.tiled()) return max_pool_gather(s_.pool, ch, z, out);
    gather_window_runs(ch, z, o_, q_, out);
  }

 private:
  const FusedShape& s_;
  std::size_t o_, ckk_, p_, q_;
};

}  // namespace

template <class T>
class Conv2dMaxPool2dOp final : public ad::Op<T> {
 public:
  // cols_x: every sample's unfolded input, kept from the forward pass when
  // it is no larger than the convolution's output (C·k·k ≤ O, as in a first
  // layer), or empty: the rules then unfold x again where they need it.
  // Inputs: x, W and, with a bias, b, all read in place.
  Conv2dMaxPool2dOp(FusedShape s, PooledActivation a, Choices choice, Scratch<T> cols_x)
      : s_(s), a_(a), choice_(std::move(choice)), cols_x_(std::move(cols_x)) {}

  std::string_view name() const override {
    switch (a_) {
      case PooledActivation::tanh: return "conv2d_max_pool2d_tanh";
      case PooledActivation::relu: return "conv2d_max_pool2d_relu";
      default: return "conv2d_max_pool2d";
    }
  }

  // ẏ = a'·(gather(conv(ẋ, W) + conv(x, Ẇ)) + ḃ).
  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    const T* x = c.input_data(0);
    const T* xdot = c.has_tangent(0) ? c.input_tangent_data(0) : nullptr;
    const T* w = c.input_data(1);
    const T* wdot = c.has_tangent(1) ? c.input_tangent_data(1) : nullptr;
    const T* bdot = has_bias(c) && c.has_tangent(2) ? c.input_tangent_data(2) : nullptr;
    const Sample<T> k(s_);
    for_each_block(s_, [&](std::size_t, std::size_t first, std::size_t end) {
      Scratch<T> z(s_.conv_out()), cols(k.cols_size());
      for (std::size_t n = first; n < end; ++n) {
        const std::size_t in = n * s_.conv.in_sample();
        if (xdot) {
          k.unfold(xdot + in, cols.data());
          k.product(w, cols.data(), T(0), z.data());
        }
        if (wdot) k.product(wdot, cols_of_x(k, n, x + in, cols), xdot ? T(1) : T(0), z.data());
        if (!xdot && !wdot) std::fill(z.begin(), z.end(), T(0));
        T* out = t.data() + n * s_.pooled();
        k.gather(choices(n), z.data(), out);
        if (bdot) add_bias(bdot, out);
        if (a_ != PooledActivation::identity) activation_slope(a_, outputs(c, n), out, out, s_.pooled());
      }
    });
    return t;
  }

  void adjoint(ad::OpContext<T>& c) const override {
    const T* ybar = c.adjoint().data();
    T* xbar = c.needs_adjoint(0) ? c.input_adjoint_data(0) : nullptr;
    T* wbar = c.needs_adjoint(1) ? c.input_adjoint_data(1) : nullptr;
    T* bbar = has_bias(c) && c.needs_adjoint(2) ? c.input_adjoint_data(2) : nullptr;
    const T* x = c.input_data(0);
    const T* w = c.input_data(1);
    const Sample<T> k(s_);
    BlockSums<T> wsum(s_, wbar ? s_.conv.o * s_.conv.ckk() : 0), bsum(s_, bbar ? s_.conv.o : 0);
    for_each_block(s_, [&](std::size_t b, std::size_t first, std::size_t end) {
      // Whole z̄ when x̄ needs it, else (W̄ alone) a block of planes at a time.
      Scratch<T> zbar(xbar ? s_.conv_out() : (wbar ? k.block_size() : 0)), cols(xbar || wbar ? k.cols_size() : 0);
      Scratch<T> ubar(activated() ? s_.pooled() : 0);
      for (std::size_t n = first; n < end; ++n) {
        const std::size_t in = n * s_.conv.in_sample();
        // ū = a'·ȳ: the adjoint of the pooled (pre-activation) value.
        const T* ybar_n = ybar + n * s_.pooled();
        if (activated()) activation_slope(a_, outputs(c, n), ybar_n, ubar.data(), s_.pooled());
        const T* ubar_n = activated() ? ubar.data() : ybar_n;
        if (bbar) add_plane_sums(s_, ubar_n, bsum.block(b));
        if (xbar) {
          k.scatter(choices(n), ubar_n, zbar.data());
          if (wbar) k.weight_product(zbar.data(), cols_of_x(k, n, x + in, cols), wsum.block(b));
          k.input_product(w, zbar.data(), nullptr, nullptr, cols.data(), xbar + in);
        } else if (wbar) {
          k.scattered_weight_product(choices(n), ubar_n, cols_of_x(k, n, x + in, cols), zbar.data(), wsum.block(b));
        }
      }
    });
    if (wbar) wsum.add_into(wbar);
    if (bbar) bsum.add_into(bbar);
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const T* ybar = c.adjoint().data();
    const T* ydot_bar = c.has_adjoint_tangent() ? c.adjoint_tangent().data() : nullptr;
    // The activation's curvature term a''·u̇·ȳ of ū̇ needs the op's output tangent.
    const T* ydot = curved(a_) && c.has_output_tangent() ? c.output_tangent().data() : nullptr;
    const bool has_udot_bar = ydot_bar || ydot;
    const T* x = c.input_data(0);
    const T* xdot = c.has_tangent(0) ? c.input_tangent_data(0) : nullptr;
    const T* w = c.input_data(1);
    const T* wdot = c.has_tangent(1) ? c.input_tangent_data(1) : nullptr;
    // Which terms exist: x̄̇ needs ū̇ or Ẇ, W̄̇ needs ū̇ or ẋ, b̄̇ needs ū̇.
    T* xbar_dot = c.needs_adjoint(0) && (has_udot_bar || wdot) ? c.input_adjoint_tangent_data(0) : nullptr;
    T* wbar_dot = c.needs_adjoint(1) && (has_udot_bar || xdot) ? c.input_adjoint_tangent_data(1) : nullptr;
    T* bbar_dot = has_bias(c) && c.needs_adjoint(2) && has_udot_bar ? c.input_adjoint_tangent_data(2) : nullptr;
    if (!xbar_dot && !wbar_dot && !bbar_dot) return;
    // ū is needed for Ẇᵀ z̄ in x̄̇ and for z̄ cols(ẋ)ᵀ in W̄̇. x̄̇ takes whole
    // scattered planes (z̄, ż̄); W̄̇ alone scatters a block of planes at a time.
    const bool need_ubar = (xbar_dot && wdot) || (wbar_dot && xdot);
    const bool whole = xbar_dot != nullptr;
    const Sample<T> k(s_);
    BlockSums<T> wsum(s_, wbar_dot ? s_.conv.o * s_.conv.ckk() : 0), bsum(s_, bbar_dot ? s_.conv.o : 0);
    for_each_block(s_, [&](std::size_t b, std::size_t first, std::size_t end) {
      Scratch<T> zbar(whole && need_ubar ? s_.conv_out() : 0), zdot_bar(whole && has_udot_bar ? s_.conv_out() : 0);
      Scratch<T> block(!whole && wbar_dot ? k.block_size() : 0);
      Scratch<T> cols(xbar_dot || wbar_dot ? k.cols_size() : 0);
      Scratch<T> ubar(activated() && need_ubar ? s_.pooled() : 0);
      Scratch<T> udot_bar(activated() && has_udot_bar ? s_.pooled() : 0);
      for (std::size_t n = first; n < end; ++n) {
        const std::size_t in = n * s_.conv.in_sample(), out = n * s_.pooled();
        // ū = a'·ȳ and ū̇ = a'·ȳ̇ + a''·u̇·ȳ, the pooled (pre-activation) adjoint and its tangent.
        const T* ubar_n = ybar + out;
        const T* udot_bar_n = ydot_bar ? ydot_bar + out : nullptr;
        if (activated()) {
          if (need_ubar) activation_slope(a_, outputs(c, n), ybar + out, ubar.data(), s_.pooled());
          if (has_udot_bar) pooled_adjoint_tangent(c, n, ybar + out, ydot_bar ? ydot_bar + out : nullptr,
                                                   ydot ? ydot + out : nullptr, udot_bar.data());
          ubar_n = ubar.data();
          udot_bar_n = udot_bar.data();
        }
        if (bbar_dot) add_plane_sums(s_, udot_bar_n, bsum.block(b));
        if (whole && need_ubar) k.scatter(choices(n), ubar_n, zbar.data());
        if (whole && has_udot_bar) k.scatter(choices(n), udot_bar_n, zdot_bar.data());
        // W̄ += z̄(u) c̄ᵀ from the whole scattered planes or a block at a time.
        auto weight_product = [&](const T* u, const T* scattered, const T* c_n) {
          if (whole)
            k.weight_product(scattered, c_n, wsum.block(b));
          else
            k.scattered_weight_product(choices(n), u, c_n, block.data(), wsum.block(b));
        };
        if (wbar_dot) {
          // W̄̇ += ż̄ cols(x)ᵀ + z̄ cols(ẋ)ᵀ, either term possibly absent.
          if (has_udot_bar) weight_product(udot_bar_n, zdot_bar.data(), cols_of_x(k, n, x + in, cols));
          if (xdot) {
            k.unfold(xdot + in, cols.data());
            weight_product(ubar_n, zbar.data(), cols.data());
          }
        }
        if (xbar_dot) {
          // x̄̇ += fold(Wᵀ ż̄ + Ẇᵀ z̄), either term possibly absent.
          if (has_udot_bar)
            k.input_product(w, zdot_bar.data(), wdot, wdot ? zbar.data() : nullptr, cols.data(), xbar_dot + in);
          else
            k.input_product(wdot, zbar.data(), nullptr, nullptr, cols.data(), xbar_dot + in);
        }
      }
    });
    if (wbar_dot) wsum.add_into(wbar_dot);
    if (bbar_dot) bsum.add_into(bbar_dot);
  }

 private:
  const Choice* choices(std::size_t n) const { return choice_.data() + n * s_.pooled(); }
  bool activated() const { return a_ != PooledActivation::identity; }
  // Sample n's outputs y = a(u).
  const T* outputs(const ad::OpContext<T>& c, std::size_t n) const { return c.output().data() + n * s_.pooled(); }

  // ū̇ = a'·ȳ̇ + a''·u̇·ȳ for sample n (ȳ̇ or ẏ may be absent: their terms are 0).
  void pooled_adjoint_tangent(const ad::OpContext<T>& c, std::size_t n, const T* ybar, const T* ydot_bar,
                              const T* ydot, T* udot_bar) const {
    const T* y = outputs(c, n);
    const std::size_t count = s_.pooled();
    if (ydot_bar)
      activation_slope(a_, y, ydot_bar, udot_bar, count);
    else
      std::fill(udot_bar, udot_bar + count, T(0));
    if (ydot) add_activation_curvature(a_, y, ydot, ybar, udot_bar, count);
  }

  // Sample n's unfolded input: kept from the forward pass, or unfolded into scratch.
  const T* cols_of_x(const Sample<T>& k, std::size_t n, const T* x_n, Scratch<T>& scratch) const {
    if (!cols_x_.empty()) return cols_x_.data() + n * k.cols_size();
    k.unfold(x_n, scratch.data());
    return scratch.data();
  }

  // out[o, :] += b[o] over one sample's planes.
  void add_bias(const T* b, T* out) const {
    const std::size_t plane = s_.pool.oh * s_.pool.ow;
    for (std::size_t o = 0; o < s_.pool.c; ++o)
      for (std::size_t q = 0; q < plane; ++q) out[o * plane + q] += b[o];
  }

  static bool has_bias(const ad::OpContext<T>& c) { return c.arity() == 3; }

  FusedShape s_;
  PooledActivation a_;
  Choices choice_;
  Scratch<T> cols_x_;
};

template <class T>
ad::Var<T> conv2d_max_pool2d_record(const ConvShape& s, const Pool2dGeometry& pool,
                                    std::initializer_list<ad::Var<T>> inputs, PooledActivation activation) {
  if (s.groups != 1)
    throw std::invalid_argument("curv::nn::ops::conv2d_max_pool2d: groups = " + std::to_string(s.groups) +
                                ", expected 1 (the fused op has one gemm per sample; use conv2d then max_pool2d)");
  ConvShape one = s;
  one.n = 1;
  const PoolShape p = pool_shape("conv2d_max_pool2d", Shape{1, s.o, s.oh, s.ow}, pool);
  const FusedShape f{one, p, s.n};
  const ad::Var<T>& x = inputs.begin()[0];
  const T* xv = x.data();
  const T* wv = inputs.begin()[1].data();
  const T* bv = inputs.size() == 3 ? inputs.begin()[2].data() : nullptr;
  Tensor<T> y = Tensor<T>::from_shape({s.n, p.c, p.oh, p.ow});
  Choices choice(s.n * f.pooled());
  const Sample<T> k(f);
  Scratch<T> cols_x(s.ckk() <= s.o ? s.n * k.cols_size() : 0);
  for_each_block(f, [&](std::size_t, std::size_t first, std::size_t end) {
    Scratch<T> z(k.block_size()), scratch(cols_x.empty() ? k.cols_size() : 0);
    for (std::size_t n = first; n < end; ++n) {
      T* cols = cols_x.empty() ? scratch.data() : cols_x.data() + n * k.cols_size();
      k.unfold(xv + n * s.in_sample(), cols);
      T* y_n = y.data() + n * f.pooled();
      k.convolve_and_pool(wv, cols, bv, z.data(), y_n, choice.data() + n * f.pooled());
      activate(activation, y_n, f.pooled());
    }
  });
  return x.tape().record(
      std::make_unique<Conv2dMaxPool2dOp<T>>(f, activation, std::move(choice), std::move(cols_x)), inputs,
      std::move(y));
}

template ad::Var<float> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&,
                                                 std::initializer_list<ad::Var<float>>, PooledActivation);
template ad::Var<double> conv2d_max_pool2d_record(const ConvShape&, const Pool2dGeometry&,
                                                  std::initializer_list<ad::Var<double>>, PooledActivation);

}  // namespace detail

}  // namespace curv::nn::ops
