// curv::dist: shards, the rank-ordered sum, and the Accumulator over shards
// against one process holding the whole dataset. Every test runs on every
// rank; alone (one process) the collectives are no-ops and the sharded
// Accumulator must equal the whole one bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/dist.hpp"
#include "curv/nn.hpp"

namespace curv {
namespace {

const dist::Communicator* world = nullptr;  // set by main

std::uint64_t bits_hash(std::span<const double> x) {
  std::uint64_t h = 1469598103934665603ull;
  for (const double v : x) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof v);
    h = (h ^ b) * 1099511628211ull;
  }
  return h;
}

// Every rank holds the same bits (a hash of them, compared in rank order).
void expect_same_on_every_rank(std::span<const double> x) {
  const std::vector<std::uint64_t> all = world->all_gather(bits_hash(x));
  for (std::size_t r = 1; r < all.size(); ++r) EXPECT_EQ(all[r], all[0]) << "rank " << r << " differs from rank 0";
}

TEST(Shard, PartitionsContiguouslyInRankOrder) {
  for (const std::size_t n : {0u, 1u, 2u, 7u, 60000u})
    for (int size = 1; size <= 8; ++size) {
      std::size_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < size; ++r) {
        const dist::Range s = dist::shard(n, r, size);
        EXPECT_EQ(s.begin, next) << "n " << n << " rank " << r << " of " << size;
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - std::min(smallest, largest), 1u) << "n " << n << " over " << size;
    }
  EXPECT_THROW(dist::shard(10, 2, 2), std::invalid_argument);
  EXPECT_THROW(dist::shard(10, 0, 0), std::invalid_argument);
}

// Rank r's values: a mix of magnitudes, so that the order of the sum shows.
std::vector<double> values_of(int rank, std::size_t n) {
  std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(rank));
  std::vector<double> x(n);
  for (double& v : x) v = std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng), static_cast<int>(rng() % 40) - 20);
  return x;
}

