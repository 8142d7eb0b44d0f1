// TensorDataset, seeded permutations, subsets, splits and standardization.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "curv/datasets/dataset.hpp"
#include "curv/datasets/split.hpp"

namespace curv::datasets {

namespace {

std::size_t trailing_size(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

template <class T>
Shape shape_of(const Tensor<T>& t) {
  return Shape(t.shape().begin(), t.shape().end());
}

// rows[indices] of a (N, …) tensor, one memcpy per row.
template <class T>
Tensor<T> gather_rows(const Tensor<T>& from, std::span<const std::size_t> indices) {
  Shape shape = shape_of(from);
  const std::size_t stride = trailing_size(shape);
  shape[0] = indices.size();
  Tensor<T> to = Tensor<T>::from_shape(shape);
  const T* src = from.data();
  T* dst = to.data();
  for (std::size_t i = 0; i < indices.size(); ++i)
    if (stride != 0) std::memcpy(dst + i * stride, src + indices[i] * stride, stride * sizeof(T));
  return to;
}

// n uniformly in [0, bound) without modulo bias (rejection of the top sliver).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = max - (max % bound + 1) % bound;  // largest multiple of bound, minus 1
  std::uint64_t x;
  do x = rng();
  while (x > limit);
  return x % bound;
}

}  // namespace

template <class T>
TensorDataset<T>::TensorDataset(Tensor<T> inputs, Tensor<T> targets, Provenance provenance)
    : inputs_(std::move(inputs)), targets_(std::move(targets)), provenance_(std::move(provenance)) {
  if (inputs_.dimension() == 0 || targets_.dimension() == 0)
    throw std::invalid_argument(
        "curv::datasets::TensorDataset: expected inputs and targets with the examples on a first axis, got shapes " +
        shape_string(inputs_.shape()) + " and " + shape_string(targets_.shape()));
  if (inputs_.shape(0) != targets_.shape(0))
    throw std::invalid_argument("curv::datasets::TensorDataset: inputs have " +
                                std::to_string(inputs_.shape(0)) + " examples (shape " +
                                shape_string(inputs_.shape()) + ") but targets have " +
                                std::to_string(targets_.shape(0)) + " (shape " +
                                shape_string(targets_.shape()) + "); expected the same count");
  if (provenance_.known() && provenance_.size() != inputs_.shape(0))
    throw std::invalid_argument("curv::datasets::TensorDataset: the provenance describes " +
                                std::to_string(provenance_.size()) + " rows, expected one per example (" +
                                std::to_string(inputs_.shape(0)) + ")");
}

template <class T>
std::size_t TensorDataset<T>::input_stride() const {
  return trailing_size(shape_of(inputs_));
}

template <class T>
std::size_t TensorDataset<T>::target_stride() const {
  return trailing_size(shape_of(targets_));
}

template <class T>
Batch<T> TensorDataset<T>::get_batch(std::span<const std::size_t> indices) const {
  const std::size_t n = size();
  for (std::size_t i = 0; i < indices.size(); ++i)
    if (indices[i] >= n)
      throw std::out_of_range("curv::datasets::TensorDataset::get_batch: indices[" + std::to_string(i) +
                              "] = " + std::to_string(indices[i]) + ", expected an index below size() = " +
                              std::to_string(n));
  return {gather_rows(inputs_, indices), gather_rows(targets_, indices)};
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  // Two rounds of SplitMix64's finalizer over (seed, stream).
  auto mix = [](std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  return mix(mix(seed) ^ stream);
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t(0));
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[uniform_below(rng, i)]);
  return p;
}

template <class T>
TensorDataset<T> subset(const TensorDataset<T>& data, std::span<const std::size_t> indices) {
  Batch<T> b = data.get_batch(indices);  // checks the indices
  return TensorDataset<T>(std::move(b.inputs), std::move(b.targets), data.provenance().subset(indices));
}

template <class T>
TensorDataset<T> random_subset(const TensorDataset<T>& data, std::size_t count, std::uint64_t seed) {
  if (count > data.size())
    throw std::invalid_argument("curv::datasets::random_subset: count = " + std::to_string(count) +
                                ", expected at most the dataset's size " + std::to_string(data.size()));
  return subset(data, random_subset_rows(data.size(), count, seed));
}

std::vector<std::size_t> random_subset_rows(std::size_t n, std::size_t count, std::uint64_t seed) {
  if (count > n)
    throw std::invalid_argument("curv::datasets::random_subset_rows: count = " + std::to_string(count) +
                                ", expected at most n = " + std::to_string(n));
  std::vector<std::size_t> p = permutation(n, seed);
  p.resize(count);
  std::sort(p.begin(), p.end());
  return p;
}

template <class T>
Splits<T> split(const TensorDataset<T>& data, SplitSizes sizes, std::uint64_t seed) {
  const std::size_t total = sizes.train + sizes.validation + sizes.test;
  if (total > data.size())
    throw std::invalid_argument("curv::datasets::split: sizes train " + std::to_string(sizes.train) +
                                " + validation " + std::to_string(sizes.validation) + " + test " +
                                std::to_string(sizes.test) + " = " + std::to_string(total) +
                                ", expected at most the dataset's size " + std::to_string(data.size()));
  const SplitRows rows = split_rows(data.size(), sizes, seed);
  return {subset(data, rows.train), subset(data, rows.validation), subset(data, rows.test)};
}

