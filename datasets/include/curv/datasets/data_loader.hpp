// curv::datasets::DataLoader: a dataset cut into minibatches, in its own order
// or in a seeded shuffled order that is the same on every run and machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "curv/datasets/dataset.hpp"

namespace curv::datasets {

struct DataLoaderOptions {
  // Examples per batch; −1 means the whole dataset as one batch. The last
  // batch is short when the size is not a multiple of batch_size.
  std::ptrdiff_t batch_size = -1;
  bool shuffle = false;
  std::uint64_t seed = 0;
};

// The effective batch size of `batch_size` for n examples (−1 → n), validated;
// `fn` names the caller in the exception.
std::size_t resolve_batch_size(const char* fn, std::ptrdiff_t batch_size, std::size_t n);

template <class T>
class DataLoader {
 public:
  // Throws std::invalid_argument for a batch size of 0 or below −1. The
  // dataset must outlive the loader; it is never copied.
  DataLoader(DatasetRef<T> data, DataLoaderOptions options = {});

  // Epoch e's order: permutation(size, mix_seed(seed, e)) when shuffling, the
  // dataset's own order otherwise. Construction starts epoch 0.
  void set_epoch(std::uint64_t epoch);
  std::uint64_t epoch() const { return epoch_; }

  std::size_t size() const { return order_.size(); }
  std::size_t batch_size() const { return batch_size_; }
  std::size_t num_batches() const { return batch_size_ == 0 ? 0 : (size() + batch_size_ - 1) / batch_size_; }

  // Dataset indices of batch b in the current epoch (b < num_batches()).
  std::span<const std::size_t> indices(std::size_t b) const;
  // Batch b, gathered from the dataset: the only copy made.
  Batch<T> batch(std::size_t b) const { return data_.get_batch(indices(b)); }

  class iterator {
   public:
    using value_type = Batch<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const DataLoader* loader, std::size_t b) : loader_(loader), b_(b) {}
    Batch<T> operator*() const { return loader_->batch(b_); }
    iterator& operator++() {
      ++b_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++b_;
      return before;
    }
    bool operator==(const iterator& o) const { return b_ == o.b_; }

   private:
    const DataLoader* loader_ = nullptr;
    std::size_t b_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, num_batches()); }

 private:
  DatasetRef<T> data_;
  DataLoaderOptions options_;
  std::size_t batch_size_;
  std::uint64_t epoch_ = 0;
  std::vector<std::size_t> order_;
};

extern template class DataLoader<float>;
extern template class DataLoader<double>;

}  // namespace curv::datasets
