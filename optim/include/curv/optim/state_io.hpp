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
// Each State names its fields once, in a static member that both saving and
// loading walk (detail::SaveFields writes, detail::LoadFields reads):
//
//   template <class Self, class Fields>   // Self: State or const State
//   static void fields(Self& st, Fields& f) {
//     f.tensor("w", st.w);                // dim elements
//     f.buffer("exp_avg", st.exp_avg);    // dim elements once created, absent before
//     f.scalar("loss", st.loss);          // f64, bit exact
//     f.flag("success", st.success);      // counter 0 or 1
//     f.progress("iteration", st.iteration);  // counter within load_state's ProgressLimit
//     f.counter("restart_counter", st.restart_counter, f.dim(), "why at most dim");
//   }
//
// Loading reads every field, bounds the counters, then runs the optimizer's
// check_state: a state that loads is one `resume` accepts. Every refusal is
// std::invalid_argument (or the storage's own error for a missing or
// malformed record) naming the field.
#pragma once

#include <cstddef>
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

// "s3": a field name with an index.
std::string indexed(std::string_view name, std::size_t i);

// save_state's side of a State's field list: writes every field it is shown.
class SaveFields {
 public:
  SaveFields(StateWriter& out, std::size_t dim) : out_(out), dim_(dim) {}
  std::size_t dim() const { return dim_; }

  template <class T>
  void tensor(std::string_view name, const Tensor<T>& t) { out_.write_tensor(name, t); }
  // A buffer not created yet (a default, 0-d tensor) is not written.
  template <class T>
  void buffer(std::string_view name, const Tensor<T>& t) {
    if (t.dimension() > 0) out_.write_tensor(name, t);
  }
  void scalar(std::string_view name, double v) { out_.write_scalar(name, v); }
  void flag(std::string_view name, bool v) { out_.write_counter(name, v ? 1 : 0); }
  void progress(std::string_view name, std::uint64_t v) { out_.write_counter(name, v); }
  void counter(std::string_view name, std::uint64_t v, std::uint64_t /*most*/, std::string_view /*why*/) {
    out_.write_counter(name, v);
  }
  void setting(std::string_view name, std::uint64_t v, std::string_view /*what*/) { out_.write_counter(name, v); }
  template <class Seq, class Each>
  void sequence(std::string_view count_name, const Seq& seq, std::uint64_t /*most*/, std::string_view /*why*/,
                const Each& each) {
    out_.write_counter(count_name, seq.size());
    for (std::size_t i = 0; i < seq.size(); ++i) each(seq[i], i);
  }

 private:
  StateWriter& out_;
  std::size_t dim_;
};

// load_state's side: reads every field it is shown and bounds the counters,
// each refusal naming `who` and the field ("curv::optim::SCG: state.iteration
// = 9, expected at most 3 (the --epochs 3 of this run)"). Tensors are read
// at dim elements; the reader's own error names a missing or mis-shaped one.
class LoadFields {
 public:
  LoadFields(std::string_view who, const StateReader& in, std::size_t dim, const ProgressLimit& progress)
      : who_(who), in_(in), dim_(dim), progress_(progress) {}
  std::size_t dim() const { return dim_; }

  template <class T>
  void tensor(std::string_view name, Tensor<T>& t) { in_.read_tensor(name, dim_, t); }
  // An absent buffer is read as not created yet (a default, 0-d tensor).
  template <class T>
  void buffer(std::string_view name, Tensor<T>& t) {
    if (in_.has_tensor(name))
      in_.read_tensor(name, dim_, t);
    else
      t = Tensor<T>();
  }
  void scalar(std::string_view name, double& v) { v = in_.read_scalar(name); }
  void flag(std::string_view name, bool& v) { v = at_most(name, 1, "0 or 1") != 0; }
  void progress(std::string_view name, std::size_t& v) { v = at_most(name, progress_.max, progress_.why); }
  void counter(std::string_view name, std::size_t& v, std::uint64_t most, std::string_view why) {
    v = at_most(name, most, why);
  }
  // A counter the state was saved under that this run must have too (L-BFGS's memory capacity).
  void setting(std::string_view name, std::uint64_t v, std::string_view what) const;
  // A count `count_name` (at most `most`), then each(element, index) for that many new elements.
  template <class Seq, class Each>
  void sequence(std::string_view count_name, Seq& seq, std::uint64_t most, std::string_view why, const Each& each) {
    const std::uint64_t n = at_most(count_name, most, why);
    seq.clear();
    seq.resize(n);
    for (std::size_t i = 0; i < n; ++i) each(seq[i], i);
  }

 private:
  std::uint64_t at_most(std::string_view name, std::uint64_t most, std::string_view why) const;

  std::string_view who_;
  const StateReader& in_;
  std::size_t dim_;
  const ProgressLimit& progress_;
};

// An optimizer's save_state and load_state: "state_version", then the
// State's fields(st, f, extra...) written, or read and bounded. check_state
// is the caller's.
template <class State, class... Extra>
void save_fields(StateWriter& out, const State& st, const Extra&... extra) {
  write_state_version(out);
  SaveFields f(out, st.w.size());
  State::fields(st, f, extra...);
}
template <class State, class... Extra>
State load_fields(std::string_view who, const StateReader& in, std::size_t dim, const ProgressLimit& progress,
                  const Extra&... extra) {
  check_state_version(who, in);
  State st;
  LoadFields f(who, in, dim, progress);
  State::fields(st, f, extra...);
  return st;
}

}  // namespace detail

}  // namespace curv::optim
