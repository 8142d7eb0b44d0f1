// Seeded permutations, subsets, train/validation/test splits and per-feature
// standardization of in-memory datasets.
//
// Every random choice in curv::datasets goes through permutation(): a
// Fisher–Yates shuffle driven by std::mt19937_64 (whose output sequence the
// C++ standard fixes) with our own unbiased bounded draw, so the same seed
// gives the same order with every standard library (std::shuffle and
// std::uniform_int_distribution are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "curv/datasets/dataset.hpp"

namespace curv::datasets {

// A seed for stream `stream` (e.g. an epoch) derived from `seed` (SplitMix64).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

// A uniformly random permutation of 0 … n−1, the same for the same seed everywhere.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed);

// The examples at `indices`, in that order, as a new in-memory dataset; each
// keeps its origin (file and record) when data's provenance is known.
template <class T>
TensorDataset<T> subset(const TensorDataset<T>& data, std::span<const std::size_t> indices);

// `count` examples chosen at random from `seed`, kept in their original order.
template <class T>
TensorDataset<T> random_subset(const TensorDataset<T>& data, std::size_t count, std::uint64_t seed);
// The rows random_subset picks from a dataset of n examples: sorted.
std::vector<std::size_t> random_subset_rows(std::size_t n, std::size_t count, std::uint64_t seed);

// How many examples go to each part; train + validation + test ≤ size().
struct SplitSizes {
  std::size_t train = 0;
  std::size_t validation = 0;
  std::size_t test = 0;
};

template <class T>
struct Splits {
  TensorDataset<T> train;
  TensorDataset<T> validation;
  TensorDataset<T> test;
};

// Disjoint random parts drawn from one seeded permutation: the first
// sizes.train shuffled positions are train, the next sizes.validation are
// validation, then test. Within a part, examples keep their original order
// (and their origin).
template <class T>
Splits<T> split(const TensorDataset<T>& data, SplitSizes sizes, std::uint64_t seed);

// The rows split() puts in each part of a dataset of n examples, each part
// sorted: what a process that reads only its shard of a file needs to know.
struct SplitRows {
  std::vector<std::size_t> train, validation, test;
};
SplitRows split_rows(std::size_t n, SplitSizes sizes, std::uint64_t seed);

// Per-feature (per input element) standardization x ↦ (x − mean) / std, with
// mean and population standard deviation fitted on one dataset (the training
// split) and applied to any. Features that are constant in the fitted data
// map to 0 everywhere (the article's treatment of always-blank pixels).
template <class T>
class Standardizer {
 public:
  // Accumulates in double; throws std::invalid_argument for an empty dataset.
  static Standardizer fit(const TensorDataset<T>& train);
  // The statistics of a dataset sharded over processes, `train` this
  // process's shard (possibly empty): reduce (as AccumulatorOptions::reduce)
  // sums the per-feature sums and the counts across processes, then the
  // squared deviations from the common mean. Empty reduce: fit(train).
  static Standardizer fit(const TensorDataset<T>& train, const std::function<void(std::span<double>)>& reduce);

  // Standardizes data's inputs in place; throws when its example shape differs.
  void apply(TensorDataset<T>& data) const;
  TensorDataset<T> transform(TensorDataset<T> data) const {
    apply(data);
    return data;
  }

  // Per-feature statistics, flattened over the example shape.
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& stddev() const { return stddev_; }

 private:
  Shape example_shape_;
  std::vector<double> mean_;
  std::vector<double> stddev_;
};

extern template TensorDataset<float> subset(const TensorDataset<float>&, std::span<const std::size_t>);
extern template TensorDataset<double> subset(const TensorDataset<double>&, std::span<const std::size_t>);
extern template TensorDataset<float> random_subset(const TensorDataset<float>&, std::size_t, std::uint64_t);
extern template TensorDataset<double> random_subset(const TensorDataset<double>&, std::size_t, std::uint64_t);
extern template Splits<float> split(const TensorDataset<float>&, SplitSizes, std::uint64_t);
extern template Splits<double> split(const TensorDataset<double>&, SplitSizes, std::uint64_t);
extern template class Standardizer<float>;
extern template class Standardizer<double>;

}  // namespace curv::datasets
