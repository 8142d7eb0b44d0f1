// Callbacks: code that runs inside an optimizer's minimize() and resume() and
// sees what the optimizer sees — the iteration's record, the current weights,
// the objective (to evaluate, not to change) and the optimizer's state (to
// save) — and may stop the run. Validation, early stopping, checkpoints,
// logging and progress are callbacks (callbacks.hpp, datasets/validation.hpp),
// not flags of the loop. The anchors: ensmallen's callbacks (BeginOptimization,
// StepTaken, EndEpoch, EndOptimization, all handed the coordinates) and Keras'
// (on_epoch_end with a logs dictionary that validation fills and early
// stopping reads).
//
// The events, in order:
//   on_begin  once per call, before its first iteration. At a fresh start
//             (minimize(); fresh_start() is true) it stands for "epoch 0":
//             loggers write the starting point, validation evaluates it,
//             early stopping takes it as the first candidate. After a
//             resume() it marks the point the run continues from.
//   on_step   after every step: an iteration of SCG, L-BFGS or CG; an update
//             of SGD or Adam.
//   on_epoch  after every epoch: each iteration of a full-dataset optimizer
//             (it sees the whole data at least once, so it is one); the last
//             step of each pass over the minibatches for SGD/Adam on a
//             StochasticObjective (each step on a plain Objective).
//   on_end    once, with the Result, which it may change (EarlyStopping
//             restores the best weights there). Not called when the loop ends
//             by an exception.
// Callbacks run in list order, every one of them at every event; a callback
// sees the metrics that the ones before it set in this event. Any of them may
// call stop(reason): the run then ends after this event with
// StopReason::callback and the first reason given as its message.
//
// A hand-written loop (curv-train's, a user's) drives the same callbacks
// through CallbackList and a CallbackContext it fills itself.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "curv/autodiff/tensor.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/result.hpp"
#include "curv/optim/state_io.hpp"

