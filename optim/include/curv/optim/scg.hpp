// Scaled Conjugate Gradient (SCG): M. F. Møller, "A scaled conjugate gradient
// algorithm for fast supervised learning", Neural Networks 6(4):525–533, 1993.
//
// Conjugate directions without a line search: the step length along p_k comes
// from the curvature δ_k = p_kᵀH p_k, regularised Levenberg–Marquardt style by
// λ_k, and λ_k adapts to how well the local quadratic model predicted the
// actual decrease (Δ_k). Møller approximated s_k = H p_k by a finite
// difference of gradients; curv computes it exactly by forward-over-reverse
// (Curvature::exact, the default), or uses the Gauss–Newton product, or the
// paper's finite difference for reproducing published numbers.
//
// step() below is the paper's steps 2–9 in order, each marked with its
// number; docs/optimizers.md lists where curv departs from the paper and why.
// The article's reprint of the algorithm has three slips — Δ evaluated at
// w + σp instead of w + αp, p_{k+1} = r_{k+1} + βr_k instead of + βp_k, and
// λ raised when Δ > 0.25 instead of Δ < 0.25 — this file follows the paper.
//
// Notation: w_k weights, E the objective, r_k = −E′(w_k), p_k the search
// direction, λ_k the scale, λ̄_k the part of λ_k already in δ_k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/optim/callback.hpp"
#include "curv/optim/detail/callback_driver.hpp"
#include "curv/optim/detail/flat.hpp"
#include "curv/optim/state_io.hpp"
#include "curv/optim/detail/objective_check.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim {

// Where s_k = H p_k of step 2 comes from.
enum class Curvature {
  exact,              // ∇²E(w)·p by forward-over-reverse (needs a CurvatureObjective); no σ
  gauss_newton,       // G(w)·p, positive semi-definite (needs a GaussNewtonObjective)
  finite_difference,  // Møller's (E′(w + σ_k p) − E′(w))/σ_k, σ_k = σ/|p|
};

// What counts towards the restart to steepest descent every N iterations.
enum class RestartCounter {
  iterations,  // Møller: restart at a success when k mod N = 0 (k counts every iteration)
  successes,   // netlab scg.m: restart after N successful iterations
};

struct ScgOptions {
  std::size_t max_iterations = 1000;  // k ≤ max_iterations (every iteration counts, failed ones too)
  double gradient_tolerance = 1e-6;   // stop when |E′(w)| ≤ this (Møller step 9 with a tolerance)
  double relative_loss_tolerance = 0; // stop when a success changes E by ≤ this · max(|E_k|, |E_{k+1}|); 0 = off
  Curvature curvature = Curvature::exact;
  double lambda_initial = 1e-6;       // λ₁ (Møller: 0 < λ₁ ≤ 1e-6)
  double lambda_min = 1e-15;          // λ is kept within [lambda_min, lambda_max];
  double lambda_max = 1e20;           // reaching lambda_max stops the run (StopReason::stalled)
  double sigma = 1e-4;                // σ of Curvature::finite_difference (Møller: 0 < σ ≤ 1e-4)
  std::size_t restart_interval = 0;   // N; 0 means obj.dim()
  RestartCounter restart_counter = RestartCounter::successes;  // see docs/optimizers.md
  bool record_trace = true;           // keep every IterationInfo in the result
};

// Everything SCG carries from one iteration to the next. A run resumed from a
// copy of it (SCG::resume) continues bit-identically: save it to checkpoint.
template <class T>
struct ScgState {
  Tensor<T> w;                    // w_k
  Tensor<T> r;                    // r_k = −E′(w_k)
  Tensor<T> p;                    // p_k
  double loss = 0;                // E(w_k)
  double lambda = 0;              // λ_k
  double lambda_bar = 0;          // λ̄_k
  double delta = 0;               // δ_k as left by steps 3–4: reused when the last step failed
  bool success = true;            // step 2 computes new curvature information
  std::size_t iteration = 0;      // iterations done (k − 1)
  std::size_t restart_counter = 0;// iterations (or successes) counted towards the next restart
  double passes = 0;              // passes over the data so far
  double seconds = 0;             // time spent so far

  // The saved fields, each named once (state_io.hpp): SCG::save_state and load_state walk it.
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f) {
    f.tensor("w", st.w);
    f.tensor("r", st.r);
    f.tensor("p", st.p);
    f.scalar("loss", st.loss);
    f.scalar("lambda", st.lambda);
    f.scalar("lambda_bar", st.lambda_bar);
    f.scalar("delta", st.delta);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.flag("success", st.success);
    f.progress("iteration", st.iteration);
    f.counter("restart_counter", st.restart_counter, f.dim(), "the restart interval, the parameter count");
  }
};

