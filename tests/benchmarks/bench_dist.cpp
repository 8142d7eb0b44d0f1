// One SCG iteration's passes over the full MNIST training set — the
// accumulated gradient + exact H·v (hvp) and the gradient at the new point
// (value_and_grad), what an SCG iteration costs — with the article CNN in
// float32 at batch 256, each rank over its contiguous shard of the 60,000
// images (read by read_idx_dataset over its rows) and the totals summed
// across ranks (curv::dist). Run alone (1 rank × the TBB threads), or under
// mpirun (docs/distributed.md):
//   bench_dist                                   1 rank × 2 threads
//   CURV_BENCH_THREADS=1 mpirun -np 2 bench_dist 2 ranks × 1 thread
// Counters: the time this rank spent in the sums (waiting for the slowest
// rank included) and the bytes it sent, per iteration. Only rank 0 reports.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/dist.hpp"
#include "curv/nn.hpp"

namespace {

namespace fs = std::filesystem;
using namespace curv;

const dist::Communicator* world = nullptr;  // set by main

fs::path mnist_dir() {
  if (const char* dir = std::getenv("CURV_MNIST_DIR")) return dir;
  return fs::path(CURV_DATA_DIR) / "mnist-full";
}

void BM_ScgIterationPasses(benchmark::State& state) {
  const fs::path dir = mnist_dir();
  const fs::path images = datasets::find_idx_file(dir, "train-images-idx3-ubyte");
  const fs::path labels = datasets::find_idx_file(dir, "train-labels-idx1-ubyte");
  const std::size_t n = datasets::read_idx_dims(images, 3)[0];
  const dist::Range mine = dist::shard(n, world->rank(), world->size());
  std::vector<std::size_t> rows(mine.size());
  std::iota(rows.begin(), rows.end(), mine.begin);
  const datasets::TensorDataset<float> data = datasets::read_idx_dataset<float>(images, labels, rows);
  const nn::Sequential<float> model = nn::models::article_cnn<float>();
  const nn::SoftmaxCrossEntropy<float> loss;
  const char* threads = std::getenv("CURV_BENCH_THREADS");
  datasets::AccumulatorOptions options;
  options.batch_size = 256;
  options.threads = threads ? std::atoi(threads) : 0;
  options.reduce = world->reducer();
  options.first_row = mine.begin;
  const datasets::Accumulator<float> acc(model, loss, data, options);
  const Tensor<float> w = model.initialize(1);
  const Tensor<float> v = model.initialize(2);
  Tensor<float> g, hv;
  const dist::Communicator::Traffic before = world->traffic();
  for (auto _ : state) {
    acc.hvp(w, v, g, hv);
    acc.value_and_grad(w, g);
    benchmark::DoNotOptimize(g.data());
  }
  const dist::Communicator::Traffic after = world->traffic();
  const double iterations = static_cast<double>(state.iterations());
  state.counters["ranks"] = world->size();
  state.counters["threads_per_rank"] = acc.threads();
  state.counters["examples_per_rank"] = static_cast<double>(mine.size());
  state.counters["sum_seconds"] = (after.seconds - before.seconds) / iterations;
  state.counters["MB_sent"] = static_cast<double>(after.bytes_sent - before.bytes_sent) / iterations / 1e6;
}
BENCHMARK(BM_ScgIterationPasses)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(3);

// Rank 0's report only.
class Silent : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  dist::Session session(argc, argv);
  world = &session.world();
  benchmark::Initialize(&argc, argv);
  if (world->is_root()) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    Silent silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  benchmark::Shutdown();
  return 0;
}
