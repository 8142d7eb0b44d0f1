// The Accumulator's per-minibatch progress callback, which curv-train's
// progress bar moves on: called once per batch, in batch order, one call at a
// time, for every kind of pass, and without any effect on the numbers.
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <curv/datasets.hpp>
#include <curv/nn.hpp>

namespace {

using curv::Tensor;
namespace ds = curv::datasets;
namespace nn = curv::nn;

ds::TensorDataset<double> random_classification(std::size_t n, std::size_t features, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Tensor<double> x = Tensor<double>::from_shape({n, features});
  Tensor<double> y = Tensor<double>::from_shape({n});
  for (double& v : x) v = normal(rng);
  for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<double>(i % 3);
  return {std::move(x), std::move(y)};
}

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(AccumulatorProgress, CalledOncePerBatchInOrderAndSeriallyWithoutChangingAnyResult) {
  const ds::TensorDataset<double> data = random_classification(50, 6, 5);
  const nn::Sequential<double> model = nn::models::mlp<double>({6, 5, 3});
  const nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(11);
  Tensor<double> v = w;
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = std::sin(static_cast<double>(i));

  for (const int threads : {1, 3}) {
    const ds::Accumulator<double> plain(model, loss, data, {.batch_size = 7, .threads = threads});
    ds::Accumulator<double> watched(model, loss, data, {.batch_size = 7, .threads = threads});
    ASSERT_EQ(watched.num_batches(), 8u);

    std::vector<std::pair<std::size_t, std::size_t>> calls;
    std::atomic<int> inside{0};
    int overlaps = 0;
    watched.set_progress([&](const ds::PassProgress& p) {
      if (inside.fetch_add(1) != 0) ++overlaps;
      calls.emplace_back(p.batches_done, p.batches_total);
      inside.fetch_sub(1);
    });
    auto expect_one_pass = [&](const char* what) {
      ASSERT_EQ(calls.size(), 8u) << what << " with " << threads << " threads";
      for (std::size_t i = 0; i < calls.size(); ++i) {
        EXPECT_EQ(calls[i].first, i + 1) << what << ": call " << i;
        EXPECT_EQ(calls[i].second, 8u) << what << ": call " << i;
      }
      EXPECT_EQ(overlaps, 0) << what;
      calls.clear();
    };

    EXPECT_TRUE(same_bits(watched.value(w), plain.value(w)));
    expect_one_pass("value");

    Tensor<double> g1, g2, h1, h2;
    EXPECT_TRUE(same_bits(watched.value_and_grad(w, g1), plain.value_and_grad(w, g2)));
    EXPECT_TRUE(same_bits(g1, g2));
    expect_one_pass("value_and_grad");

    EXPECT_TRUE(same_bits(watched.hvp(w, v, g1, h1), plain.hvp(w, v, g2, h2)));
    EXPECT_TRUE(same_bits(g1, g2));
    EXPECT_TRUE(same_bits(h1, h2));
    expect_one_pass("hvp");

    EXPECT_TRUE(same_bits(watched.gnvp(w, v, g1, h1), plain.gnvp(w, v, g2, h2)));
    EXPECT_TRUE(same_bits(h1, h2));
    expect_one_pass("gnvp");

    const ds::Evaluation e1 = watched.evaluate(w), e2 = plain.evaluate(w);
    EXPECT_TRUE(same_bits(e1.loss, e2.loss));
    EXPECT_EQ(e1.correct, e2.correct);
    expect_one_pass("evaluate");

    watched.set_progress({});  // switched off again
    watched.value(w);
    EXPECT_TRUE(calls.empty());
  }
}

}  // namespace
