// Hessian-free optimization: J. Martens, "Deep learning via Hessian-free
// optimization", ICML 2010; with the line search of J. Martens and I.
// Sutskever, "Training deep and recurrent networks with Hessian-free
// optimization", Neural Networks: Tricks of the Trade, 2012.
//
// Each iteration minimizes the damped quadratic model
//   φ(p) = gᵀp + ½pᵀ(B + λI)p,   B = G(w) (Gauss–Newton, the default) or ∇²E(w),
// by truncated linear CG started from the previous solution decayed (§4.5),
// stopped on relative progress of φ (§4.4), backtracks over CG's iterates
// (§4.6), optionally preconditioned by the squared per-example gradients
// (§4.7), adapts λ Levenberg–Marquardt style from ρ, the actual over the
// predicted decrease (§4.1), and takes the step after an Armijo backtracking
// line search (2012). The curvature products may come from a subsample
// of the data that changes every iteration (§4.3, SubsampledGaussNewtonObjective);
// the gradient and the losses stay full-dataset.
//
// step() is marked with these sections; docs/optimizers.md lists where curv
// departs from the papers and why.
//
// Notation: w_k weights, E the objective, g = E′(w_k), B the curvature, λ the
// damping, x_i the CG iterates, p the step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/optim/detail/check.hpp"
#include "curv/optim/callback.hpp"
#include "curv/optim/detail/callback_driver.hpp"
#include "curv/optim/detail/flat.hpp"
#include "curv/optim/detail/newton_cg.hpp"
#include "curv/optim/detail/objective_check.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/result.hpp"
#include "curv/optim/scg.hpp"
#include "curv/optim/state_io.hpp"

namespace curv::optim {

struct HessianFreeOptions {
  std::size_t max_iterations = 1000;  // outer iterations, each one CG solve (rejected steps count)
  double gradient_tolerance = 1e-6;   // stop when |E′(w)| ≤ this
  double relative_loss_tolerance = 0; // stop when a step changes E by ≤ this · max(|E_k|, |E_{k+1}|); 0 = off
  Curvature curvature = Curvature::gauss_newton;  // B: gauss_newton (Martens) or exact; not finite_difference
  double lambda_initial = 1;          // λ of the first iteration
  double lambda_min = 1e-15;          // λ is kept within [lambda_min, lambda_max];
  double lambda_max = 1e20;           // reaching lambda_max stops the run (StopReason::stalled)
  std::size_t max_cg_iterations = 250;  // curvature products per CG solve (Martens: 250)
  double cg_progress_tolerance = 5e-4;  // ε of §4.4: stop CG at i > k = max(10, ⌈i/10⌉) when
                                        // φ(x_i) < 0 and (φ(x_i) − φ(x_{i−k}))/φ(x_i) < kε; 0 = off
  double cg_residual_tolerance = 1e-10; // stop CG when |(B + λI)x + g| ≤ this · |g| (solved); 0 = off
  double warm_start_decay = 0.95;     // ζ: CG starts from ζ times the previous solution; 0 = from 0
  double backtrack_ratio = 1.3;       // γ: CG iterates x_i kept for backtracking at i = ⌈γʲ⌉ and the last
  bool preconditioner = false;        // §4.7: precondition CG by (diag((1/N)Σᵢ∇ℓᵢ²) + λ)^ξ; needs a
                                      // GradientSecondMomentObjective (one more pass per iteration)
  double preconditioner_exponent = 0.75;  // ξ (Martens: 0.75)
  double armijo = 1e-2;               // c of the line search: E(w + αp) ≤ E(w) + cαgᵀp
  double line_search_shrink = 0.8;    // α ← this·α after a trial that fails Armijo
  std::size_t max_line_search_steps = 60;  // trials of α (1, 0.8, 0.64, …) before the step is rejected
  bool record_trace = true;
};

// Everything Hessian-free carries from one iteration to the next. A run
// resumed from a copy of it continues bit-identically: save it to checkpoint.
template <class T>
struct HessianFreeState {
  Tensor<T> w;                // w_k
  Tensor<T> g;                // E′(w_k)
  Tensor<T> p;                // the last CG solution x_N (not decayed), CG's next start; 0 after a rejection
  double loss = 0;            // E(w_k)
  double lambda = 0;          // λ for the next CG solve
  std::size_t iteration = 0;  // iterations done; iteration k + 1 uses curvature subsample number k + 1
  double passes = 0;          // passes over the data so far
  double seconds = 0;         // time spent so far

