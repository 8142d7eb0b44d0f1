// Saving and loading an optimizer's State: a small field visitor that any
// storage (curv-train's checkpoint file, an in-memory archive, a user's own
// format) implements, so that which fields a State has and how they are
// checked on load live in optim, next to the State.
//
// A State is written as named records of three kinds: scalars (f64, bit
// exact), counters (u64) and flat tensors (float or double elements). Each
// optimizer also writes the counter "state_version", the version of its
// field layout; a reader refuses a layout newer than it knows, and a record
// without it is read as version 1 (the layout of curv-train's first
// checkpoints, which did not record it).
//
// Loading reads every field, bounds the counters, then runs the optimizer's
// check_state: a state that loads is one `resume` accepts. Every refusal is
// std::invalid_argument (or the storage's own error for a missing or
// malformed record) naming the field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "curv/autodiff/tensor.hpp"

namespace curv::optim {

// Where a State is saved to. A second record of one kind and name replaces the first.
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  virtual void write_scalar(std::string_view name, double value) = 0;
  virtual void write_counter(std::string_view name, std::uint64_t value) = 0;
  virtual void write_tensor(std::string_view name, const Tensor<float>& t) = 0;
  virtual void write_tensor(std::string_view name, const Tensor<double>& t) = 0;
};

// Where a State is loaded from. The read_* functions throw, naming the field,
// when it is missing, of another element type, or (tensors) not of `size`
// elements.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual double read_scalar(std::string_view name) const = 0;
  virtual std::uint64_t read_counter(std::string_view name) const = 0;
  virtual bool has_counter(std::string_view name) const = 0;
  virtual bool has_tensor(std::string_view name) const = 0;
  virtual void read_tensor(std::string_view name, std::size_t size, Tensor<float>& out) const = 0;
  virtual void read_tensor(std::string_view name, std::size_t size, Tensor<double>& out) const = 0;

  template <class T>
  Tensor<T> tensor(std::string_view name, std::size_t size) const {
    Tensor<T> t;
    read_tensor(name, size, t);
    return t;
  }
};

// How far a loaded state's progress counter (SCG's, L-BFGS's, CG's
// `iteration`; SGD's and Adam's `step`) may have got: at most `max`, for the
// reason `why` (e.g. "the --epochs 3 of this run"), which the refusal quotes.
struct ProgressLimit {
  std::uint64_t max = UINT64_MAX;
  std::string why;
};

// An archive in memory: what tests round-trip states through, and a model for
// other storages.
class MemoryState final : public StateWriter, public StateReader {
 public:
  void write_scalar(std::string_view name, double value) override;
  void write_counter(std::string_view name, std::uint64_t value) override;
  void write_tensor(std::string_view name, const Tensor<float>& t) override;
  void write_tensor(std::string_view name, const Tensor<double>& t) override;

  double read_scalar(std::string_view name) const override;
  std::uint64_t read_counter(std::string_view name) const override;
  bool has_counter(std::string_view name) const override;
  bool has_tensor(std::string_view name) const override;
  void read_tensor(std::string_view name, std::size_t size, Tensor<float>& out) const override;
  void read_tensor(std::string_view name, std::size_t size, Tensor<double>& out) const override;

  std::map<std::string, double, std::less<>> scalars;
  std::map<std::string, std::uint64_t, std::less<>> counters;
  std::map<std::string, Tensor<float>, std::less<>> float_tensors;
  std::map<std::string, Tensor<double>, std::less<>> double_tensors;
};

namespace detail {

// The version of every optimizer's field layout this build reads and writes.
inline constexpr std::uint64_t state_version = 1;

// Writes "state_version"; refuses (naming `who`) a reader whose layout is newer.
void write_state_version(StateWriter& out);
void check_state_version(std::string_view who, const StateReader& in);

// The counter `name`, refused unless ≤ most ("curv::optim::<who>: state.<name> = v, expected at most most (why)").
std::uint64_t read_bounded_counter(std::string_view who, const StateReader& in, std::string_view name,
                                   std::uint64_t most, std::string_view why);

// A buffer an optimizer creates on first use (SGD's momentum, Adam's
// moments): a default (0-d) tensor until then, which is not written, and
// read back as absent.
template <class T>
void write_buffer(StateWriter& out, std::string_view name, const Tensor<T>& t) {
  if (t.dimension() > 0) out.write_tensor(name, t);
}
template <class T>
Tensor<T> read_buffer(const StateReader& in, std::string_view name, std::size_t dim) {
  return in.has_tensor(name) ? in.tensor<T>(name, dim) : Tensor<T>();
}

// "s3": a field name with an index.
std::string indexed(std::string_view name, std::size_t i);

}  // namespace detail

}  // namespace curv::optim
