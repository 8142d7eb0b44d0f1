// Trust-region Newton–CG: T. Steihaug, "The conjugate gradient method and
// trust regions in large scale optimization", SIAM J. Numer. Anal. 20(3),
// 1983, and Ph. L. Toint, 1981; as J. Nocedal and S. J. Wright, Numerical
// Optimization, 2nd ed., 2006, Algorithm 7.2 (CG–Steihaug) inside Algorithm
// 4.1 (the trust-region loop).
//
// Each iteration minimizes m(p) = gᵀp + ½pᵀHp over |p| ≤ Δ by CG on the exact
// Hessian-vector products (on the objective's subsample when it has one,
// SubsampledCurvatureObjective), stopping at the boundary, on negative
// curvature (then going to the boundary along it: what SCG can only shift
// with λ, this method uses) or when |r| < ε = min(½, √|g|)|g| (the forcing
// sequence that makes the outer iteration superlinear). The step is
// taken when ρ = (E(w) − E(w + p))/(−m(p)) > η, and Δ follows ρ.
//
// Notation: w_k weights, E the objective, g = E′(w_k), H = ∇²E(w_k), Δ the
// trust radius, z_j, r_j, d_j the CG iterates, residuals and directions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
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
#include "curv/optim/state_io.hpp"

namespace curv::optim {

struct TrustRegionOptions {
  std::size_t max_iterations = 1000;  // outer iterations, each one CG solve (rejected steps count)
  double gradient_tolerance = 1e-6;   // stop when |E′(w)| ≤ this
  double relative_loss_tolerance = 0; // stop when a step changes E by ≤ this · max(|E_k|, |E_{k+1}|); 0 = off
  double initial_radius = 1;          // Δ₀
  double max_radius = 1e3;            // Δ̂: Δ never grows beyond it
  double eta = 0.1;                   // η ∈ [0, ¼): a step is taken when ρ > η
  std::size_t max_cg_iterations = 0;  // Hessian products per CG solve; 0 = obj.dim()
  double forcing = 0.5;               // CG stops when |r| < ε = min(forcing, √|g|)·|g| (N&W: ½)
  bool record_trace = true;
};

// Everything trust-region Newton–CG carries from one iteration to the next.
// A run resumed from a copy of it continues bit-identically.
template <class T>
struct TrustRegionState {
  Tensor<T> w;                // w_k
  Tensor<T> g;                // E′(w_k)
  double loss = 0;            // E(w_k)
  double radius = 0;          // Δ_k
  std::size_t iteration = 0;  // iterations done; iteration k + 1 uses curvature subsample number k + 1
  double passes = 0;
  double seconds = 0;

  template <class Self, class Fields>
  static void fields(Self& st, Fields& f) {
    f.tensor("w", st.w);
    f.tensor("g", st.g);
    f.scalar("loss", st.loss);
    f.scalar("radius", st.radius);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("iteration", st.iteration);
  }
};

template <class T>
struct TrustRegionResult : Result<T> {
  TrustRegionState<T> state;  // the state at the stop: resume from it
};

template <class T>
class TrustRegionNewtonCG {
 public:
  explicit TrustRegionNewtonCG(TrustRegionOptions options = {});

  const TrustRegionOptions& options() const { return options_; }

  // w₀ = x0, E(x0) and E′(x0) (one pass), Δ₀ = initial_radius.
  template <class Obj>
  TrustRegionState<T> start(Obj& obj, const Tensor<T>& x0) const;

  // One iteration (Alg. 7.2, then Alg. 4.1's test and radius update) from
  // `state`, which it updates; returns its record. A Hessian product or a
  // new state value that is NaN or ±inf throws NonFiniteError, and any
  // exception of the objective propagates: the state is then left exactly as
  // it was (a non-finite trial point is no error: a rejected step, Δ shrinks).
  template <class Obj>
  IterationInfo step(Obj& obj, TrustRegionState<T>& state) const;

  // Throws std::invalid_argument naming the field and its value unless st
  // can be resumed: w, g of dim finite elements, loss finite, radius in
  // (0, max_radius], passes and seconds finite and ≥ 0.
  void check_state(const TrustRegionState<T>& st, std::size_t dim) const;

  // The state as fields w, g (tensors); loss, radius, passes, seconds (scalars); iteration (counter).
  void save_state(const TrustRegionState<T>& st, StateWriter& out) const;
  TrustRegionState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  TrustRegionResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    return run(obj, start(obj, x0), callbacks, true);
  }

