// Stochastic gradient descent with momentum, dampening, Nesterov momentum and
// L2 weight decay: the update of PyTorch's torch.optim.SGD, on a flat vector.
//
//   g ← clip(∇E(w))                  [clip_grad_value, clip_grad_norm set: clip.hpp]
//   g ← g + weight_decay·w
//   b ← g (first step),  b ← momentum·b + (1 − dampening)·g (later steps)   [momentum ≠ 0]
//   g ← g + momentum·b (Nesterov)  or  g ← b                                  [momentum ≠ 0]
//   w ← w − learning_rate·g
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "curv/optim/detail/first_order.hpp"
#include "curv/optim/schedule.hpp"
#include "curv/optim/state_io.hpp"

namespace curv::optim {

struct SgdOptions {
  std::size_t max_iterations = 1000;  // update steps (one per `accumulate` minibatches of a StochasticObjective)
  std::size_t max_epochs = 0;         // epochs (passes over the minibatches); 0 = no limit; the first limit reached stops
  std::size_t accumulate = 1;         // minibatches per step: the step uses the mean of their gradients
  Schedule schedule;                  // the learning rate of each step (schedule.hpp); constant by default
  double learning_rate = 1e-3;        // PyTorch: lr (1e-3 since PyTorch 2.2)
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;              // needs momentum > 0 and dampening = 0
  std::optional<double> clip_grad_norm;   // clip each step's gradient to this norm (clip.hpp); unset = off
  std::optional<double> clip_grad_value;  // clamp each element of it to ±this; unset = off
  bool record_trace = true;
};

template <class T>
struct SgdState {
  Tensor<T> w;
  Tensor<T> momentum_buffer;  // empty until the first step with momentum ≠ 0
  std::size_t step = 0;       // steps taken
  ScheduleState schedule;  // reduce-on-plateau's memory (schedule.hpp)
  double passes = 0;
  double seconds = 0;

  // The saved fields, each named once (state_io.hpp): SGD::save_state and load_state walk it.
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f, const Schedule& schedule) {
    f.tensor("w", st.w);
    f.buffer("momentum_buffer", st.momentum_buffer);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("step", st.step);
    // Reduce-on-plateau's memory, only with that schedule: a state without
    // one saves the records it always had.
    if (schedule.has_state()) ScheduleState::fields(st.schedule, f);
  }
};

template <class T>
struct SgdResult : Result<T> {
  SgdState<T> state;
};

template <class T>
class SGD {
 public:
  explicit SGD(SgdOptions options = {});

  const SgdOptions& options() const { return options_; }

  // x0 must be finite (std::invalid_argument naming the first element that is not).
  SgdState<T> start(const Tensor<T>& x0) const {
    detail::check_finite_start("SGD::start", x0);
    SgdState<T> st;
    st.w = x0;
    st.schedule = options_.schedule.start(options_.learning_rate);
    return st;
  }

  // The update of w given its gradient g (PyTorch's SGD.step) at learning
  // rate lr (step() passes the schedule's); advances st.step. Throws
  // NonFiniteError, writing nothing, when a new value would be NaN or ±inf.
  void update(Tensor<T>& w, const Tensor<T>& g, SgdState<T>& st, double lr) const;

  // Update steps per epoch of obj (⌈num_batches()/accumulate⌉; 1 on a plain
  // Objective), and one metric reported to a ReduceOnPlateau schedule
  // (PyTorch's scheduler.step(metric); other schedules ignore it).
  template <class Obj>
  std::size_t steps_per_epoch(Obj& obj) const { return detail::steps_per_epoch<T>(obj, options_.accumulate); }
  void report_metric(SgdState<T>& st, double metric) const { options_.schedule.report(metric, st.schedule); }

  // Throws std::invalid_argument naming the field, element and value unless
  // st can be resumed: w of dim finite elements, a finite momentum buffer of
  // dim elements (or none yet), passes and seconds finite and ≥ 0, and
  // with ReduceOnPlateau its rate finite and ≥ 0 and its best metric not NaN.
  void check_state(const SgdState<T>& st, std::size_t dim) const;

  // The state as fields w, momentum_buffer (tensors; the buffer only once
  // created); passes, seconds (scalars); step (counter); with a ReduceOnPlateau schedule its
  // ScheduleState as schedule.lr, schedule.best (scalars),
  // schedule.num_bad_epochs, schedule.cooldown_counter (counters).
  void save_state(const SgdState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; step at most progress.max).
  SgdState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  // One step on obj: gradient at st.w, then update.
  template <class Obj>
  IterationInfo step(Obj& obj, SgdState<T>& st, bool entering = false) const {
    return detail::first_order_step<T>("SGD", obj, st, options_, entering,
                                       [&](Tensor<T>& w, const Tensor<T>& g, double lr) { update(w, g, st, lr); });
  }

  template <class Obj>
  SgdResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    detail::check_objective<Obj, T>();
    detail::check_start("SGD::minimize", static_cast<std::size_t>(obj.dim()), x0);
    return run(obj, start(x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state). For the
  // callbacks (callback.hpp) every update is a step, and the last step of
  // each pass over the minibatches ends an epoch.
  template <class Obj>
  SgdResult<T> resume(Obj& obj, SgdState<T> st, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(st), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  SgdResult<T> run(Obj& obj, SgdState<T> st, const Callbacks<T>& callbacks, bool fresh) const {
    check_state(st, static_cast<std::size_t>(obj.dim()));
    SgdResult<T> out;
    detail::CallbackDriver<T> events(callbacks, "SGD", obj, [&](StateWriter& w) { save_state(st, w); });
    detail::first_order_run<T>(obj, st, options_, out, events, fresh,
                               [&](Obj& o, SgdState<T>& s, bool entering) { return step(o, s, entering); });
    out.state = std::move(st);
    return out;
  }

  SgdOptions options_;
};

extern template class SGD<float>;
extern template class SGD<double>;

}  // namespace curv::optim
