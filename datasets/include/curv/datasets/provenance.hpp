// Where each example of a dataset came from — the files its inputs and
// targets were read from and its record in them — and DataError, the error
// that names it when a pass finds bad data (a label that is no class, a
// non-finite input).
//
// Provenance is stored compactly: two source names and one record index per
// row, and not even those for data as read (row r is record r). It follows
// the rows through subset(), random_subset(), split() and standardization, so
// that an error at row 150 of a shuffled training split still says
// "train-labels-idx1-ubyte record 617" at every batch size.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace curv::datasets {

// One example's origin: the sources (file names) of its inputs and targets
// and its record index in them; both sources empty when unknown, and then
// `record` is the row in the dataset that was asked.
struct Origin {
  std::string inputs;   // "train-images-idx3-ubyte"
  std::string targets;  // "train-labels-idx1-ubyte"
  std::size_t record = 0;

  // "train-images-idx3-ubyte record 617", or "row 150" when the source is unknown.
  std::string inputs_record() const { return place(inputs); }
  // "train-labels-idx1-ubyte record 617", or "row 150".
  std::string targets_record() const { return place(targets); }
  bool known() const { return !inputs.empty() || !targets.empty(); }

 private:
  std::string place(const std::string& source) const {
    return (source.empty() ? std::string("row ") : source + " record ") + std::to_string(record);
  }
};

// The origins of a dataset's rows: none (rows are described by their index),
// or two sources and each row's record in them.
class Provenance {
 public:
  Provenance() = default;
  // `rows` examples read in order: row r is record r of `inputs` and of
  // `targets` (e.g. an images file and its labels file). No per-row storage.
  Provenance(std::string inputs, std::string targets, std::size_t rows)
      : inputs_(std::move(inputs)), targets_(std::move(targets)), rows_(rows) {}

  bool known() const { return !inputs_.empty() || !targets_.empty(); }
  // Rows described; 0 when unknown.
  std::size_t size() const { return known() ? rows_ : 0; }

  // Row `row`'s origin; {"", "", row} when unknown or beyond the rows described.
  Origin origin(std::size_t row) const {
    if (!known() || row >= rows_) return {"", "", row};
    return {inputs_, targets_, records_.empty() ? row : records_[row]};
  }

  // The provenance of the rows `rows`, in that order (a subset, a split, a
  // shuffle): each keeps its record. Unknown stays unknown. Throws
  // std::out_of_range for a row not below size().
  Provenance subset(std::span<const std::size_t> rows) const {
    if (!known()) return {};
    Provenance p(inputs_, targets_, rows.size());
    p.records_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] >= rows_)
        throw std::out_of_range("curv::datasets::Provenance::subset: rows[" + std::to_string(i) + "] = " +
                                std::to_string(rows[i]) + ", expected a row below " + std::to_string(rows_));
      p.records_[i] = records_.empty() ? rows[i] : records_[rows[i]];
    }
    return p;
  }

 private:
  std::string inputs_, targets_;
  std::size_t rows_ = 0;
  std::vector<std::size_t> records_;  // row → record; empty: row r is record r
};

// Bad data met in a pass over a dataset (Accumulator): a target that is not
// a class index, or a NaN or ±inf in an example's inputs or targets. what()
// names the example's origin (file and record), its row in the dataset, the
// minibatch, and for a non-finite value the first parameter whose gradient
// it makes non-finite. A std::runtime_error: the data, not the call, is wrong.
class DataError : public std::runtime_error {
 public:
  DataError(const std::string& what, std::size_t row, Origin origin, std::size_t minibatch,
            std::optional<std::size_t> parameter = std::nullopt)
      : std::runtime_error(what), row_(row), origin_(std::move(origin)), minibatch_(minibatch), parameter_(parameter) {}

  // The example's row in the dataset the pass ran over.
  std::size_t row() const { return row_; }
  const Origin& origin() const { return origin_; }
  // The minibatch of the pass, counted from 0 (what() counts from 1).
  std::size_t minibatch() const { return minibatch_; }
  // For a non-finite value: the index in w of the first parameter whose
  // gradient it makes non-finite, when one does.
  const std::optional<std::size_t>& parameter() const { return parameter_; }

 private:
  std::size_t row_;
  Origin origin_;
  std::size_t minibatch_;
  std::optional<std::size_t> parameter_;
};

}  // namespace curv::datasets