  // The saved fields, each named once (state_io.hpp).
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f) {
    f.tensor("w", st.w);
    f.tensor("g", st.g);
    f.tensor("p", st.p);
    f.scalar("loss", st.loss);
    f.scalar("lambda", st.lambda);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("iteration", st.iteration);
  }
};

template <class T>
struct HessianFreeResult : Result<T> {
  HessianFreeState<T> state;  // the state at the stop: resume from it
};

template <class T>
class HessianFree {
 public:
  explicit HessianFree(HessianFreeOptions options = {});

  const HessianFreeOptions& options() const { return options_; }

  // w₀ = x0, E(x0) and E′(x0) (one pass), λ = lambda_initial, p = 0.
  template <class Obj>
  HessianFreeState<T> start(Obj& obj, const Tensor<T>& x0) const;

  // One iteration (a CG solve, backtracking, the line search, the λ update)
  // from `state`, which it updates; returns its record. A curvature product
  // or a new state value that is NaN or ±inf throws NonFiniteError, and any
  // exception of the objective propagates: the state is then left exactly as
  // it was (a non-finite trial point is no error: it is never accepted).
  template <class Obj>
  IterationInfo step(Obj& obj, HessianFreeState<T>& state) const;

  // Throws std::invalid_argument naming the field and its value unless st
  // can be resumed: w, g, p of dim finite elements, loss finite, λ in
  // [lambda_min, lambda_max], passes and seconds finite and ≥ 0.
  void check_state(const HessianFreeState<T>& st, std::size_t dim) const;

