// The loop shared by the stochastic first-order optimizers (SGD, Adam): one
// gradient per step — the mean over `accumulate` minibatches of a
// StochasticObjective, or the full gradient of a plain Objective — then the
// optimizer's update at the schedule's learning rate, for a number of steps
// or epochs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/optim/clip.hpp"
#include "curv/optim/detail/callback_driver.hpp"
#include "curv/optim/detail/check.hpp"
#include "curv/optim/detail/flat.hpp"
#include "curv/optim/detail/objective_check.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/result.hpp"
#include "curv/optim/schedule.hpp"

namespace curv::optim::detail {

// Update steps per epoch: ⌈num_batches()/accumulate⌉ on a StochasticObjective
// (a short last group of an epoch is a step of its own), 1 on a plain
// Objective (each step is a full pass).
template <class T, class Obj>
std::size_t steps_per_epoch(Obj& obj, std::size_t accumulate) {
  if constexpr (StochasticObjective<Obj, T>) {
    const std::size_t batches = static_cast<std::size_t>(obj.num_batches());
    return (batches + accumulate - 1) / accumulate;
  } else {
    (void)obj;
    (void)accumulate;
    return 1;
  }
}

// The schedule's position at update step `step` and its learning rate.
template <class State, class Options>
double scheduled_rate(const Options& o, const State& st, std::size_t steps_per_epoch) {
  const std::size_t t = o.schedule.unit() == ScheduleUnit::step ? st.step : st.step / steps_per_epoch;
  return o.schedule.learning_rate(o.learning_rate, t, st.schedule);
}

// One step: the gradient at st.w, clipped as o.clip_grad_value and
// o.clip_grad_norm say (clip.hpp), then update(w, g, learning_rate) with the
// schedule's rate. On a StochasticObjective the gradient is the mean of the
// gradients of o.accumulate minibatches (fewer for the last group of an
// epoch): step s is group s mod steps_per_epoch of epoch s / steps_per_epoch.
// Calls begin_epoch(e) at an epoch's first minibatch, and also first thing
// when `entering` a run mid-epoch, so that a resumed run sees the same
// minibatches. A non-finite loss or gradient, or an update that would make w
// or a buffer non-finite, throws NonFiniteError (naming the step, epoch and
// minibatch) and leaves st untouched.
template <class T, class Obj, class State, class Options, class Update>
IterationInfo first_order_step(const char* who, Obj& obj, State& st, const Options& o, bool entering,
                               Update&& update) {
  check_objective<Obj, T>();
  const detail::Stopwatch clock;
  IterationInfo info;
  info.iteration = st.step + 1;
  NonFiniteError::Where where;
  where.optimizer = who;
  where.unit = "step";
  where.iteration = info.iteration;
  Tensor<T> g;
  double loss = 0;
  double passes = 0;
  if constexpr (StochasticObjective<Obj, T>) {
    const std::size_t batches = static_cast<std::size_t>(obj.num_batches());
    if (batches == 0)
      throw std::invalid_argument(std::string("curv::optim::") + who + ": the objective has num_batches() = 0");
    const std::size_t per_epoch = steps_per_epoch<T>(obj, o.accumulate);
    const std::size_t first = st.step % per_epoch * o.accumulate;
    const std::size_t end = std::min(first + o.accumulate, batches);
    info.alpha = scheduled_rate(o, st, per_epoch);
    info.epoch = st.step / per_epoch;
    info.batch = first;
    where.minibatch = true;
    where.epoch = info.epoch;
    if (first == 0 || entering) obj.begin_epoch(info.epoch);
    // The group's mean gradient, summed in double; one minibatch's is used as it is.
    std::vector<double> sum;
    Tensor<T> other;
    for (std::size_t b = first; b < end; ++b) {
      Tensor<T>& gb = b == first ? g : other;
      where.batch = b;
      const double lb = static_cast<double>(obj.batch_value_and_grad(b, st.w, gb));
      require_finite(lb, "the loss", where);
      require_finite(gb, "the gradient", where);
      loss += lb;
      if (end - first == 1) continue;
      sum.resize(gb.size());
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += static_cast<double>(gb.data()[i]);
    }
    const double count = static_cast<double>(end - first);
    if (end - first > 1)
      for (std::size_t i = 0; i < sum.size(); ++i) g.data()[i] = static_cast<T>(sum[i] / count);
    loss /= count;
    where.batch = first;
    passes = count / static_cast<double>(batches);
  } else {
    (void)entering;
    if (o.accumulate != 1)
      refuse(who, "accumulate = " + std::to_string(o.accumulate),
             "1 for an objective without minibatches (accumulation needs a StochasticObjective)");
    info.alpha = scheduled_rate(o, st, 1);
    loss = static_cast<double>(obj.value_and_grad(st.w, g));
    require_finite(loss, "the loss", where);
    require_finite(g, "the gradient", where);
    passes = 1;
  }
  info.grad_norm = detail::norm(g);  // before clipping, as clip_grad_norm_ returns it
  info.grad_mean = detail::mean(g);
  clip_gradient(g, o.clip_grad_norm, o.clip_grad_value);
  try {
    update(st.w, g, info.alpha);  // checks what it would write before writing; advances st.step
  } catch (const NonFiniteError& e) {
    NonFiniteError::Where w = e.where();
    w.minibatch = where.minibatch;
    w.epoch = where.epoch;
    w.batch = where.batch;
    throw NonFiniteError(std::move(w));
  }
  st.passes += passes;
  info.loss = loss;
  st.seconds += clock.seconds();
  info.passes = st.passes;
  info.seconds = st.seconds;
  return info;
}

// Steps until st.step = o.max_iterations or o.max_epochs epochs of steps
// (whichever comes first), a callback stops, or a step is refused as
// non-finite (StopReason::non_finite, the state before that step kept); then
// one full value(w) for out.value.
//
// Callbacks (`events`): on_begin at st (no "loss": SGD and Adam do not know
// E(w) there), on_step after every step with its minibatch loss, on_epoch
// after the last step of each epoch with "loss" the mean of the epoch's step
// losses seen in this run, on_end with the result.
template <class T, class Obj, class State, class Options, class Out, class StepFn>
void first_order_run(Obj& obj, State& st, const Options& o, Out& out, CallbackDriver<T>& events, bool fresh,
                     StepFn&& step) {
  const std::size_t per_epoch = steps_per_epoch<T>(obj, o.accumulate);
  const std::size_t epoch_limit =
      o.max_epochs == 0 ? SIZE_MAX : o.max_epochs > SIZE_MAX / per_epoch ? SIZE_MAX : o.max_epochs * per_epoch;
  {
    IterationInfo at_start;
    at_start.iteration = st.step;
    at_start.passes = st.passes;
    at_start.seconds = st.seconds;
    at_start.epoch = st.step / per_epoch;
    events.begin(at_start, st.w, st.step / per_epoch, IterationInfo::nan, fresh);
  }
  if (events.stop_requested()) {
    out.stop_reason = StopReason::callback;
    out.message = events.stop_reason();
  }
  double epoch_loss = 0;  // the sum of this epoch's step losses, and how many
  std::size_t epoch_steps = 0;
  bool entering = true;
  while (out.stop_reason == StopReason::none) {
    if (st.step >= o.max_iterations) {
      out.stop_reason = StopReason::max_iterations;
      out.message = "reached max_iterations = " + std::to_string(o.max_iterations);
      break;
    }
    if (st.step >= epoch_limit) {
      out.stop_reason = StopReason::max_epochs;
      out.message = "reached max_epochs = " + std::to_string(o.max_epochs) + " (" + std::to_string(per_epoch) +
                    " steps each)";
      break;
    }
    IterationInfo info;
    try {
      info = step(obj, st, entering);
    } catch (const NonFiniteError& e) {
      out.stop_reason = StopReason::non_finite;
      out.message = e.what();
      break;
    }
    entering = false;
    if (o.record_trace) out.trace.push_back(info);
    events.step(info, st.w, st.step / per_epoch);
    epoch_loss += info.loss;
    ++epoch_steps;
    if (st.step % per_epoch == 0) {
      events.epoch(info, st.w, st.step / per_epoch, epoch_loss / static_cast<double>(epoch_steps));
      epoch_loss = 0;
      epoch_steps = 0;
    }
    if (events.stop_requested()) {
      out.stop_reason = StopReason::callback;
      out.message = events.stop_reason();
    }
  }
  out.x = st.w;
  out.value = static_cast<double>(obj.value(st.w));
  st.passes += 1;
  out.iterations = st.step;
  out.converged = false;
  out.passes = st.passes;
  out.seconds = st.seconds;
  events.end(out);
}

}  // namespace curv::optim::detail
