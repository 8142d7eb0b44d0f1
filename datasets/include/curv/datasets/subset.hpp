// curv::datasets::SubsetView: some examples of another dataset, addressed
// through a list of its indices, without copying them; the list can be
// replaced (same length), so one Accumulator built over the view serves a
// new subset each time (ModelObjective's curvature subsample).
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/datasets/dataset.hpp"

namespace curv::datasets {

template <class T>
class SubsetView {
 public:
  // data must outlive the view. Throws std::invalid_argument for an index
  // not below data.size() (naming it).
  SubsetView(DatasetRef<T> data, std::vector<std::size_t> indices) : data_(data) { set_indices(std::move(indices)); }

  std::size_t size() const { return indices_.size(); }

  // Example i of the view is example indices()[i] of the data. get_batch may
  // run on several threads at once; set_indices must not run meanwhile.
  Batch<T> get_batch(std::span<const std::size_t> indices) const {
    std::vector<std::size_t> mapped(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] >= indices_.size())
        throw std::out_of_range("curv::datasets::SubsetView::get_batch: index " + std::to_string(indices[i]) +
                                ", expected below the view's size " + std::to_string(indices_.size()));
      mapped[i] = indices_[indices[i]];
    }
    return data_.get_batch(mapped);
  }

  // Replaces the subset. Throws std::invalid_argument for a list of another
  // length than the current one (an Accumulator over the view fixed its size)
  // or an index out of the data.
  void set_indices(std::vector<std::size_t> indices) {
    if (!indices_.empty() && indices.size() != indices_.size())
      throw std::invalid_argument("curv::datasets::SubsetView::set_indices: " + std::to_string(indices.size()) +
                                  " indices, expected " + std::to_string(indices_.size()) + " (the view's size)");
    const std::size_t n = data_.size();
    for (std::size_t i : indices)
      if (i >= n)
        throw std::invalid_argument("curv::datasets::SubsetView: index " + std::to_string(i) +
                                    ", expected below the dataset's size " + std::to_string(n));
    indices_ = std::move(indices);
  }
  const std::vector<std::size_t>& indices() const { return indices_; }

 private:
  DatasetRef<T> data_;
  std::vector<std::size_t> indices_;
};

}  // namespace curv::datasets