namespace curv::optim {

// Named numbers of the current event, passed along the callback list: the
// optimizer sets "loss" (at on_epoch of SGD/Adam the mean of the epoch's
// minibatch losses, otherwise E(w)); Validation adds "val_loss" and
// "val_accuracy"; EarlyStopping and the loggers read them. Kept in the order
// they were first set, which is the order loggers write them.
class Metrics {
 public:
  void set(std::string_view name, double value);
  // The value of `name`, or nothing when no callback set it in this event.
  std::optional<double> find(std::string_view name) const;
  // Throws std::invalid_argument naming `name` and the metrics there are.
  double at(std::string_view name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// A read-only handle to the objective of the run: a callback can evaluate it
// (each call is one pass over the data that the optimizer does not count)
// but not reconfigure it. The objective must outlive the handle.
template <class T>
class ObjectiveRef {
 public:
  template <class F>
    requires(Objective<F, T> && !std::same_as<std::remove_cv_t<F>, ObjectiveRef>)  // copies stay copies
  explicit ObjectiveRef(F& f)
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        dim_([](void* o) -> std::size_t { return static_cast<std::size_t>(static_cast<F*>(o)->dim()); }),
        value_([](void* o, const Tensor<T>& w) -> T { return static_cast<F*>(o)->value(w); }),
        value_and_grad_([](void* o, const Tensor<T>& w, Tensor<T>& g) -> T {
          return static_cast<F*>(o)->value_and_grad(w, g);
        }) {}

  std::size_t dim() const { return dim_(object_); }
  T value(const Tensor<T>& w) const { return value_(object_, w); }
  T value_and_grad(const Tensor<T>& w, Tensor<T>& g) const { return value_and_grad_(object_, w, g); }

 private:
  void* object_;
  std::size_t (*dim_)(void*);
  T (*value_)(void*, const Tensor<T>&);
  T (*value_and_grad_)(void*, const Tensor<T>&, Tensor<T>&);
};

// What a callback sees at an event. The driver (an optimizer's loop, or a
// hand-written one) makes one per run and calls at() before each event.
template <class T>
class CallbackContext {
 public:
  // `save_state` writes the optimizer's whole state (its save_state); empty
  // when the driver cannot save one.
  CallbackContext(std::string optimizer, ObjectiveRef<T> objective,
                  std::function<void(StateWriter&)> save_state = {})
      : optimizer_(std::move(optimizer)), objective_(objective), save_state_(std::move(save_state)) {}

  // For drivers: the event's record, weights and epochs completed, and (for
  // on_begin) whether the run starts afresh rather than continuing a saved
  // state; clears the metrics (the driver then sets its own, e.g. "loss").
  void at(const IterationInfo& info, const Tensor<T>& w, std::size_t epoch, bool fresh_start = false) {
    info_ = &info;
    w_ = &w;
    epoch_ = epoch;
    fresh_start_ = fresh_start;
    metrics_.clear();
  }

  std::string_view optimizer() const { return optimizer_; }  // "SCG", "SGD", …
  const IterationInfo& info() const { return *info_; }      // the last iteration (on_begin: the starting point)
  const Tensor<T>& w() const { return *w_; }                 // the weights after it
  std::size_t epoch() const { return epoch_; }               // epochs completed so far
  bool fresh_start() const { return fresh_start_; }          // on_begin of a run from its initial point
  const ObjectiveRef<T>& objective() const { return objective_; }
  Metrics& metrics() { return metrics_; }
  const Metrics& metrics() const { return metrics_; }

  // Writes the optimizer's full state (what its resume() continues from
  // bit-identically) through optim's state I/O; throws std::logic_error
  // when the driver gave no way to.
  bool can_save_state() const { return static_cast<bool>(save_state_); }
  void save_state(StateWriter& out) const;

  // Asks the run to end after this event (StopReason::callback); the first
  // reason given becomes the Result's message.
  void stop(std::string reason) {
    if (!stop_reason_) stop_reason_ = std::move(reason);
  }
  bool stop_requested() const { return stop_reason_.has_value(); }
  const std::string& stop_reason() const { return *stop_reason_; }

 private:
  std::string optimizer_;
  ObjectiveRef<T> objective_;
  std::function<void(StateWriter&)> save_state_;
  const IterationInfo* info_ = nullptr;
  const Tensor<T>* w_ = nullptr;
  std::size_t epoch_ = 0;
  bool fresh_start_ = false;
  Metrics metrics_;
  std::optional<std::string> stop_reason_;
};

// The base of every callback: override the events it needs.
template <class T>
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_begin(CallbackContext<T>& /*context*/) {}
  virtual void on_step(CallbackContext<T>& /*context*/) {}
  virtual void on_epoch(CallbackContext<T>& /*context*/) {}
  virtual void on_end(CallbackContext<T>& /*context*/, Result<T>& /*result*/) {}
};

// The callbacks of a run, not owned: the caller keeps each alive (and can
// read it afterwards, e.g. EarlyStopping's best epoch). Null entries are
// skipped.
template <class T>
using Callbacks = std::vector<Callback<T>*>;

// Calls every callback of a list at an event, in order.
template <class T>
class CallbackList {
 public:
  CallbackList(Callbacks<T> callbacks = {}) : callbacks_(std::move(callbacks)) {}  // NOLINT: a list converts

  bool empty() const { return callbacks_.empty(); }
  void begin(CallbackContext<T>& c) const {
    for (Callback<T>* cb : callbacks_)
      if (cb) cb->on_begin(c);
  }
  void step(CallbackContext<T>& c) const {
    for (Callback<T>* cb : callbacks_)
      if (cb) cb->on_step(c);
  }
  void epoch(CallbackContext<T>& c) const {
    for (Callback<T>* cb : callbacks_)
      if (cb) cb->on_epoch(c);
  }
  void end(CallbackContext<T>& c, Result<T>& result) const {
    for (Callback<T>* cb : callbacks_)
      if (cb) cb->on_end(c, result);
  }

 private:
  Callbacks<T> callbacks_;
};

template <class T>
void CallbackContext<T>::save_state(StateWriter& out) const {
  if (!save_state_) throw std::logic_error("curv::optim::CallbackContext::save_state: the " + optimizer_ + " run's driver gave no way to save its state");
  save_state_(out);
}

}  // namespace curv::optim