SplitRows split_rows(std::size_t n, SplitSizes sizes, std::uint64_t seed) {
  const std::size_t total = sizes.train + sizes.validation + sizes.test;
  if (total > n)
    throw std::invalid_argument("curv::datasets::split_rows: sizes train " + std::to_string(sizes.train) +
                                " + validation " + std::to_string(sizes.validation) + " + test " +
                                std::to_string(sizes.test) + " = " + std::to_string(total) +
                                ", expected at most n = " + std::to_string(n));
  const std::vector<std::size_t> p = permutation(n, seed);
  auto part = [&](std::size_t begin, std::size_t count) {
    std::vector<std::size_t> idx(p.begin() + static_cast<std::ptrdiff_t>(begin),
                                 p.begin() + static_cast<std::ptrdiff_t>(begin + count));
    std::sort(idx.begin(), idx.end());
    return idx;
  };
  return {part(0, sizes.train), part(sizes.train, sizes.validation), part(sizes.train + sizes.validation, sizes.test)};
}

template <class T>
Standardizer<T> Standardizer<T>::fit(const TensorDataset<T>& train) {
  const std::size_t n = train.size();
  if (n == 0) throw std::invalid_argument("curv::datasets::Standardizer::fit: the dataset is empty, expected at least one example");
  const std::size_t d = train.input_stride();
  Standardizer s;
  const Shape shape = shape_of(train.inputs());
  s.example_shape_.assign(shape.begin() + 1, shape.end());
  s.mean_.assign(d, 0.0);
  s.stddev_.assign(d, 0.0);
  const T* x = train.inputs().data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) s.mean_[j] += x[i * d + j];
  for (double& m : s.mean_) m /= static_cast<double>(n);
  // Two-pass variance: no cancellation for features with a large mean.
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double c = x[i * d + j] - s.mean_[j];
      s.stddev_[j] += c * c;
    }
  for (double& v : s.stddev_) v = std::sqrt(v / static_cast<double>(n));
  return s;
}

template <class T>
Standardizer<T> Standardizer<T>::fit(const TensorDataset<T>& train,
                                     const std::function<void(std::span<double>)>& reduce) {
  if (!reduce) return fit(train);
  // The same two passes as fit(), each followed by a sum across processes:
  // with one process the same numbers.
  const std::size_t d = train.input_stride();
  Standardizer s;
  const Shape shape = shape_of(train.inputs());
  s.example_shape_.assign(shape.begin() + 1, shape.end());
  std::vector<double> sums(d + 1, 0.0);  // the per-feature sums, then the count
  const T* x = train.inputs().data();
  const std::size_t n = train.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) sums[j] += x[i * d + j];
  sums[d] = static_cast<double>(n);
  reduce(sums);
  const double total = sums[d];
  if (total == 0)
    throw std::invalid_argument("curv::datasets::Standardizer::fit: every shard is empty, expected at least one example");
  s.mean_.assign(sums.begin(), sums.begin() + static_cast<std::ptrdiff_t>(d));
  for (double& m : s.mean_) m /= total;
  s.stddev_.assign(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double c = x[i * d + j] - s.mean_[j];
      s.stddev_[j] += c * c;
    }
  reduce(s.stddev_);
  for (double& v : s.stddev_) v = std::sqrt(v / total);
  return s;
}

template <class T>
void Standardizer<T>::apply(TensorDataset<T>& data) const {
  const Shape shape = shape_of(data.inputs());
  const Shape example(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
  if (example != example_shape_)
    throw std::invalid_argument("curv::datasets::Standardizer::apply: examples have shape " +
                                shape_string(example) + ", expected the fitted shape " +
                                shape_string(example_shape_));
  const std::size_t d = mean_.size();
  std::vector<double> scale(d);
  for (std::size_t j = 0; j < d; ++j) scale[j] = stddev_[j] > 0 ? 1.0 / stddev_[j] : 0.0;
  T* x = data.inputs().data();
  for (std::size_t i = 0, n = data.size(); i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      x[i * d + j] = static_cast<T>((x[i * d + j] - mean_[j]) * scale[j]);
}

template class TensorDataset<float>;
template class TensorDataset<double>;
template TensorDataset<float> subset(const TensorDataset<float>&, std::span<const std::size_t>);
template TensorDataset<double> subset(const TensorDataset<double>&, std::span<const std::size_t>);
template TensorDataset<float> random_subset(const TensorDataset<float>&, std::size_t, std::uint64_t);
template TensorDataset<double> random_subset(const TensorDataset<double>&, std::size_t, std::uint64_t);
template Splits<float> split(const TensorDataset<float>&, SplitSizes, std::uint64_t);
template Splits<double> split(const TensorDataset<double>&, SplitSizes, std::uint64_t);
template class Standardizer<float>;
template class Standardizer<double>;

}  // namespace curv::datasets
