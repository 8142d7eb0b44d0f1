// In-memory datasets, seeded permutations, splits, standardization and the DataLoader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "curv/datasets.hpp"

namespace {

using curv::Tensor;
using curv::datasets::DataLoader;
using curv::datasets::Standardizer;
using curv::datasets::TensorDataset;

// Example i has inputs (i, 10 i) and target i: where every row came from is visible.
TensorDataset<double> numbered(std::size_t n) {
  Tensor<double> x = Tensor<double>::from_shape({n, 2});
  Tensor<double> y = Tensor<double>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<double>(i);
    x(i, 1) = 10.0 * static_cast<double>(i);
    y(i) = static_cast<double>(i);
  }
  return TensorDataset<double>(x, y);
}

std::vector<std::size_t> targets_of(const TensorDataset<double>& d) {
  std::vector<std::size_t> t;
  for (double v : d.targets()) t.push_back(static_cast<std::size_t>(v));
  return t;
}

TEST(TensorDataset, GetBatchCopiesExactlyTheIndexedExamplesInOrder) {
  const TensorDataset<double> d = numbered(10);
  const std::vector<std::size_t> idx{7, 2, 2, 9};
  const auto b = d.get_batch(idx);
  ASSERT_EQ(b.inputs.shape(), (curv::Shape{4, 2}));
  ASSERT_EQ(b.targets.shape(), (curv::Shape{4}));
  for (std::size_t i = 0; i < idx.size(); ++i) {
    EXPECT_EQ(b.inputs(i, 0), static_cast<double>(idx[i]));
    EXPECT_EQ(b.inputs(i, 1), 10.0 * static_cast<double>(idx[i]));
    EXPECT_EQ(b.targets(i), static_cast<double>(idx[i]));
  }
  const std::vector<std::size_t> bad{1, 10};
  EXPECT_THROW(d.get_batch(bad), std::out_of_range);
  EXPECT_EQ(d.size(), 10u);
  EXPECT_EQ(d.input_stride(), 2u);
  EXPECT_EQ(d.bytes(), 30 * sizeof(double));
}

TEST(TensorDataset, RejectsInputsAndTargetsOfDifferentLengths) {
  try {
    TensorDataset<double>(Tensor<double>::from_shape({3, 2}), Tensor<double>::from_shape({4}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("inputs have 3 examples"), std::string::npos) << e.what();
  }
}

TEST(Permutation, IsAPermutationThatDependsOnlyOnTheSeed) {
  const auto p = curv::datasets::permutation(1000, 42);
  std::vector<std::size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(p, curv::datasets::permutation(1000, 42));
  EXPECT_NE(p, curv::datasets::permutation(1000, 43));
  // Golden values: std::mt19937_64 is fixed by the standard and the shuffle
  // is ours, so these hold with every standard library.
  const std::vector<std::size_t> golden = curv::datasets::permutation(10, 2026);
  EXPECT_EQ(golden, (std::vector<std::size_t>{4, 5, 3, 8, 7, 2, 0, 9, 6, 1}));
  EXPECT_NE(curv::datasets::mix_seed(1, 0), curv::datasets::mix_seed(1, 1));
  EXPECT_TRUE(curv::datasets::permutation(0, 1).empty());
}

TEST(Split, PartsAreDisjointSeededSortedAndOfTheAskedSizes) {
  const TensorDataset<double> d = numbered(50);
  const auto s = curv::datasets::split(d, {.train = 30, .validation = 12, .test = 8}, 9);
  EXPECT_EQ(s.train.size(), 30u);
  EXPECT_EQ(s.validation.size(), 12u);
  EXPECT_EQ(s.test.size(), 8u);
  std::set<std::size_t> all;
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    const auto t = targets_of(*part);
    EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
    all.insert(t.begin(), t.end());
    for (std::size_t i = 0; i < part->size(); ++i) EXPECT_EQ(part->inputs()(i, 0), part->targets()(i));
  }
  EXPECT_EQ(all.size(), 50u);
  const auto again = curv::datasets::split(d, {30, 12, 8}, 9);
  EXPECT_EQ(targets_of(again.train), targets_of(s.train));
  EXPECT_NE(targets_of(curv::datasets::split(d, {30, 12, 8}, 10).train), targets_of(s.train));
  EXPECT_THROW(curv::datasets::split(d, {30, 12, 9}, 9), std::invalid_argument);

  const auto sub = curv::datasets::random_subset(d, 7, 3);
  const auto t = targets_of(sub);
  EXPECT_EQ(t.size(), 7u);
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  EXPECT_EQ(t, targets_of(curv::datasets::random_subset(d, 7, 3)));
  EXPECT_THROW(curv::datasets::random_subset(d, 51, 3), std::invalid_argument);
}

