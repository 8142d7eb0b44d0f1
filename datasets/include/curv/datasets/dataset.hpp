// curv::datasets::Dataset: N examples addressed by index, each batch of them
// returned as two tensors with the batch on the first axis, and optionally
// where each came from; TensorDataset, the in-memory kind; DatasetRef, a
// non-owning type-erased handle to any Dataset.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>

#include "curv/autodiff/tensor.hpp"
#include "curv/datasets/provenance.hpp"

namespace curv::datasets {

// A minibatch: inputs (B, …) and targets (B, …), B examples on the first axis.
// Classification targets are class indices stored exactly as T, shape (B,).
template <class T>
struct Batch {
  Tensor<T> inputs;
  Tensor<T> targets;
};

// size() examples; get_batch(indices) copies exactly those examples, in that
// order, into a new Batch. get_batch is const and may be called from several
// threads at once.
template <class D, class T>
concept Dataset = requires(const D& d, std::span<const std::size_t> indices) {
  { d.size() } -> std::convertible_to<std::size_t>;
  { d.get_batch(indices) } -> std::same_as<Batch<T>>;
};

// A dataset that also knows where example i came from (origin(i), e.g. a
// file and record), so that errors about it can say so. Optional: errors
// about other datasets name the row.
template <class D>
concept HasOrigin = requires(const D& d, std::size_t i) {
  { d.origin(i) } -> std::convertible_to<Origin>;
};

// Examples held in memory as two tensors whose first axes have the same length.
template <class T>
class TensorDataset {
 public:
  TensorDataset() = default;
  // Throws std::invalid_argument when either tensor is 0-d, their first
  // axes differ, or a known provenance describes another number of rows.
  TensorDataset(Tensor<T> inputs, Tensor<T> targets, Provenance provenance = {});

  std::size_t size() const { return inputs_.dimension() == 0 ? 0 : inputs_.shape(0); }

  // Copies the indexed rows (and nothing else) with one memcpy per example;
  // throws std::out_of_range naming the first bad index.
  Batch<T> get_batch(std::span<const std::size_t> indices) const;

  const Tensor<T>& inputs() const { return inputs_; }
  const Tensor<T>& targets() const { return targets_; }
  Tensor<T>& inputs() { return inputs_; }
  Tensor<T>& targets() { return targets_; }

  // Elements per example.
  std::size_t input_stride() const;
  std::size_t target_stride() const;
  // Bytes held by the two tensors.
  std::size_t bytes() const { return (inputs_.size() + targets_.size()) * sizeof(T); }

  // Where the rows came from (read_idx_dataset records the files); subset,
  // split and standardization keep it. Unknown for tensors made in memory.
  const Provenance& provenance() const { return provenance_; }
  Origin origin(std::size_t i) const { return provenance_.origin(i); }

 private:
  Tensor<T> inputs_;
  Tensor<T> targets_;
  Provenance provenance_;
};

// A non-owning view of any Dataset<T>: what the DataLoader and the Accumulator
// hold, so that they compile once (for float and double) whatever the dataset
// type. The dataset must outlive the view. origin(i) is the dataset's when it
// has one (HasOrigin), else unknown ({"", "", i}: "row i").
template <class T>
class DatasetRef {
 public:
  template <class D>
    requires(Dataset<D, T> && !std::same_as<std::remove_cvref_t<D>, DatasetRef>)
  DatasetRef(const D& dataset)  // NOLINT: implicit on purpose, like std::span
      : object_(&dataset),
        size_([](const void* d) -> std::size_t { return static_cast<const D*>(d)->size(); }),
        get_batch_([](const void* d, std::span<const std::size_t> i) {
          return static_cast<const D*>(d)->get_batch(i);
        }),
        origin_([](const void* d, std::size_t i) -> Origin {
          if constexpr (HasOrigin<D>) return static_cast<const D*>(d)->origin(i);
          else return {"", "", i};
        }) {}
  // A view of a temporary would dangle.
  template <class D>
    requires(Dataset<D, T> && !std::same_as<std::remove_cvref_t<D>, DatasetRef> &&
             !std::is_lvalue_reference_v<D>)
  DatasetRef(const D&& dataset) = delete;

  std::size_t size() const { return size_(object_); }
  Batch<T> get_batch(std::span<const std::size_t> indices) const { return get_batch_(object_, indices); }
  Origin origin(std::size_t i) const { return origin_(object_, i); }

 private:
  const void* object_;
  std::size_t (*size_)(const void*);
  Batch<T> (*get_batch_)(const void*, std::span<const std::size_t>);
  Origin (*origin_)(const void*, std::size_t);
};

extern template class TensorDataset<float>;
extern template class TensorDataset<double>;

}  // namespace curv::datasets