  // The state as fields w, g, p (tensors); loss, lambda, passes, seconds
  // (scalars); iteration (counter).
  void save_state(const HessianFreeState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; iteration at most progress.max).
  HessianFreeState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  HessianFreeResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    return run(obj, start(obj, x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state) until a
  // stop criterion holds (max_iterations counts the iterations already in the state).
  template <class Obj>
  HessianFreeResult<T> resume(Obj& obj, HessianFreeState<T> state, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(state), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start). Each
  // iteration is a step and an epoch for the callbacks.
  template <class Obj>
  HessianFreeResult<T> run(Obj& obj, HessianFreeState<T> st, const Callbacks<T>& callbacks, bool fresh) const;

  double clamp_lambda(double lambda) const { return std::clamp(lambda, options_.lambda_min, options_.lambda_max); }

  template <class Obj>
  void check_preconditioner() const {
    if constexpr (!GradientSecondMomentObjective<Obj, T>)
      if (options_.preconditioner)
        throw std::invalid_argument(
            "curv::optim::HessianFree: preconditioner = true needs an objective with "
            "gradient_second_moment(w, s) (GradientSecondMomentObjective)");
  }

  HessianFreeOptions options_;
};

// ---------------------------------------------------------------------------

template <class T>
template <class Obj>
HessianFreeState<T> HessianFree<T>::start(Obj& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("HessianFree::start", static_cast<std::size_t>(obj.dim()), x0);
  detail::check_curvature<T, Obj>("HessianFree", options_.curvature);
  check_preconditioner<Obj>();
  const detail::Stopwatch clock;
  HessianFreeState<T> st;
  st.w = x0;
  st.loss = static_cast<double>(obj.value_and_grad(st.w, st.g));
  st.passes = 1;
  if (!std::isfinite(st.loss) || !detail::all_finite(st.g))
    throw std::invalid_argument("curv::optim::HessianFree::start: the objective or its gradient is not finite at x0");
  st.p = xt::zeros_like(st.w);
  st.lambda = options_.lambda_initial;
  st.seconds = clock.seconds();
  return st;
}

template <class T>
template <class Obj>
IterationInfo HessianFree<T>::step(Obj& obj, HessianFreeState<T>& st) const {
  detail::check_objective<Obj, T>();
  const detail::Stopwatch clock;
  const HessianFreeOptions& o = options_;
  IterationInfo info;
  info.iteration = st.iteration + 1;
  const std::size_t k = info.iteration;
  NonFiniteError::Where where;
  where.optimizer = "HessianFree";
  where.iteration = k;

  auto finish = [&](IterationInfo& out) -> IterationInfo {
    st.iteration = k;
    st.seconds += clock.seconds();
    out.loss = st.loss;
    out.grad_norm = detail::norm(st.g);
    out.grad_mean = detail::mean(st.g);
    out.passes = st.passes;
    out.seconds = st.seconds;
    return out;
  };
  const double g_norm = detail::norm(st.g);
  if (g_norm == 0) {  // nothing to do at a stationary point
    info.p_norm = 0;
    info.p_mean = 0;
    return finish(info);
  }

  // Worked on copies, committed at the end: an exception leaves st as it was.
  double passes = st.passes;
  const double lambda = st.lambda;
  info.lambda = lambda;
  // (B + λI)·v, B on this iteration's subsample (§4.3): the same subsample throughout the solve.
  auto damped_product = [&](const Tensor<T>& v, Tensor<T>& out) {
    detail::curvature_product<T>(obj, o.curvature, k, st.w, v, out, passes);
    detail::require_finite(out, "the curvature product", where);
    detail::axpy(out, lambda, v);
  };
  // φ(x) = gᵀx + ½xᵀ(B + λI)x = ½xᵀ(g − r) with the CG residual r = −g − (B + λI)x.
  auto model = [&](const Tensor<T>& x, const Tensor<T>& r) { return 0.5 * (detail::dot(x, st.g) - detail::dot(x, r)); };

  // §4.5: start CG from ζ·p_{k−1}, the previous solution decayed; from 0
  // when that is no better than 0 (φ ≥ 0), or when there is none.
  Tensor<T> x = xt::zeros_like(st.w);
  Tensor<T> r, bd;
  detail::negate(r, st.g);
  double phi = 0;
  if (o.warm_start_decay > 0 && detail::norm(st.p) > 0) {
    Tensor<T> x0 = st.p;
    detail::scale(x0, o.warm_start_decay);
    damped_product(x0, bd);
    Tensor<T> r0;
    detail::add_scaled(r0, r, -1.0, bd);
    const double phi0 = model(x0, r0);
    if (phi0 < 0) {
      x = std::move(x0);
      r = std::move(r0);
      phi = phi0;
    }
  }

  // §4.7: the diagonal preconditioner M = (diag((1/N)Σᵢ ∇ℓᵢ²) + λ)^ξ, when asked for.
  Tensor<T> m_inverse;
  if (o.preconditioner) {
    if constexpr (GradientSecondMomentObjective<Obj, T>) {
      Tensor<T> s;
      obj.gradient_second_moment(st.w, s);
      passes += 1;
      detail::require_finite(s, "the gradient second moment", where);
      m_inverse = Tensor<T>::from_shape(st.w.shape());
      for (std::size_t i = 0; i < s.size(); ++i)
        m_inverse.data()[i] =
            static_cast<T>(1 / std::pow(static_cast<double>(s.data()[i]) + lambda, o.preconditioner_exponent));
      detail::require_finite(m_inverse, "the preconditioner's inverse", where);
    }
  }
  // z = M⁻¹r (z = r without a preconditioner).
  auto precondition = [&](const Tensor<T>& res, Tensor<T>& z) {
    z = res;
    if (m_inverse.dimension() == 0) return;  // none (a default tensor is 0-d, of one element)
    for (std::size_t i = 0; i < z.size(); ++i) z.data()[i] *= m_inverse.data()[i];
  };

  // Linear (preconditioned) CG on (B + λI)x = −g. The iterates at i = ⌈γʲ⌉ are kept for §4.6.
  struct Kept {
    Tensor<T> x;
    double phi;
  };
  std::vector<Kept> kept;
  std::vector<double> phis{phi};  // φ(x_i), i = 0, 1, …: §4.4's test looks back k of them
  std::size_t next_kept = 1;
  Tensor<T> z, d;
  precondition(r, z);
  d = z;
  double rz = detail::dot(r, z);
  std::size_t cg_iterations = 0;
  bool kept_last = false;
  for (std::size_t i = 1; i <= o.max_cg_iterations; ++i) {
    damped_product(d, bd);
    const double dbd = detail::dot(d, bd);
    detail::require_finite(dbd, "the curvature d'(B + lambda I)d", where);
    if (!(dbd > 0)) {  // only the exact Hessian can have it: B + λI is not positive definite along d
      info.negative_curvature = true;
      break;
    }
    const double a = rz / dbd;
    detail::axpy(x, a, d);
    detail::axpy(r, -a, bd);
    precondition(r, z);
    const double rz_next = detail::dot(r, z);
    phi = model(x, r);
    phis.push_back(phi);
    cg_iterations = i;
    kept_last = false;
    if (i == next_kept) {
      kept.push_back({x, phi});
      kept_last = true;
      next_kept = std::max(next_kept + 1, static_cast<std::size_t>(std::ceil(static_cast<double>(next_kept) * o.backtrack_ratio)));
    }
    if (detail::norm(r) <= o.cg_residual_tolerance * g_norm) break;
    // §4.4: relative progress of φ over the last k iterations.
    const std::size_t back = std::max<std::size_t>(10, static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(i))));
    if (o.cg_progress_tolerance > 0 && i > back && phi < 0 &&
        (phi - phis[i - back]) / phi < static_cast<double>(back) * o.cg_progress_tolerance)
      break;
    detail::scale(d, rz_next / rz);  // d ← z + βd, β = r_iᵀz_i/r_{i−1}ᵀz_{i−1}
    detail::axpy(d, 1.0, z);
    rz = rz_next;
  }
  if (!kept_last && (cg_iterations > 0 || phi < 0)) kept.push_back({x, phi});
  info.cg_iterations = static_cast<double>(cg_iterations);

  // §4.6: backtrack over the kept iterates, last first, while E keeps falling.
  Tensor<T> p;
  double phi_p = std::numeric_limits<double>::quiet_NaN();
  detail::Trial<T> best;
  if (kept.empty()) {
    // CG met negative curvature before any progress (exact B only): steepest descent, no model to judge it by.
    detail::negate(p, st.g);
    best = detail::evaluate_trial(obj, st.w, st.loss, st.g, 1.0, p, false, passes);
  } else {
    std::size_t j = kept.size() - 1;
    best = detail::evaluate_trial(obj, st.w, st.loss, st.g, 1.0, kept[j].x, false, passes);
    std::size_t chosen = j;
    while (j-- > 0) {
      detail::Trial<T> earlier = detail::evaluate_trial(obj, st.w, st.loss, st.g, 1.0, kept[j].x, false, passes);
      if (!(earlier.change < best.change)) break;
      best = std::move(earlier);
      chosen = j;
    }
    p = std::move(kept[chosen].x);
    phi_p = kept[chosen].phi;
  }

  // §4.1: ρ = (E(w + p) − E(w))/φ(p); λ·3/2 when ρ < ¼, λ·2/3 when ρ > ¾.
  const double rho = best.finite() && phi_p < 0 ? best.change / phi_p : -std::numeric_limits<double>::infinity();
  info.rho = rho;
  double lambda_next = lambda;
  if (!(rho >= 0.25))
    lambda_next = clamp_lambda(lambda * 1.5);
  else if (rho > 0.75)
    lambda_next = clamp_lambda(lambda * (2.0 / 3.0));

  // Martens & Sutskever 2012: backtrack α from 1 until Armijo holds.
  const double slope = detail::dot(st.g, p);
  double alpha = 1;
  bool accepted = false;
  if (slope < 0) {
    for (std::size_t t = 0; t < o.max_line_search_steps; ++t) {
      if (t > 0) {
        alpha *= o.line_search_shrink;
        best = detail::evaluate_trial(obj, st.w, st.loss, st.g, alpha, p, false, passes);
      }
      if (best.finite() && best.change <= o.armijo * alpha * slope) {
        accepted = true;
        break;
      }
    }
  }
  info.alpha = accepted ? alpha : 0;
  info.p_norm = detail::norm(p);
  info.p_mean = detail::mean(p);
  info.success = accepted;

  double loss_next = st.loss;
  Tensor<T> g_next;
  if (accepted) {
    if (best.has_gradient) {
      g_next = std::move(best.g);
      loss_next = best.value;
    } else {
      loss_next = static_cast<double>(obj.value_and_grad(best.x, g_next));
      passes += 1;
    }
    detail::require_finite(loss_next, "the loss", where);
    detail::require_finite(g_next, "the gradient", where);
    detail::require_finite(best.x, "the new weights", where);
  }
  detail::require_finite(lambda_next, "lambda", where);

  // Commit. The warm start is the last CG iterate x_N (§4.5), not the backtracked p; none after a rejection.
  if (accepted) {
    st.w = std::move(best.x);
    st.g = std::move(g_next);
    st.loss = loss_next;
    st.p = std::move(x);
  } else {
    st.p = xt::zeros_like(st.w);
  }
  st.lambda = lambda_next;
  st.passes = passes;
  return finish(info);
}

