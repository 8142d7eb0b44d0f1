// DataLoader: batch index ranges over a fixed or seeded-shuffled order.
#include "curv/datasets/data_loader.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

#include "curv/datasets/split.hpp"

namespace curv::datasets {

std::size_t resolve_batch_size(const char* fn, std::ptrdiff_t batch_size, std::size_t n) {
  if (batch_size == -1) return n;
  if (batch_size <= 0)
    throw std::invalid_argument(std::string(fn) + ": batch_size = " + std::to_string(batch_size) +
                                ", expected a positive count or -1 (the whole dataset)");
  return static_cast<std::size_t>(batch_size);
}

template <class T>
DataLoader<T>::DataLoader(DatasetRef<T> data, DataLoaderOptions options)
    : data_(data),
      options_(options),
      batch_size_(resolve_batch_size("curv::datasets::DataLoader", options.batch_size, data.size())) {
  set_epoch(0);
}

template <class T>
void DataLoader<T>::set_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  if (options_.shuffle) {
    order_ = permutation(data_.size(), mix_seed(options_.seed, epoch));
  } else if (order_.size() != data_.size()) {
    order_.resize(data_.size());
    std::iota(order_.begin(), order_.end(), std::size_t(0));
  }
}

template <class T>
std::span<const std::size_t> DataLoader<T>::indices(std::size_t b) const {
  if (b >= num_batches())
    throw std::out_of_range("curv::datasets::DataLoader::indices: batch " + std::to_string(b) +
                            ", expected a batch below num_batches() = " + std::to_string(num_batches()));
  const std::size_t first = b * batch_size_;
  const std::size_t count = std::min(batch_size_, size() - first);
  return std::span<const std::size_t>(order_).subspan(first, count);
}

template class DataLoader<float>;
template class DataLoader<double>;

}  // namespace curv::datasets
