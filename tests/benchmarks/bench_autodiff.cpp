// The cost of exact second order: value_and_grad and hvp of an MLP
// 784-256-256-10 (tanh, softmax cross-entropy) on a batch of 256, with the
// parameters one flat vector sliced and reshaped into the layers, as curv
// models and optimizers hold them. Target: hvp ≤ 3 × value_and_grad.
//
// BM_Ratio times the two alternately in one loop, so that a shared machine's
// load affects both alike, and reports hvp / value_and_grad as a counter,
// measured in this thread's CPU time (everything runs on it here): on a
// loaded machine wall time mostly measures the other processes.
#include <benchmark/benchmark.h>

#include <oneapi/tbb/global_control.h>

#include <ctime>
#include <random>

#include <xtensor/xrandom.hpp>

#include "curv/autodiff.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
namespace ad = curv::ad;

constexpr std::size_t batch = 256, n_in = 784, n_hidden = 256, n_out = 10;

template <class T>
struct Mlp {
  Tensor<T> inputs, onehot, w, v;

  Mlp() {
    xt::random::seed(1);
    inputs = xt::cast<T>(xt::random::randn<double>({batch, n_in}));
    onehot = xt::zeros<T>({batch, n_out});
    std::mt19937 rng(2);
    for (std::size_t i = 0; i < batch; ++i) onehot(i, rng() % n_out) = T(1);
    const std::size_t n = n_in * n_hidden + n_hidden + n_hidden * n_hidden + n_hidden + n_hidden * n_out + n_out;
    w = xt::cast<T>(0.05 * xt::random::randn<double>({n}));
    v = xt::cast<T>(xt::random::randn<double>({n}));
  }

  // Weights (fan_in × fan_out) then bias, layer after layer, from offset `at`.
  static Var<T> layer(const Var<T>& w, const Var<T>& x, std::size_t fan_in, std::size_t fan_out,
                      std::size_t& at) {
    const Var<T> weights = ad::reshape(ad::slice(w, at, at + fan_in * fan_out), {fan_in, fan_out});
    at += fan_in * fan_out;
    const Var<T> bias = ad::slice(w, at, at + fan_out);
    at += fan_out;
    return ad::matmul(x, weights) + bias;
  }

  Var<T> loss(const Var<T>& w) const {
    std::size_t at = 0;
    const Var<T> x = w.tape().constant(inputs);
    const Var<T> h1 = ad::tanh(layer(w, x, n_in, n_hidden, at));
    const Var<T> h2 = ad::tanh(layer(w, h1, n_hidden, n_hidden, at));
    const Var<T> logits = layer(w, h2, n_hidden, n_out, at);
    return -ad::sum(ad::log_softmax(logits, 1) * onehot) / T(batch);
  }
};

template <class T>
const Mlp<T>& problem() {
  static const Mlp<T> p;
  return p;
}

// One thread for everything, BLAS included (curv splits large products over
// TBB's threads): this thread's CPU time is then the whole work, and the
// ratio is what is measured on a shared machine.
void single_threaded_blas() {
  static const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  curv::blas::set_num_threads(1);
}

template <class T>
void BM_ValueAndGrad(benchmark::State& state) {
  single_threaded_blas();
  const Mlp<T>& p = problem<T>();
  auto f = [&](const Var<T>& w) { return p.loss(w); };
  for (auto _ : state) {
    auto r = ad::value_and_grad(f, p.w);
    benchmark::DoNotOptimize(r.grad.data());
  }
}

template <class T>
void BM_Hvp(benchmark::State& state) {
  single_threaded_blas();
  const Mlp<T>& p = problem<T>();
  auto f = [&](const Var<T>& w) { return p.loss(w); };
  for (auto _ : state) {
    auto r = ad::hvp(f, p.w, p.v);
    benchmark::DoNotOptimize(r.hv.data());
  }
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

template <class T>
void BM_Ratio(benchmark::State& state) {
  single_threaded_blas();
  const Mlp<T>& p = problem<T>();
  auto f = [&](const Var<T>& w) { return p.loss(w); };
  double grad_seconds = 0, hvp_seconds = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_seconds();
    auto g = ad::value_and_grad(f, p.w);
    const double t1 = thread_cpu_seconds();
    auto h = ad::hvp(f, p.w, p.v);
    const double t2 = thread_cpu_seconds();
    benchmark::DoNotOptimize(g.grad.data());
    benchmark::DoNotOptimize(h.hv.data());
    grad_seconds += t1 - t0;
    hvp_seconds += t2 - t1;
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["value_and_grad_cpu_ms"] = 1e3 * grad_seconds / n;
  state.counters["hvp_cpu_ms"] = 1e3 * hvp_seconds / n;
  state.counters["hvp_over_grad"] = hvp_seconds / grad_seconds;
}

BENCHMARK(BM_ValueAndGrad<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hvp<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ratio<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValueAndGrad<double>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hvp<double>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ratio<double>)->Unit(benchmark::kMillisecond);

}  // namespace
