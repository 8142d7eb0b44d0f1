// The loop shared by the stochastic first-order optimizers (SGD, Adam): one
// gradient per step — a minibatch of a StochasticObjective, or the full
// gradient of a plain Objective — then the optimizer's update, for a fixed
// number of steps.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/optim/detail/flat.hpp"
#include "curv/optim/detail/objective_check.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim::detail {

// One step: gradient at st.w (minibatch st.step mod num_batches() of epoch
// st.step / num_batches()), then update(w, g). Calls begin_epoch(e) at an
// epoch's first minibatch, and also first thing when `entering` a run
// mid-epoch, so that a resumed run sees the same minibatches. A non-finite
// loss or gradient, or an update that would make w or a buffer non-finite,
// throws NonFiniteError (naming the step, epoch and minibatch) and leaves st
// untouched.
template <class T, class Obj, class State, class Update>
IterationInfo first_order_step(const char* who, Obj& obj, State& st, double learning_rate, bool entering,
                               Update&& update) {
  check_objective<Obj, T>();
  const detail::Stopwatch clock;
  IterationInfo info;
  info.iteration = st.step + 1;
  info.alpha = learning_rate;
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
    info.epoch = st.step / batches;
    info.batch = st.step % batches;
    where.minibatch = true;
    where.epoch = info.epoch;
    where.batch = info.batch;
    if (info.batch == 0 || entering) obj.begin_epoch(info.epoch);
    loss = static_cast<double>(obj.batch_value_and_grad(info.batch, st.w, g));
    passes = 1.0 / static_cast<double>(batches);
  } else {
    (void)entering;
    loss = static_cast<double>(obj.value_and_grad(st.w, g));
    passes = 1;
  }
  require_finite(loss, "the loss", where);
  require_finite(g, "the gradient", where);
  try {
    update(st.w, g);  // checks what it would write before writing; advances st.step
  } catch (const NonFiniteError& e) {
    NonFiniteError::Where w = e.where();
    w.minibatch = where.minibatch;
    w.epoch = where.epoch;
    w.batch = where.batch;
    throw NonFiniteError(std::move(w));
  }
  st.passes += passes;
  info.loss = loss;
  info.grad_norm = detail::norm(g);
  info.grad_mean = detail::mean(g);
  st.seconds += clock.seconds();
  info.passes = st.passes;
  info.seconds = st.seconds;
  return info;
}

// Steps until st.step = max_iterations, a callback stops, or a step is
// refused as non-finite (StopReason::non_finite, the state before that step
// kept); then one full value(w) for out.value.
template <class T, class Obj, class State, class Out, class StepFn>
void first_order_run(Obj& obj, State& st, std::size_t max_iterations, bool record_trace,
                     const std::vector<Callback>& callbacks, Out& out, StepFn&& step) {
  bool entering = true;
  while (out.stop_reason == StopReason::none) {
    if (st.step >= max_iterations) {
      out.stop_reason = StopReason::max_iterations;
      out.message = "reached max_iterations = " + std::to_string(max_iterations);
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
    if (record_trace) out.trace.push_back(info);
    if (detail::run_callbacks(callbacks, info)) {
      out.stop_reason = StopReason::callback;
      out.message = "a callback stopped the run at step " + std::to_string(info.iteration);
    }
  }
  out.x = st.w;
  out.value = static_cast<double>(obj.value(st.w));
  st.passes += 1;
  out.iterations = st.step;
  out.converged = false;
  out.passes = st.passes;
  out.seconds = st.seconds;
}

}  // namespace curv::optim::detail