  // Continues from a saved state (checked first). Each iteration is a step
  // and an epoch for the callbacks (callback.hpp).
  template <class Obj>
  TrustRegionResult<T> resume(Obj& obj, TrustRegionState<T> state, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(state), callbacks, false);
  }

  // Δ below which a step cannot move w in T: the run has stalled.
  static double smallest_radius(const Tensor<T>& w) {
    return std::numeric_limits<T>::epsilon() * std::max(1.0, detail::norm(w));
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  TrustRegionResult<T> run(Obj& obj, TrustRegionState<T> st, const Callbacks<T>& callbacks, bool fresh) const;

  TrustRegionOptions options_;
};

// ---------------------------------------------------------------------------

template <class T>
template <class Obj>
TrustRegionState<T> TrustRegionNewtonCG<T>::start(Obj& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("TrustRegionNewtonCG::start", static_cast<std::size_t>(obj.dim()), x0);
  detail::check_curvature<T, Obj>("TrustRegionNewtonCG", Curvature::exact);
  const detail::Stopwatch clock;
  TrustRegionState<T> st;
  st.w = x0;
  st.loss = static_cast<double>(obj.value_and_grad(st.w, st.g));
  st.passes = 1;
  if (!std::isfinite(st.loss) || !detail::all_finite(st.g))
    throw std::invalid_argument(
        "curv::optim::TrustRegionNewtonCG::start: the objective or its gradient is not finite at x0");
  st.radius = options_.initial_radius;
  st.seconds = clock.seconds();
  return st;
}

template <class T>
template <class Obj>
IterationInfo TrustRegionNewtonCG<T>::step(Obj& obj, TrustRegionState<T>& st) const {
  detail::check_objective<Obj, T>();
  const detail::Stopwatch clock;
  const TrustRegionOptions& o = options_;
  IterationInfo info;
  info.iteration = st.iteration + 1;
  const std::size_t k = info.iteration;
  NonFiniteError::Where where;
  where.optimizer = "TrustRegionNewtonCG";
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
  const double radius = st.radius;
  info.radius = radius;
  if (g_norm == 0) {
    info.p_norm = 0;
    info.p_mean = 0;
    return finish(info);
  }
  double passes = st.passes;
  const std::size_t max_cg = o.max_cg_iterations > 0 ? o.max_cg_iterations : static_cast<std::size_t>(obj.dim());

  // Algorithm 7.2 (CG–Steihaug): z₀ = 0, r₀ = g, d₀ = −r₀, ε = min(½, √|g|)|g|.
  const double epsilon = std::min(o.forcing, std::sqrt(g_norm)) * g_norm;
  Tensor<T> z = xt::zeros_like(st.w);
  Tensor<T> r = st.g;
  Tensor<T> d;
  detail::negate(d, r);
  Tensor<T> hd;
  double m = 0;  // m(z_j) = gᵀz_j + ½z_jᵀHz_j
  double rr = detail::dot(r, r);
  Tensor<T> p;
  double m_p = 0;
  bool boundary = false;
  std::size_t products = 0;
  // τ ≥ 0 (or, on negative curvature, of either sign) with |z + τd| = Δ and the lower m(z + τd).
  auto to_boundary = [&](double dhd, bool either_sign) {
    const double dd = detail::dot(d, d), zd = detail::dot(z, d), zz = detail::dot(z, z);
    const double root = std::sqrt(std::max(0.0, zd * zd - dd * (zz - radius * radius)));
    const double dr = detail::dot(d, r);
    auto model_at = [&](double tau) { return m + tau * dr + 0.5 * tau * tau * dhd; };
    double tau = (-zd + root) / dd;
    if (either_sign) {
      const double other = (-zd - root) / dd;
      if (model_at(other) < model_at(tau)) tau = other;
    }
    detail::add_scaled(p, z, tau, d);
    m_p = model_at(tau);
    boundary = true;
  };
  for (std::size_t j = 0;; ++j) {
    if (j == max_cg) {  // out of products: the last iterate
      p = z;
      m_p = m;
      break;
    }
    detail::curvature_product<T>(obj, Curvature::exact, k, st.w, d, hd, passes);
    detail::require_finite(hd, "the Hessian product", where);
    ++products;
    const double dhd = detail::dot(d, hd);
    detail::require_finite(dhd, "the curvature d'Hd", where);
    if (dhd <= 0) {  // negative curvature: to the boundary along d_j
      info.negative_curvature = true;
      to_boundary(dhd, true);
      break;
    }
    const double a = rr / dhd;
    Tensor<T> z_next;
    detail::add_scaled(z_next, z, a, d);
    if (detail::norm(z_next) >= radius) {  // leaves the region: to the boundary
      to_boundary(dhd, false);
      break;
    }
    m += a * detail::dot(d, r) + 0.5 * a * a * dhd;
    z = std::move(z_next);
    detail::axpy(r, a, hd);  // r_{j+1} = r_j + α_j H d_j
    const double rr_next = detail::dot(r, r);
    if (std::sqrt(rr_next) < epsilon) {
      p = z;
      m_p = m;
      break;
    }
    detail::scale(d, rr_next / rr);  // d_{j+1} = −r_{j+1} + β d_j, β = |r_{j+1}|²/|r_j|²
    detail::axpy(d, -1.0, r);
    rr = rr_next;
  }
  info.cg_iterations = static_cast<double>(products);
  info.p_norm = detail::norm(p);
  info.p_mean = detail::mean(p);

  // Algorithm 4.1: ρ = (E(w) − E(w + p))/(m(0) − m(p)); one value_and_grad,
  // whose gradient is the next one when the step is taken.
  detail::Trial<T> trial = detail::evaluate_trial(obj, st.w, st.loss, st.g, 1.0, p, true, passes);
  const double predicted = -m_p;
  const double rho = trial.finite() && predicted > 0 ? -trial.change / predicted
                                                     : -std::numeric_limits<double>::infinity();
  info.rho = rho;
  double radius_next = radius;
  if (!(rho >= 0.25))
    radius_next = 0.25 * radius;
  else if (rho > 0.75 && boundary)
    radius_next = std::min(2 * radius, o.max_radius);
  const bool accepted = rho > o.eta;
  info.success = accepted;
  if (accepted) {
    detail::require_finite(trial.value, "the loss", where);
    detail::require_finite(trial.g, "the gradient", where);
  }
  detail::require_finite(radius_next, "the trust radius", where);

  // Commit.
  if (accepted) {
    st.w = std::move(trial.x);
    st.g = std::move(trial.g);
    st.loss = trial.value;
  }
  st.radius = radius_next;
  st.passes = passes;
  return finish(info);
}

