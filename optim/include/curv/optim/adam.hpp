// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019): the updates of
// PyTorch's torch.optim.Adam / AdamW, on a flat vector. At step t = 1, 2, …:
//
//   g ← clip(∇E(w))                                 [clip_grad_value, clip_grad_norm set: clip.hpp]
//   w ← w·(1 − lr·weight_decay)                     [AdamW, decoupled]
//   g ← g + weight_decay·w                          [Adam, L2]
//   m ← m + (1 − β₁)(g − m)                          (PyTorch's lerp)
//   v ← β₂·v + (1 − β₂)·g²
//   v̂ ← max(v̂, v) [amsgrad], else v̂ = v
//   w ← w − (lr/(1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "curv/optim/detail/first_order.hpp"
#include "curv/optim/schedule.hpp"
#include "curv/optim/state_io.hpp"

namespace curv::optim {

struct AdamOptions {
  std::size_t max_iterations = 1000;  // update steps (one per `accumulate` minibatches of a StochasticObjective)
  std::size_t max_epochs = 0;         // epochs (passes over the minibatches); 0 = no limit; the first limit reached stops
  std::size_t accumulate = 1;         // minibatches per step: the step uses the mean of their gradients
  Schedule schedule;                  // the learning rate of each step (schedule.hpp); constant by default
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // true: AdamW
  std::optional<double> clip_grad_norm;   // clip each step's gradient to this norm (clip.hpp); unset = off
  std::optional<double> clip_grad_value;  // clamp each element of it to ±this; unset = off
  bool amsgrad = false;
  bool record_trace = true;
};

// AdamW's defaults (PyTorch): decoupled weight decay 1e-2.
struct AdamWOptions : AdamOptions {
  AdamWOptions() {
    weight_decay = 1e-2;
    decoupled_weight_decay = true;
  }
};

template <class T>
struct AdamState {
  Tensor<T> w;
  Tensor<T> exp_avg;         // m
  Tensor<T> exp_avg_sq;      // v
  Tensor<T> max_exp_avg_sq;  // v̂ (amsgrad)
  std::size_t step = 0;      // t
  ScheduleState schedule;  // reduce-on-plateau's memory (schedule.hpp)
  double passes = 0;
  double seconds = 0;

  // The saved fields, each named once (state_io.hpp): Adam::save_state and
  // load_state walk it. The moments exist once the first step made them.
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f, const Schedule& schedule) {
    f.tensor("w", st.w);
    f.buffer("exp_avg", st.exp_avg);
    f.buffer("exp_avg_sq", st.exp_avg_sq);
    f.buffer("max_exp_avg_sq", st.max_exp_avg_sq);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("step", st.step);
    // Reduce-on-plateau's memory, only with that schedule: a state without
    // one saves the records it always had.
    if (schedule.has_state()) ScheduleState::fields(st.schedule, f);
  }
};

template <class T>
struct AdamResult : Result<T> {
  AdamState<T> state;
};

template <class T>
class Adam {
 public:
  explicit Adam(AdamOptions options = {});

  const AdamOptions& options() const { return options_; }

  // x0 must be finite (std::invalid_argument naming the first element that is not).
  AdamState<T> start(const Tensor<T>& x0) const;

  // The update of w given its gradient g (PyTorch's Adam.step) at learning
  // rate lr (step() passes the schedule's); advances st.step (t). Throws
  // NonFiniteError, writing nothing, when a new value would be NaN or ±inf.
  void update(Tensor<T>& w, const Tensor<T>& g, AdamState<T>& st, double lr) const;

  // Update steps per epoch of obj (⌈num_batches()/accumulate⌉; 1 on a plain
  // Objective), and one metric reported to a ReduceOnPlateau schedule
  // (PyTorch's scheduler.step(metric); other schedules ignore it).
  template <class Obj>
  std::size_t steps_per_epoch(Obj& obj) const { return detail::steps_per_epoch<T>(obj, options_.accumulate); }
  void report_metric(AdamState<T>& st, double metric) const { options_.schedule.report(metric, st.schedule); }

  // Throws std::invalid_argument naming the field, element and value unless
  // st can be resumed: w of dim finite elements, moments of dim finite
  // elements (or none yet), the second moments ≥ 0, passes and seconds
  // finite and ≥ 0, and with ReduceOnPlateau its rate finite and ≥ 0 and
  // its best metric not NaN.
  void check_state(const AdamState<T>& st, std::size_t dim) const;

  // The state as fields w, exp_avg, exp_avg_sq, max_exp_avg_sq (tensors; the
  // moments only once created); passes, seconds (scalars); step (counter); with a ReduceOnPlateau schedule its
  // ScheduleState as schedule.lr, schedule.best (scalars),
  // schedule.num_bad_epochs, schedule.cooldown_counter (counters).
  void save_state(const AdamState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; step at most progress.max).
  AdamState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  IterationInfo step(Obj& obj, AdamState<T>& st, bool entering = false) const {
    return detail::first_order_step<T>("Adam", obj, st, options_, entering,
                                       [&](Tensor<T>& w, const Tensor<T>& g, double lr) { update(w, g, st, lr); });
  }

  template <class Obj>
  AdamResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    detail::check_objective<Obj, T>();
    detail::check_start("Adam::minimize", static_cast<std::size_t>(obj.dim()), x0);
    return run(obj, start(x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state). For the
  // callbacks (callback.hpp) every update is a step, and the last step of
  // each pass over the minibatches ends an epoch.
  template <class Obj>
  AdamResult<T> resume(Obj& obj, AdamState<T> st, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(st), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  AdamResult<T> run(Obj& obj, AdamState<T> st, const Callbacks<T>& callbacks, bool fresh) const {
    check_state(st, static_cast<std::size_t>(obj.dim()));
    AdamResult<T> out;
    detail::CallbackDriver<T> events(callbacks, "Adam", obj, [&](StateWriter& w) { save_state(st, w); });
    detail::first_order_run<T>(obj, st, options_, out, events, fresh,
                               [&](Obj& o, AdamState<T>& s, bool entering) { return step(o, s, entering); });
    out.state = std::move(st);
    return out;
  }

  AdamOptions options_;
};

// Adam with decoupled weight decay; AdamWOptions has PyTorch's AdamW defaults.
template <class T>
class AdamW : public Adam<T> {
 public:
  explicit AdamW(AdamWOptions options = {}) : Adam<T>(decoupled(options)) {}

 private:
  static AdamOptions decoupled(AdamOptions o) {
    o.decoupled_weight_decay = true;
    return o;
  }
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace curv::optim