TEST(Communicator, SumIsTheRankSumOnEveryRankAndRepeatsBitForBit) {
  const std::size_t n = 1000;
  std::vector<double> x = values_of(world->rank(), n);
  std::vector<double> again = x;
  world->sum(x);
  world->sum(again);
  EXPECT_EQ(bits_hash(x), bits_hash(again)) << "the same sum twice gave different bits";
  expect_same_on_every_rank(x);
  // Against the sum of every rank's values, regenerated here, in rank order
  // (a different association from the tree for 3 ranks or more): rounding only.
  std::vector<double> expected(n, 0.0), magnitude(n, 0.0);
  for (int r = 0; r < world->size(); ++r) {
    const std::vector<double> y = values_of(r, n);
    for (std::size_t i = 0; i < n; ++i) {
      expected[i] += y[i];
      magnitude[i] += std::abs(y[i]);
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_LE(std::abs(x[i] - expected[i]), 4 * 0x1p-52 * magnitude[i]) << "element " << i;
  // Integers sum exactly.
  std::vector<double> counts{static_cast<double>(world->rank() + 1), 1.0};
  world->sum(counts);
  const double k = world->size();
  EXPECT_EQ(counts[0], k * (k + 1) / 2);
  EXPECT_EQ(counts[1], k);
}

TEST(Communicator, CountsWhatASumSends) {
  // A sum of n doubles: the tree sends each rank's partial up once (k − 1
  // messages), the broadcast sends the total down once per rank but the root.
  std::vector<double> x(1000, 1.0);
  const dist::Communicator::Traffic before = world->traffic();
  world->sum(x);
  const std::uint64_t sent = world->traffic().bytes_sent - before.bytes_sent;
  std::uint64_t total = 0;
  for (const std::uint64_t b : world->all_gather(sent)) total += b;
  EXPECT_EQ(total, 2 * static_cast<std::uint64_t>(world->size() - 1) * x.size() * sizeof(double));
}

TEST(Communicator, BroadcastsRootsBytes) {
  std::vector<double> x(5, static_cast<double>(world->rank()));
  world->broadcast(std::as_writable_bytes(std::span<double>(x)), 0);
  for (const double v : x) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(world->all_gather(static_cast<std::uint64_t>(world->rank())).size(),
            static_cast<std::size_t>(world->size()));
}

// Synthetic MNIST-shaped examples, the same on every rank.
datasets::TensorDataset<double> synthetic(std::size_t n) {
  std::mt19937_64 rng(7);
  Tensor<double> x = Tensor<double>::from_shape({n, 1, 28, 28});
  Tensor<double> y = Tensor<double>::from_shape({n});
  for (double& v : x) v = std::normal_distribution<double>(0, 1)(rng);
  for (double& v : y) v = static_cast<double>(rng() % 10);
  return datasets::TensorDataset<double>(std::move(x), std::move(y));
}

double relative_gap(const Tensor<double>& a, const Tensor<double>& b) {
  double gap = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    gap = std::max(gap, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  return gap / scale;
}

// n synthetic examples, and this rank's contiguous shard of them.
struct Sharded {
  explicit Sharded(std::size_t n)
      : whole(synthetic(n)), mine(dist::shard(n, world->rank(), world->size())), part(datasets::subset(whole, rows())) {}
  std::vector<std::size_t> rows() const {
    std::vector<std::size_t> r(mine.size());
    std::iota(r.begin(), r.end(), mine.begin);
    return r;
  }
  datasets::TensorDataset<double> whole;
  dist::Range mine;
  datasets::TensorDataset<double> part;
};

// This rank's shard of `whole` behind an Accumulator that sums over ranks
// against one Accumulator over `whole`: loss, gradient, H·v, G·v, counts.
void expect_sharded_equals_whole(const nn::Module<double>& model, std::size_t n, std::size_t batch) {
  const Sharded data(n);
  const datasets::TensorDataset<double>& whole = data.whole;
  const datasets::TensorDataset<double>& part = data.part;
  const dist::Range mine = data.mine;
  const nn::SoftmaxCrossEntropy<double> loss;
  datasets::AccumulatorOptions one;
  one.batch_size = static_cast<std::ptrdiff_t>(batch);
  one.threads = 1;
  one.seed = 3;
  datasets::AccumulatorOptions sharded = one;
  sharded.reduce = world->reducer();
  sharded.first_row = mine.begin;
  const datasets::Accumulator<double> reference(model, loss, whole, one);
  const datasets::Accumulator<double> acc(model, loss, part, sharded);

  const Tensor<double> w = model.initialize(11);
  std::mt19937_64 rng(5);
  Tensor<double> v = Tensor<double>::from_shape({w.size()});
  for (double& e : v) e = std::normal_distribution<double>(0, 1)(rng);

  Tensor<double> g0, hv0, g1, hv1, gv0, gv1;
  const double f0 = reference.hvp(w, v, g0, hv0), f1 = acc.hvp(w, v, g1, hv1);
  EXPECT_LE(std::abs(f1 - f0), 1e-13 * std::abs(f0));
  EXPECT_LE(relative_gap(g1, g0), 1e-13);
  EXPECT_LE(relative_gap(hv1, hv0), 1e-13);
  reference.gnvp(w, v, g0, gv0);
  acc.gnvp(w, v, g1, gv1);
  EXPECT_LE(relative_gap(gv1, gv0), 1e-13);
  if (world->size() == 1) {  // one process: today's path, bit for bit
    EXPECT_EQ(bits_hash({hv1.data(), hv1.size()}), bits_hash({hv0.data(), hv0.size()}));
    EXPECT_EQ(f1, f0);
  }
  expect_same_on_every_rank({hv1.data(), hv1.size()});
  expect_same_on_every_rank({gv1.data(), gv1.size()});

  const datasets::Evaluation e0 = reference.evaluate(w), e1 = acc.evaluate(w);
  EXPECT_EQ(e1.count, n);
  EXPECT_EQ(e1.correct, e0.correct);
  EXPECT_EQ(e1.class_count, e0.class_count);
  EXPECT_EQ(e1.class_correct, e0.class_correct);
  EXPECT_LE(std::abs(e1.loss - e0.loss), 1e-13 * std::abs(e0.loss));
}

TEST(ShardedAccumulator, ArticleCnnEqualsOneProcess) {
  // 61 examples: shards of 31/30 or 21/20/20 cut batches of 8 differently
  // from one process's.
  expect_sharded_equals_whole(nn::models::article_cnn<double>(), 61, 8);
}

TEST(ShardedAccumulator, DropoutMasksFollowTheExampleAcrossShards) {
  nn::Sequential<double> model = nn::models::article_cnn<double>();
  model.emplace<nn::Dropout<double>>("dropout", 0.3);
  expect_sharded_equals_whole(model, 37, 5);
}

// The stochastic interface over shards: every minibatch of an epoch — the
// whole dataset's order, each rank adding its rows — against one process's.
TEST(ShardedModelObjective, MinibatchesAreOneProcesssMinibatches) {
  const std::size_t n = 53, batch = 8;  // the last minibatch is short; some lie on one shard only
  nn::Sequential<double> model = nn::models::article_cnn<double>();
  model.emplace<nn::Dropout<double>>("dropout", 0.3);
  const Sharded data(n);
  const nn::SoftmaxCrossEntropy<double> loss;
  datasets::ModelObjectiveOptions one;
  one.batch_size = static_cast<std::ptrdiff_t>(batch);
  one.threads = 1;
  one.seed = 9;
  datasets::ModelObjectiveOptions sharded = one;
  sharded.reduce = world->reducer();
  sharded.first_row = data.mine.begin;
  datasets::ModelObjective<double> reference(model, loss, data.whole, one);
  datasets::ModelObjective<double> obj(model, loss, data.part, sharded);
  ASSERT_EQ(obj.num_batches(), reference.num_batches());

  const Tensor<double> w = model.initialize(11);
  for (const std::size_t epoch : {0u, 3u}) {
    reference.begin_epoch(epoch);
    obj.begin_epoch(epoch);
    for (std::size_t b = 0; b < obj.num_batches(); ++b) {
      Tensor<double> g0, g1;
      const double f0 = reference.batch_value_and_grad(b, w, g0), f1 = obj.batch_value_and_grad(b, w, g1);
      EXPECT_LE(std::abs(f1 - f0), 1e-13 * std::abs(f0)) << "epoch " << epoch << " minibatch " << b;
      EXPECT_LE(relative_gap(g1, g0), 1e-13) << "epoch " << epoch << " minibatch " << b;
      if (world->size() == 1) {  // one process: today's path, bit for bit
        EXPECT_EQ(bits_hash({g1.data(), g1.size()}), bits_hash({g0.data(), g0.size()}));
      }
      expect_same_on_every_rank({g1.data(), g1.size()});
    }
  }
  Tensor<double> g;
  EXPECT_THROW(obj.batch_value_and_grad(obj.num_batches(), w, g), std::out_of_range);
}

}  // namespace
}  // namespace curv

int main(int argc, char** argv) {
  curv::dist::Session session(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  curv::world = &session.world();
  if (!curv::world->is_root()) {  // one report: rank 0's (a failure elsewhere still fails the run)
    testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  if (curv::world->is_root()) std::printf("dist_tests: %d rank(s)%s\n", curv::world->size(), curv::dist::built_with_mpi() ? "" : " (curv built without MPI)");
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  const std::vector<std::uint64_t> all = curv::world->all_gather(static_cast<std::uint64_t>(failed));
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] && curv::world->is_root()) std::fprintf(stderr, "dist_tests: rank %zu failed\n", r);
  return std::any_of(all.begin(), all.end(), [](std::uint64_t f) { return f != 0; }) ? 1 : 0;
}
