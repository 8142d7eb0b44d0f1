// The article's CNN (batch 256) in float32 and float64: forward,
// value_and_grad, hvp and the Gauss–Newton product, per sample and in GFLOP/s
// of the convolution and linear GEMMs, against the machine's GEMM peak
// measured in this program (a large sgemm / dgemm). Figures: docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "curv/nn.hpp"

namespace {

using namespace curv;

constexpr std::size_t batch = 256;

// GEMM FLOPs per sample of the article CNN (k = 3): conv 2·32·9·784,
// fc1 2·6272·100, fc2 2·100·10 for one product of each layer.
constexpr double conv = 2.0 * 32 * 9 * 784, fc1 = 2.0 * 6272 * 100, fc2 = 2.0 * 100 * 10;
// forward: each layer once. value_and_grad adds W̄ of conv (x̄ of the data
// input is not needed) and x̄, W̄ of both linears. hvp: forward, tangents
// (x Ẇ for conv; ẋW + xẆ for linears), adjoints as above, and adjoint tangents
// (conv W̄̇ once; linears x̄̇ and W̄̇ twice each). Gauss–Newton: tangents as hvp,
// and one adjoint sweep carrying two seeds (the adjoint-tangent products of
// the sweep repeat the adjoint's).
constexpr double flops_forward = conv + fc1 + fc2;
constexpr double flops_grad = flops_forward + conv + 2 * fc1 + 2 * fc2;
constexpr double flops_hvp = flops_forward + (conv + 2 * fc1 + 2 * fc2) * 2 + (conv + 4 * fc1 + 4 * fc2);
constexpr double flops_gn = flops_forward + (conv + 2 * fc1 + 2 * fc2) * 3;

// GFLOP/s of an n×n×n gemm, measured once per type: the median of 7 runs both
// as curv runs it (split over TBB's threads) and by OpenBLAS's own threads
// (one per core), whichever median is higher. A median, like the network's
// times it is compared with: on a shared machine the best of many runs is an
// outlier that grows with their number.
template <class T>
double gemm_peak_gflops() {
  static const double peak = [] {
    constexpr std::size_t n = 2048;
    std::vector<T> a(n * n, T(0.5)), b(n * n, T(0.25)), c(n * n);
    double best = 0;
    const int curv_threads = blas::num_threads();
    for (const int openblas_threads : {curv_threads, static_cast<int>(std::thread::hardware_concurrency())}) {
      blas::set_num_threads(std::max(1, openblas_threads));
      std::vector<double> runs;
      for (int run = 0; run < 7; ++run) {
        const auto start = std::chrono::steady_clock::now();
        blas::gemm(blas::Op::none, blas::Op::none, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        runs.push_back(2.0 * n * n * n / s / 1e9);
      }
      std::sort(runs.begin(), runs.end());
      best = std::max(best, runs[runs.size() / 2]);
    }
    blas::set_num_threads(curv_threads);
    return best;
  }();
  return peak;
}

template <class T>
void BM_GemmPeak(benchmark::State& state) {
  constexpr std::size_t n = 2048;
  std::vector<T> a(n * n, T(0.5)), b(n * n, T(0.25)), c(n * n);
  for (auto _ : state) {
    blas::gemm(blas::Op::none, blas::Op::none, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GFLOP/s"] = gemm_peak_gflops<T>();
}

template <class T>
struct Setup {
  // The article's CNN as the Accumulator runs it (nn::fuse: Conv2d → MaxPool2d
  // → Tanh as one op), and as written (each layer its own op).
  std::shared_ptr<const nn::Sequential<T>> layers = std::make_shared<const nn::Sequential<T>>(nn::models::article_cnn<T>());
  std::shared_ptr<const nn::Module<T>> net = nn::fuse<T>(layers);
  nn::SoftmaxCrossEntropy<T> loss;
  Tensor<T> w = net->initialize(1);
  Tensor<T> x, t, v;
  Setup() {
    std::mt19937_64 rng(2);
    x = Tensor<T>::from_shape({batch, 1, 28, 28});
    for (T& e : x) e = static_cast<T>(nn::uniform01(rng));
    t = Tensor<T>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i) t(i) = static_cast<T>(i % 10);
    v = Tensor<T>::from_shape(w.shape());
    for (T& e : v) e = static_cast<T>(nn::standard_normal(rng));
  }
  // The batch's loss as a function of w, through `model`.
  auto objective(const nn::Module<T>& model) const {
    return [this, &model](const ad::Var<T>& p) { return loss(model.forward(p, p.tape().constant(x)), t); };
  }
};

template <class T>
void report(benchmark::State& state, double flops_per_sample) {
  const double samples = static_cast<double>(batch);
  state.counters["per_sample"] =
      benchmark::Counter(samples, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["GFLOP/s"] =
      benchmark::Counter(samples * flops_per_sample / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GFLOP/s"] = gemm_peak_gflops<T>();
}

template <class T>
void BM_CnnForward(benchmark::State& state) {
  Setup<T> s;
  for (auto _ : state) {
    ad::Tape<T> tape;
    const ad::Var<T> l = s.loss(s.net->forward(tape.constant(s.w), tape.constant(s.x)), s.t);
    benchmark::DoNotOptimize(l.value().data());
  }
  report<T>(state, flops_forward);
}

template <class T>
void BM_CnnValueAndGrad(benchmark::State& state) {
  Setup<T> s;
  const auto f = s.objective(*s.net);
  for (auto _ : state) benchmark::DoNotOptimize(ad::value_and_grad(f, s.w).grad.data());
  report<T>(state, flops_grad);
}

// The same without nn::fuse: what fusion buys.
template <class T>
void BM_CnnValueAndGradUnfused(benchmark::State& state) {
  Setup<T> s;
  const auto f = s.objective(*s.layers);
  for (auto _ : state) benchmark::DoNotOptimize(ad::value_and_grad(f, s.w).grad.data());
  report<T>(state, flops_grad);
}

template <class T>
void BM_CnnHvp(benchmark::State& state) {
  Setup<T> s;
  const auto f = s.objective(*s.net);
  for (auto _ : state) benchmark::DoNotOptimize(ad::hvp(f, s.w, s.v).hv.data());
  report<T>(state, flops_hvp);
}

template <class T>
void BM_CnnGaussNewton(benchmark::State& state) {
  Setup<T> s;
  for (auto _ : state) benchmark::DoNotOptimize(nn::gauss_newton_product(*s.net, s.loss, s.w, s.x, s.t, s.v).gv.data());
  report<T>(state, flops_gn);
}

// value_and_grad and the GEMM peak measured alternately, pair by pair: on a
// shared machine the speed of both moves by 30 % from minute to minute, and
// a peak from another moment than the workload's makes their ratio noise.
// Each iteration runs value_and_grad twice and times the second (the
// reported time; the first brings the network back into the caches), then
// times a 2048³ gemm as curv runs it and one by OpenBLAS's own threads, the
// faster being the pair's peak; percent_of_peak is the median over the pairs
// of the ratio of their GFLOP/s.
template <class T>
void BM_CnnValueAndGradPairedWithPeak(benchmark::State& state) {
  Setup<T> s;
  const auto f = s.objective(*s.net);
  constexpr std::size_t n = 2048;
  std::vector<T> a(n * n, T(0.5)), b(n * n, T(0.25)), c(n * n);
  auto seconds = [](auto start) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::vector<double> ratios, peaks;
  const int curv_threads = blas::num_threads(), cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (auto _ : state) {
    benchmark::DoNotOptimize(ad::value_and_grad(f, s.w).grad.data());
    auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(ad::value_and_grad(f, s.w).grad.data());
    const double workload = seconds(start);
    state.SetIterationTime(workload);
    double peak = 0;
    for (const int openblas_threads : {curv_threads, cores}) {
      blas::set_num_threads(openblas_threads);
      start = std::chrono::steady_clock::now();
      blas::gemm(blas::Op::none, blas::Op::none, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
      peak = std::max(peak, 2.0 * n * n * n / seconds(start));
    }
    blas::set_num_threads(curv_threads);
    peaks.push_back(peak / 1e9);
    ratios.push_back(static_cast<double>(batch) * flops_grad / workload / peak);
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(peaks.begin(), peaks.end());
  state.counters["percent_of_peak"] = ratios.empty() ? 0.0 : 100.0 * ratios[ratios.size() / 2];
  state.counters["peak_GFLOP/s"] = peaks.empty() ? 0.0 : peaks[peaks.size() / 2];
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(batch) * flops_grad / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The Tanh layer alone on a tensor the size of the article CNN's pooled
// convolution output (256 × 32 × 14 × 14): value_and_grad and hvp of Σ tanh(x)
// with respect to x, i.e. the tanh op's value, adjoint, tangent and curvature
// loops and little else.
template <class T>
struct TanhSetup {
  nn::Tanh<T> layer;
  Tensor<T> none = Tensor<T>::from_shape({0});
  Tensor<T> x = Tensor<T>::from_shape({batch, 32, 14, 14}), v = Tensor<T>::from_shape({batch, 32, 14, 14});
  TanhSetup() {
    std::mt19937_64 rng(3);
    for (T& e : x) e = static_cast<T>(3 * nn::standard_normal(rng));
    for (T& e : v) e = static_cast<T>(nn::standard_normal(rng));
  }
  ad::Var<T> operator()(const ad::Var<T>& x) const { return ad::sum(layer.forward(x.tape().constant(none), x)); }
};

template <class T>
void BM_TanhValueAndGrad(benchmark::State& state) {
  TanhSetup<T> s;
  for (auto _ : state) benchmark::DoNotOptimize(ad::value_and_grad(s, s.x).grad.data());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.x.size()));
}

template <class T>
void BM_TanhHvp(benchmark::State& state) {
  TanhSetup<T> s;
  for (auto _ : state) benchmark::DoNotOptimize(ad::hvp(s, s.x, s.v).hv.data());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.x.size()));
}

// Dropout's mask for a batch as wide as the article CNN's pooled features
// (256 × 6272): one splitmix64 hash per element, what training with a
// Dropout there adds to a forward pass besides one multiplication.
template <class T>
void BM_DropoutMask(benchmark::State& state) {
  const nn::Dropout<T> drop(0.5);
  nn::ForwardContext context;
  context.mode = nn::Mode::train;
  context.seed = 1;
  const Shape shape{batch, 6272};
  for (auto _ : state) benchmark::DoNotOptimize(drop.mask(shape, context).data());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch * 6272));
}

BENCHMARK_TEMPLATE(BM_GemmPeak, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_GemmPeak, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnForward, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnValueAndGrad, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnValueAndGradUnfused, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnHvp, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnGaussNewton, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnValueAndGradPairedWithPeak, float)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(41);
BENCHMARK_TEMPLATE(BM_CnnForward, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnValueAndGrad, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnHvp, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnGaussNewton, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_TanhValueAndGrad, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_TanhHvp, float)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_TanhValueAndGrad, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_TanhHvp, double)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_DropoutMask, float)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