template <class T>
void TrustRegionNewtonCG<T>::save_state(const TrustRegionState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st);
}

template <class T>
TrustRegionState<T> TrustRegionNewtonCG<T>::load_state(const StateReader& in, std::size_t dim,
                                                       const ProgressLimit& progress) const {
  TrustRegionState<T> st = detail::load_fields<TrustRegionState<T>>("TrustRegionNewtonCG", in, dim, progress);
  check_state(st, dim);
  return st;
}

template <class T>
void TrustRegionNewtonCG<T>::check_state(const TrustRegionState<T>& st, std::size_t dim) const {
  const char* who = "TrustRegionNewtonCG";
  detail::check_state_tensor(who, "w", st.w, dim);
  detail::check_state_tensor(who, "g", st.g, dim);
  detail::check_state_scalar(who, "loss", st.loss, -detail::any_finite, detail::any_finite);
  detail::check_state_scalar(who, "radius", st.radius, std::numeric_limits<double>::denorm_min(), options_.max_radius);
  detail::check_state_scalar(who, "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar(who, "seconds", st.seconds, 0, detail::any_finite);
}

template <class T>
template <class Obj>
TrustRegionResult<T> TrustRegionNewtonCG<T>::run(Obj& obj, TrustRegionState<T> st, const Callbacks<T>& callbacks,
                                                  bool fresh) const {
  detail::check_objective<Obj, T>();
  detail::check_curvature<T, Obj>("TrustRegionNewtonCG", Curvature::exact);
  check_state(st, static_cast<std::size_t>(obj.dim()));
  TrustRegionResult<T> out;
  detail::CallbackDriver<T> events(callbacks, "TrustRegionNewtonCG", obj, [&](StateWriter& w) { save_state(st, w); });
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
    at_start.radius = st.radius;
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
      stop(StopReason::relative_loss_tolerance,
           "relative loss change " +
               num(std::abs(loss_before - st.loss) / std::max(std::abs(loss_before), std::abs(st.loss))) +
               " <= relative_loss_tolerance = " + num(options_.relative_loss_tolerance));
    } else if (st.radius < smallest_radius(st.w)) {
      stop(StopReason::stalled, "the trust radius " + num(st.radius) +
                                    " shrank below rounding of w: no step decreases the loss (|g| = " +
                                    num(grad_norm) + ")");
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

extern template class TrustRegionNewtonCG<float>;
extern template class TrustRegionNewtonCG<double>;

}  // namespace curv::optim