template <class T>
struct ScgResult : Result<T> {
  ScgState<T> state;  // the state at the stop: resume from it
};

template <class T>
class SCG {
 public:
  explicit SCG(ScgOptions options = {});

  const ScgOptions& options() const { return options_; }

  // Step 1: w₁ = x0, p₁ = r₁ = −E′(w₁), λ₁, λ̄₁ = 0, success = true (one pass).
  template <class Obj>
  ScgState<T> start(Obj& obj, const Tensor<T>& x0) const;

  // One iteration (steps 2–8) from `state`, which it updates; returns its
  // record. A non-finite curvature δ, or any new state value that would be
  // NaN or ±inf, throws NonFiniteError; so does any exception of the
  // objective: the state is then left exactly as it was (a non-finite trial
  // point is no error: it is a failed step, Δ < 0, and λ grows).
  template <class Obj>
  IterationInfo step(Obj& obj, ScgState<T>& state) const;

  // Throws std::invalid_argument naming the field and its value unless st
  // can be resumed: w, r, p of dim finite elements, loss and δ finite,
  // λ in [lambda_min, lambda_max], λ̄ finite and ≥ 0, passes and seconds
  // finite and ≥ 0.
  void check_state(const ScgState<T>& st, std::size_t dim) const;

  // The state as fields w, r, p (tensors); loss, lambda, lambda_bar, delta,
  // passes, seconds (scalars); success, iteration, restart_counter (counters).
  void save_state(const ScgState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; iteration at most
  // progress.max, restart_counter at most dim, success 0 or 1).
  ScgState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  ScgResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    return run(obj, start(obj, x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state) until a
  // stop criterion holds (max_iterations counts the iterations already in
  // the state). Each iteration is a step and an epoch for the callbacks
  // (callback.hpp).
  template <class Obj>
  ScgResult<T> resume(Obj& obj, ScgState<T> state, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(state), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  ScgResult<T> run(Obj& obj, ScgState<T> st, const Callbacks<T>& callbacks, bool fresh) const;
  // δ_k = p_kᵀs_k of step 2 at w along p (r = −E′(w)); counts its pass.
  template <class Obj>
  double curvature(Obj& obj, const Tensor<T>& w, const Tensor<T>& p, const Tensor<T>& r, double& passes) const;
  // Relative size of a loss difference below which it is rounding noise.
  static constexpr double rounding_level_ = 1e3 * std::numeric_limits<T>::epsilon();

  double clamp_lambda(double lambda) const {
    return std::clamp(lambda, options_.lambda_min, options_.lambda_max);
  }

  ScgOptions options_;
};

// ---------------------------------------------------------------------------

template <class T>
template <class Obj>
ScgState<T> SCG<T>::start(Obj& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("SCG::start", static_cast<std::size_t>(obj.dim()), x0);
  ScgState<T> st;
  st.w = x0;
  Tensor<T> g;
  st.loss = static_cast<double>(obj.value_and_grad(st.w, g));
  st.passes = 1;
  if (!std::isfinite(st.loss) || !detail::all_finite(g))
    throw std::invalid_argument("curv::optim::SCG::start: the objective or its gradient is not finite at x0 (E(x0) = " +
                                std::to_string(st.loss) + ")");
  detail::negate(st.r, g);
  st.p = st.r;
  st.lambda = options_.lambda_initial;
  st.lambda_bar = 0;
  st.success = true;
  return st;
}

template <class T>
template <class Obj>
double SCG<T>::curvature(Obj& obj, const Tensor<T>& w, const Tensor<T>& p, const Tensor<T>& r,
                         double& passes) const {
  Tensor<T> g;
  switch (options_.curvature) {
    case Curvature::exact: {
      if constexpr (CurvatureObjective<Obj, T>) {
        Tensor<T> s;
        obj.hvp(w, p, g, s);
        passes += 1;
        return detail::dot(p, s);
      } else {
        throw std::invalid_argument(
            "curv::optim::SCG: curvature = exact needs an objective with hvp(w, v, g, hv) "
            "(CurvatureObjective); use Curvature::finite_difference for a gradient-only objective");
      }
    }
    case Curvature::gauss_newton: {
      if constexpr (GaussNewtonObjective<Obj, T>) {
        Tensor<T> s;
        obj.gnvp(w, p, g, s);
        passes += 1;
        return detail::dot(p, s);
      } else {
        throw std::invalid_argument(
            "curv::optim::SCG: curvature = gauss_newton needs an objective with gnvp(w, v, g, gv) "
            "(GaussNewtonObjective)");
      }
    }
    case Curvature::finite_difference: {
      // σ_k = σ/|p_k|;  s_k = (E′(w_k + σ_k p_k) − E′(w_k))/σ_k, so
      // δ_k = p_kᵀs_k = (p_kᵀE′(w_k + σ_k p_k) + p_kᵀr_k)/σ_k.
      const double sigma_k = options_.sigma / detail::norm(p);
      Tensor<T> w_sigma;
      detail::add_scaled(w_sigma, w, sigma_k, p);
      obj.value_and_grad(w_sigma, g);
      passes += 1;
      return (detail::dot(p, g) + detail::dot(p, r)) / sigma_k;
    }
  }
  throw std::logic_error("curv::optim::SCG: unknown Curvature value");
}

template <class T>
template <class Obj>
IterationInfo SCG<T>::step(Obj& obj, ScgState<T>& st) const {
  detail::check_objective<Obj, T>();
  const detail::Stopwatch clock;
  IterationInfo info;
  info.iteration = st.iteration + 1;
  const std::size_t k = info.iteration;
  const std::size_t restart_n =
      options_.restart_interval > 0 ? options_.restart_interval : static_cast<std::size_t>(obj.dim());
  NonFiniteError::Where where;
  where.optimizer = "SCG";
  where.iteration = k;

  auto finish = [&](IterationInfo& out) -> IterationInfo {
    st.iteration = k;
    st.seconds += clock.seconds();
    out.loss = st.loss;
    out.grad_norm = detail::norm(st.r);
    out.grad_mean = -detail::mean(st.r);
    out.passes = st.passes;
    out.seconds = st.seconds;
    return out;
  };

  // Step 9's test, made before rather than after: r_k = 0 leaves nothing to do.
  if (detail::norm(st.r) == 0) {
    info.p_norm = 0;
    info.p_mean = 0;
    return finish(info);
  }

  // The iteration works on copies of the state's numbers and commits them at
  // the end, so that an exception (a non-finite value, an objective that
  // throws, a cancelled pass) leaves st as it was.
  double passes = st.passes;
  double delta = st.delta;
  double lambda = st.lambda;
  double lambda_bar = st.lambda_bar;
  std::size_t restart_counter = st.restart_counter;

  // Step 2: new second-order information after a success.
  //   σ_k = σ/|p_k|, s_k = (E′(w_k + σ_k p_k) − E′(w_k))/σ_k  (or s_k = H p_k exactly),
  //   δ_k = p_kᵀs_k.
  // Safeguard (not in the paper, as netlab): if p_k is no descent direction
  // (μ_k = p_kᵀr_k ≤ 0) restart from steepest descent, p_k = r_k.
  bool restart_p = false;
  if (st.success) {
    if (!(detail::dot(st.p, st.r) > 0)) {
      restart_p = true;
      info.restarted = true;
      if (options_.restart_counter == RestartCounter::successes) restart_counter = 0;
    }
    delta = curvature(obj, st.w, restart_p ? st.r : st.p, st.r, passes);
    detail::require_finite(delta, "the curvature delta = p'Hp", where);
  }
  const Tensor<T>& p = restart_p ? st.r : st.p;
  const double p_norm2 = detail::dot(p, p);  // |p_k|²
  info.p_norm = std::sqrt(p_norm2);
  info.p_mean = detail::mean(p);

  // Step 3: scale s_k: s_k += (λ_k − λ̄_k) p_k, δ_k += (λ_k − λ̄_k)|p_k|².
  delta += (lambda - lambda_bar) * p_norm2;
  info.delta = delta;

  // Step 4: if δ_k ≤ 0, make the Hessian positive definite:
  //   s_k += (λ_k − 2δ_k/|p_k|²) p_k,  λ̄_k = 2(λ_k − δ_k/|p_k|²),
  //   δ_k = −δ_k + λ_k|p_k|²,  λ_k = λ̄_k.
  if (delta <= 0) {
    info.delta_fixed = true;
    lambda_bar = 2 * (lambda - delta / p_norm2);
    delta = -delta + lambda * p_norm2;
    lambda = clamp_lambda(lambda_bar);
  }
  info.lambda = lambda;
  info.lambda_bar = lambda_bar;
  detail::require_finite(delta, "the scaled curvature delta", where);

  // Step 5: step size. μ_k = p_kᵀr_k, α_k = μ_k/δ_k.
  const double mu = detail::dot(p, st.r);
  const double alpha = mu / delta;
  info.mu = mu;
  info.alpha = alpha;

  // Step 6: comparison parameter Δ_k = 2δ_k(E(w_k) − E(w_k + α_k p_k))/μ_k².
  // This one evaluation at the trial point also gives r_{k+1} on success.
  // A trial point that is not finite itself is not evaluated: a failed step.
  Tensor<T> w_trial;
  Tensor<T> g_trial;
  detail::add_scaled(w_trial, st.w, alpha, p);
  double loss_trial = std::numeric_limits<double>::quiet_NaN();
  if (detail::all_finite(w_trial)) {
    loss_trial = static_cast<double>(obj.value_and_grad(w_trial, g_trial));
    passes += 1;
  }
  const bool finite = std::isfinite(loss_trial) && detail::all_finite(g_trial);
  // Near a minimum E(w_k) − E(w_k + α_k p_k) is at the rounding level of E
  // and Δ_k would be noise (a run would stall on spurious failures). There
  // the decrease is measured instead by the trapezoid rule on the slopes,
  // α_k(p_kᵀr_k + p_kᵀr_{k+1})/2 = −α_k(E′(w_k) + E′(w_k + α_k p_k))ᵀp_k/2,
  // which is exact for a quadratic (not in the paper; see docs/optimizers.md).
  // (Only if w moved at all: a step that rounds away to nothing is Δ_k = 0, so λ keeps growing.)
  double decrease = st.loss - loss_trial;
  if (finite && std::abs(decrease) <= rounding_level_ * std::max(std::abs(st.loss), std::abs(loss_trial)) &&
      !std::equal(w_trial.data(), w_trial.data() + w_trial.size(), st.w.data()))
    decrease = 0.5 * alpha * (mu - detail::dot(p, g_trial));
  const double comparison =
      finite ? 2 * delta * decrease / (mu * mu) : -std::numeric_limits<double>::infinity();
  info.comparison = comparison;

  if (options_.restart_counter == RestartCounter::iterations) ++restart_counter;

  // Step 7: if Δ_k ≥ 0, a successful reduction in error can be made.
  const bool success = finite && comparison >= 0;
  Tensor<T> r_next, p_next;
  if (success) {
    detail::negate(r_next, g_trial);  // r_{k+1} = −E′(w_{k+1})
    bool restart = false;
    if (options_.restart_counter == RestartCounter::iterations) {
      restart = restart_counter % restart_n == 0;  // k mod N = 0
    } else {
      restart = ++restart_counter >= restart_n;
      if (restart) restart_counter = 0;
    }
    if (restart) {
      p_next = r_next;  // p_{k+1} = r_{k+1}
    } else {
      // β_k = (|r_{k+1}|² − r_{k+1}ᵀr_k)/μ_k,  p_{k+1} = r_{k+1} + β_k p_k.
      const double beta = (detail::dot(r_next, r_next) - detail::dot(r_next, st.r)) / mu;
      p_next = p;
      detail::scale(p_next, beta);
      detail::axpy(p_next, 1.0, r_next);
    }
    info.restarted = info.restarted || restart;
    lambda_bar = 0;
    // If Δ_k ≥ 0.75, reduce the scale parameter: λ_k = ¼λ_k.
    if (comparison >= 0.75) lambda = clamp_lambda(lambda / 4);
  } else {
    // A failed step (a non-finite trial loss is one): λ̄_k = λ_k, success = false.
    lambda_bar = lambda;
  }
  info.success = success;

  // Step 8: if Δ_k < 0.25, increase the scale parameter:
  //   λ_k = λ_k + δ_k(1 − Δ_k)/|p_k|².
  // A non-finite trial point (or a Δ_k that is NaN) counts as Δ_k = −1: the next α is a third of this one.
  if (!(comparison >= 0.25)) {
    const double effective = finite && !std::isnan(comparison) ? comparison : -1.0;
    lambda = clamp_lambda(lambda + delta * (1 - effective) / p_norm2);
  }

  // Nothing non-finite enters the state.
  detail::require_finite(lambda, "lambda", where);
  detail::require_finite(lambda_bar, "lambda_bar", where);
  if (success) detail::require_finite(p_next, "the next search direction p", where);

  // Commit.
  if (success) {
    st.w = std::move(w_trial);
    st.r = std::move(r_next);
    st.p = std::move(p_next);
    st.loss = loss_trial;
  } else if (restart_p) {
    st.p = st.r;
  }
  st.delta = delta;
  st.lambda = lambda;
  st.lambda_bar = lambda_bar;
  st.success = success;
  st.restart_counter = restart_counter;
  st.passes = passes;

  // Step 9 (the test of r_{k+1}) is the caller's: resume() checks the stop criteria.
  return finish(info);
}

template <class T>
void SCG<T>::save_state(const ScgState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st);
}

template <class T>
ScgState<T> SCG<T>::load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress) const {
  ScgState<T> st = detail::load_fields<ScgState<T>>("SCG", in, dim, progress);
  check_state(st, dim);
  return st;
}

template <class T>
void SCG<T>::check_state(const ScgState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("SCG", "w", st.w, dim);
  detail::check_state_tensor("SCG", "r", st.r, dim);
  detail::check_state_tensor("SCG", "p", st.p, dim);
  detail::check_state_scalar("SCG", "loss", st.loss, -detail::any_finite, detail::any_finite);
  detail::check_state_scalar("SCG", "delta", st.delta, -detail::any_finite, detail::any_finite);
  detail::check_state_scalar("SCG", "lambda", st.lambda, options_.lambda_min, options_.lambda_max);
  detail::check_state_scalar("SCG", "lambda_bar", st.lambda_bar, 0, detail::any_finite);
  detail::check_state_scalar("SCG", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("SCG", "seconds", st.seconds, 0, detail::any_finite);
}

template <class T>
template <class Obj>
ScgResult<T> SCG<T>::run(Obj& obj, ScgState<T> st, const Callbacks<T>& callbacks, bool fresh) const {
  detail::check_objective<Obj, T>();
  check_state(st, static_cast<std::size_t>(obj.dim()));
  ScgResult<T> out;
  detail::CallbackDriver<T> events(callbacks, "SCG", obj, [&](StateWriter& w) { save_state(st, w); });
  auto stop = [&](StopReason reason, std::string message) {
    out.stop_reason = reason;
    out.message = std::move(message);
    out.converged = reason == StopReason::gradient_tolerance || reason == StopReason::relative_loss_tolerance;
  };
  auto num = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };

  double grad_norm = detail::norm(st.r);
  {
    IterationInfo at_start;
    at_start.iteration = st.iteration;
    at_start.loss = st.loss;
    at_start.lambda = st.lambda;
    at_start.grad_norm = grad_norm;
    at_start.passes = st.passes;
    at_start.seconds = st.seconds;
    events.begin(at_start, st.w, st.iteration, st.loss, fresh);
  }
  if (events.stop_requested()) {
    stop(StopReason::callback, events.stop_reason());
  } else if (grad_norm <= options_.gradient_tolerance) {
    stop(StopReason::gradient_tolerance,
         "|g| = " + num(grad_norm) + " <= gradient_tolerance = " + num(options_.gradient_tolerance));
  }
  while (out.stop_reason == StopReason::none) {
    if (st.iteration >= options_.max_iterations) {
      stop(StopReason::max_iterations, "reached max_iterations = " + std::to_string(options_.max_iterations));
      break;
    }
    const double loss_before = st.loss;
    IterationInfo info;
    try {
      info = step(obj, st);
    } catch (const NonFiniteError& e) {
      stop(StopReason::non_finite, e.what());
      break;
    }
    if (options_.record_trace) out.trace.push_back(info);
    events.step(info, st.w, st.iteration);
    events.epoch(info, st.w, st.iteration, info.loss);
    const bool callback_stop = events.stop_requested();
    grad_norm = info.grad_norm;
    if (grad_norm <= options_.gradient_tolerance) {
      stop(StopReason::gradient_tolerance,
           "|g| = " + num(grad_norm) + " <= gradient_tolerance = " + num(options_.gradient_tolerance));
    } else if (info.success && detail::relative_change_below(loss_before, st.loss, options_.relative_loss_tolerance)) {
      stop(StopReason::relative_loss_tolerance, "relative loss change " +
                                                    num(std::abs(loss_before - st.loss) /
                                                        std::max(std::abs(loss_before), std::abs(st.loss))) +
                                                    " <= relative_loss_tolerance = " +
                                                    num(options_.relative_loss_tolerance));
    } else if (st.lambda >= options_.lambda_max) {
      stop(StopReason::stalled, "lambda reached lambda_max = " + num(options_.lambda_max) +
                                    ": no step along p decreases the loss (|g| = " + num(grad_norm) + ")");
    } else if (callback_stop) {
      stop(StopReason::callback, events.stop_reason());
    }
  }
  out.x = st.w;
  out.value = st.loss;
  out.iterations = st.iteration;
  out.passes = st.passes;
  out.seconds = st.seconds;
  events.end(out);
  out.state = std::move(st);
  return out;
}

extern template class SCG<float>;
extern template class SCG<double>;

}  // namespace curv::optim