template <class T>
void HessianFree<T>::save_state(const HessianFreeState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st);
}

template <class T>
HessianFreeState<T> HessianFree<T>::load_state(const StateReader& in, std::size_t dim,
                                               const ProgressLimit& progress) const {
  HessianFreeState<T> st = detail::load_fields<HessianFreeState<T>>("HessianFree", in, dim, progress);
  check_state(st, dim);
  return st;
}

template <class T>
void HessianFree<T>::check_state(const HessianFreeState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("HessianFree", "w", st.w, dim);
  detail::check_state_tensor("HessianFree", "g", st.g, dim);
  detail::check_state_tensor("HessianFree", "p", st.p, dim);
  detail::check_state_scalar("HessianFree", "loss", st.loss, -detail::any_finite, detail::any_finite);
  detail::check_state_scalar("HessianFree", "lambda", st.lambda, options_.lambda_min, options_.lambda_max);
  detail::check_state_scalar("HessianFree", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("HessianFree", "seconds", st.seconds, 0, detail::any_finite);
}

template <class T>
template <class Obj>
HessianFreeResult<T> HessianFree<T>::run(Obj& obj, HessianFreeState<T> st, const Callbacks<T>& callbacks, bool fresh) const {
  detail::check_objective<Obj, T>();
  detail::check_curvature<T, Obj>("HessianFree", options_.curvature);
  check_preconditioner<Obj>();
  check_state(st, static_cast<std::size_t>(obj.dim()));
  HessianFreeResult<T> out;
  detail::CallbackDriver<T> events(callbacks, "HessianFree", obj, [&](StateWriter& w) { save_state(st, w); });
  auto stop = [&](StopReason reason, std::string message) {
    out.stop_reason = reason;
    out.message = std::move(message);
    out.converged = reason == StopReason::gradient_tolerance || reason == StopReason::relative_loss_tolerance;
  };
  const auto num = detail::format;

  double grad_norm = detail::norm(st.g);
  {
    IterationInfo at_start;
    at_start.iteration = st.iteration;
    at_start.loss = st.loss;
    at_start.grad_norm = grad_norm;
    at_start.passes = st.passes;
    at_start.seconds = st.seconds;
    at_start.lambda = st.lambda;
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
      stop(StopReason::relative_loss_tolerance,
           "relative loss change " +
               num(std::abs(loss_before - st.loss) / std::max(std::abs(loss_before), std::abs(st.loss))) +
               " <= relative_loss_tolerance = " + num(options_.relative_loss_tolerance));
    } else if (st.lambda >= options_.lambda_max) {
      stop(StopReason::stalled, "lambda reached lambda_max = " + num(options_.lambda_max) +
                                    ": no step decreases the loss (|g| = " + num(grad_norm) + ")");
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

extern template class HessianFree<float>;
extern template class HessianFree<double>;

}  // namespace curv::optim
