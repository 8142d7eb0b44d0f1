// The Accumulator over the 10,000 real MNIST digits (data/mnist-small, both files:
// scripts/fetch-data.sh) with the article CNN: seconds per full pass of the
// accumulated gradient and of the accumulated gradient + H·v, at batch sizes
// 32, 256, 1024 and −1 (the whole set at once), float32 and float64, on all
// cores. Counters: peak resident memory of the process (VmHWM), its resident
// memory before the first pass (VmRSS) and the
// dataset's bytes. CURV_BENCH_THREADS=k limits the accumulator to k threads.
// VmHWM only grows, so measure one configuration per process:
//   for f in float double; do for b in 32 256 1024 -1; do for k in Grad Hvp; do
//     build/release/tests/benchmarks/bench_datasets --benchmark_filter="BM_Accumulated${k}<${f}>/${b}/"
//   done; done; done
// BM_Predict and BM_AccumulatedValue compare inference (datasets::predict, the
// CNN's outputs for every digit) with the forward-only loss pass at batch 256:
//   build/release/tests/benchmarks/bench_datasets --benchmark_filter='BM_(Predict|AccumulatedValue)'
// Figures: docs/performance.md, ## datasets.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "curv/datasets.hpp"
#include "curv/nn.hpp"

namespace {

using namespace curv;
namespace fs = std::filesystem;

fs::path mnist_dir() {
  if (const char* dir = std::getenv("CURV_MNIST_DIR")) return dir;
  return fs::path(CURV_DATA_DIR) / "mnist-small";
}

// A field of /proc/self/status in MiB: VmHWM (peak resident set) or VmRSS (now).
double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0;
}

// CPU seconds used by every thread of this process so far (user + system).
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// All 10,000 digits (train then test files) in one tensor, converted straight
// from the bytes so that no second copy of the dataset is ever held.
template <class T>
const datasets::TensorDataset<T>& digits() {
  static const datasets::TensorDataset<T> data = [] {
    const fs::path dir = mnist_dir();
    std::size_t n = 0;
    for (const char* split : {"train", "t10k"})
      n += datasets::read_idx(datasets::find_idx_file(dir, std::string(split) + "-labels-idx1-ubyte"), 1).dims[0];
    Tensor<T> x = Tensor<T>::from_shape({n, std::size_t(1), std::size_t(28), std::size_t(28)});
    Tensor<T> y = Tensor<T>::from_shape({n});
    std::size_t at = 0;
    for (const char* split : {"train", "t10k"}) {
      const auto images = datasets::read_idx(datasets::find_idx_file(dir, std::string(split) + "-images-idx3-ubyte"), 3);
      const auto labels = datasets::read_idx(datasets::find_idx_file(dir, std::string(split) + "-labels-idx1-ubyte"), 1);
      for (std::size_t i = 0; i < images.data.size(); ++i) x.data()[at * 784 + i] = static_cast<T>(images.data[i]) / T(255);
      for (std::size_t i = 0; i < labels.data.size(); ++i) y.data()[at + i] = static_cast<T>(labels.data[i]);
      at += labels.data.size();
    }
    return datasets::TensorDataset<T>(std::move(x), std::move(y));
  }();
  return data;
}

// CURV_BENCH_THREADS, or 0 (all cores).
int bench_threads() {
  const char* threads = std::getenv("CURV_BENCH_THREADS");
  return threads ? std::atoi(threads) : 0;
}

template <class T, bool with_hvp>
void run(benchmark::State& state) {
  const datasets::TensorDataset<T>& data = digits<T>();
  const nn::Sequential<T> model = nn::models::article_cnn<T>();
  const nn::SoftmaxCrossEntropy<T> loss;
  const Tensor<T> w = model.initialize(1);
  const Tensor<T> v = model.initialize(2);
  const datasets::Accumulator<T> acc(model, loss, data, {.batch_size = state.range(0), .threads = bench_threads()});
  Tensor<T> g, hv;
  double value = 0;
  const double rss_before = status_mib("VmRSS");
  const double cpu_before = process_cpu_seconds();
  for (auto _ : state) {
    value = with_hvp ? acc.hvp(w, v, g, hv) : acc.value_and_grad(w, g);
    benchmark::DoNotOptimize(g.data());
  }
  // Busy machines stretch wall time; CPU time of all threads is steadier.
  state.counters["cpu_s_per_pass"] = (process_cpu_seconds() - cpu_before) / static_cast<double>(state.iterations());
  state.counters["examples"] = static_cast<double>(data.size());
  state.counters["threads"] = acc.threads();
  state.counters["loss"] = value;
  state.counters["dataset_MiB"] = static_cast<double>(data.bytes()) / (1024.0 * 1024.0);
  state.counters["peak_rss_MiB"] = status_mib("VmHWM");
  state.counters["pool_peak_MiB"] = static_cast<double>(buffer_pool_stats().peak_bytes) / (1024.0 * 1024.0);
  // What the process held before the first pass (libraries, dataset, w, v):
  // peak_rss_MiB minus this is what the passes added.
  state.counters["rss_before_MiB"] = rss_before;
}

template <class T>
void BM_AccumulatedGrad(benchmark::State& state) {
  run<T, false>(state);
}

template <class T>
void BM_AccumulatedHvp(benchmark::State& state) {
  run<T, true>(state);
}

#define CURV_BENCH(fn, T)                                                                              \
  BENCHMARK_TEMPLATE(fn, T)->Arg(32)->Arg(256)->Arg(1024)->Arg(-1)->Unit(benchmark::kSecond)->UseRealTime() \
      ->Iterations(1)

// One forward pass over the digits: the mean loss (Accumulator::value) or
// every output row (predict), w a borrowed constant on every tape in both.
template <class T, bool outputs>
void forward_pass(benchmark::State& state) {
  const datasets::TensorDataset<T>& data = digits<T>();
  const nn::Sequential<T> model = nn::models::article_cnn<T>();
  const nn::SoftmaxCrossEntropy<T> loss;
  const Tensor<T> w = model.initialize(1);
  const std::ptrdiff_t batch_size = state.range(0);
  const datasets::Accumulator<T> acc(model, loss, data, {.batch_size = batch_size, .threads = bench_threads()});
  const double cpu_before = process_cpu_seconds();
  for (auto _ : state) {
    if constexpr (outputs) {
      const Tensor<T> y = datasets::predict(model, w, data, {.batch_size = batch_size, .threads = bench_threads()});
      benchmark::DoNotOptimize(y.data());
    } else {
      benchmark::DoNotOptimize(acc.value(w));
    }
  }
  state.counters["cpu_s_per_pass"] = (process_cpu_seconds() - cpu_before) / static_cast<double>(state.iterations());
  state.counters["threads"] = acc.threads();
}

template <class T>
void BM_AccumulatedValue(benchmark::State& state) {
  forward_pass<T, false>(state);
}

template <class T>
void BM_Predict(benchmark::State& state) {
  forward_pass<T, true>(state);
}

CURV_BENCH(BM_AccumulatedGrad, float);
CURV_BENCH(BM_AccumulatedHvp, float);
CURV_BENCH(BM_AccumulatedGrad, double);
CURV_BENCH(BM_AccumulatedHvp, double);

#define CURV_BENCH_FORWARD(fn, T) \
  BENCHMARK_TEMPLATE(fn, T)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0)

CURV_BENCH_FORWARD(BM_AccumulatedValue, float);
CURV_BENCH_FORWARD(BM_Predict, float);
CURV_BENCH_FORWARD(BM_AccumulatedValue, double);
CURV_BENCH_FORWARD(BM_Predict, double);

}  // namespace