TEST(Standardizer, FitsOnTrainingDataOnlyAndMapsConstantFeaturesToZero) {
  // Feature 0 varies; feature 1 is constant (5) in the training data.
  Tensor<double> xtrain = {{1., 5.}, {2., 5.}, {3., 5.}, {6., 5.}};
  Tensor<double> xtest = {{3., 7.}, {0., 5.}};
  TensorDataset<double> train(xtrain, Tensor<double>{0., 1., 0., 1.});
  TensorDataset<double> test(xtest, Tensor<double>{0., 1.});
  const auto s = Standardizer<double>::fit(train);
  EXPECT_DOUBLE_EQ(s.mean()[0], 3.0);
  EXPECT_DOUBLE_EQ(s.stddev()[0], std::sqrt(3.5));  // population variance (4+1+0+9)/4
  EXPECT_DOUBLE_EQ(s.stddev()[1], 0.0);
  s.apply(train);
  test = s.transform(std::move(test));
  double mean = 0, sq = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    mean += train.inputs()(i, 0) / 4;
    sq += train.inputs()(i, 0) * train.inputs()(i, 0) / 4;
    EXPECT_EQ(train.inputs()(i, 1), 0.0);
  }
  EXPECT_NEAR(mean, 0.0, 1e-15);
  EXPECT_NEAR(sq, 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(test.inputs()(0, 0), 0.0);  // test data uses the training mean 3
  EXPECT_DOUBLE_EQ(test.inputs()(1, 0), -3.0 / std::sqrt(3.5));
  EXPECT_EQ(test.inputs()(0, 1), 0.0);  // constant in training → 0, whatever the test value
  TensorDataset<double> other(Tensor<double>::from_shape({2, 3}), Tensor<double>{0., 1.});
  EXPECT_THROW(s.apply(other), std::invalid_argument);
  EXPECT_THROW(Standardizer<double>::fit(TensorDataset<double>(Tensor<double>::from_shape({0, 2}),
                                                               Tensor<double>::from_shape({0}))),
               std::invalid_argument);
}

TEST(DataLoader, CutsTheDatasetIntoBatchesWithAShortLastOne) {
  const TensorDataset<double> d = numbered(10);
  const DataLoader<double> loader(d, {.batch_size = 4});
  ASSERT_EQ(loader.num_batches(), 3u);
  std::vector<std::size_t> sizes, seen;
  for (const auto& batch : loader) {
    sizes.push_back(batch.targets.size());
    for (double t : batch.targets) seen.push_back(static_cast<std::size_t>(t));
    EXPECT_EQ(batch.inputs.shape(1), 2u);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
  std::vector<std::size_t> expected(10);
  std::iota(expected.begin(), expected.end(), std::size_t(0));
  EXPECT_EQ(seen, expected);

  const DataLoader<double> whole(d, {.batch_size = -1});
  ASSERT_EQ(whole.num_batches(), 1u);
  EXPECT_EQ(whole.batch(0).targets.size(), 10u);
  EXPECT_THROW(DataLoader<double>(d, {.batch_size = 0}), std::invalid_argument);
  EXPECT_THROW(DataLoader<double>(d, {.batch_size = -3}), std::invalid_argument);
  EXPECT_THROW(loader.indices(3), std::out_of_range);
}

TEST(DataLoader, ShuffledOrderIsReproducibleFromSeedAndEpoch) {
  const TensorDataset<double> d = numbered(37);
  auto order = [&](std::uint64_t seed, std::uint64_t epoch) {
    DataLoader<double> loader(d, {.batch_size = 8, .shuffle = true, .seed = seed});
    loader.set_epoch(epoch);
    std::vector<std::size_t> seen;
    for (const auto& batch : loader)
      for (double t : batch.targets) seen.push_back(static_cast<std::size_t>(t));
    return seen;
  };
  const auto a = order(1, 0);
  EXPECT_EQ(a, order(1, 0));
  EXPECT_NE(a, order(1, 1));
  EXPECT_NE(a, order(2, 0));
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()).size(), 37u);
  EXPECT_EQ(a, curv::datasets::permutation(37, curv::datasets::mix_seed(1, 0)));
}

}  // namespace
