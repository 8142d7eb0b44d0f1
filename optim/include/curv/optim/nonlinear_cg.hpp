// Nonlinear conjugate gradients, Polak–Ribière+ (Nocedal & Wright, Numerical
// Optimization 2006, §5.2, eq. 5.44–5.45) with their strong-Wolfe line search
// (Alg. 3.5/3.6, c₂ = 0.1) and restarts to steepest descent every
// restart_interval iterations or whenever the direction is not downhill.
//   β⁺ = max(0, g_{k+1}ᵀ(g_{k+1} − g_k)/|g_k|²),   p_{k+1} = −g_{k+1} + β⁺ p_k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/optim/lbfgs.hpp"
#include "curv/optim/state_io.hpp"

namespace curv::optim {

struct NonlinearCgOptions {
  std::size_t max_iterations = 1000;
  double gradient_tolerance = 1e-6;
  double relative_loss_tolerance = 0;  // 0 = off
  std::size_t restart_interval = 0;    // restart every this many iterations; 0 = obj.dim()
  double c1 = 1e-4;
  double c2 = 0.1;
  std::size_t max_line_search_evaluations = 25;
  bool record_trace = true;
};

// Everything nonlinear CG carries from one iteration to the next. A run
// resumed from a copy of it (NonlinearCG::resume) continues bit-identically.
template <class T>
struct NonlinearCgState {
  Tensor<T> w;                  // x_k
  Tensor<T> g;                  // ∇E(x_k)
  Tensor<T> d;                  // p_k, the next search direction
  double loss = 0;              // E(x_k)
  double previous_slope = 0;    // φ′_{k−1}(0) = ∇E(x_{k−1})ᵀp_{k−1}
  double previous_alpha = 0;    // α_{k−1}
  bool restarted = true;        // p_k is steepest descent (a restart): first trial step min(1, 1/|g|)
  std::size_t iteration = 0;    // accepted line-search steps so far
  double passes = 0;            // passes over the data so far
  double seconds = 0;           // time spent so far

  // The saved fields, each named once (state_io.hpp): NonlinearCG::save_state and load_state walk it.
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f) {
    f.tensor("w", st.w);
    f.tensor("g", st.g);
    f.tensor("d", st.d);
    f.scalar("loss", st.loss);
    f.scalar("previous_slope", st.previous_slope);
    f.scalar("previous_alpha", st.previous_alpha);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("iteration", st.iteration);
    f.flag("restarted", st.restarted);
  }
};

template <class T>
struct NonlinearCgResult : Result<T> {
  NonlinearCgState<T> state;  // the state at the stop: resume from it
};

template <class T>
class NonlinearCG {
 public:
  explicit NonlinearCG(NonlinearCgOptions options = {});

  const NonlinearCgOptions& options() const { return options_; }

  // x₀, E(x₀), ∇E(x₀) (one pass) and p₀ = −∇E(x₀).
  template <class Obj>
  NonlinearCgState<T> start(Obj& obj, const Tensor<T>& x0) const;

  // One iteration from `state`, which it updates: a line search along p_k,
  // then β⁺ and p_{k+1}. Returns its record, or why no step was accepted.
  // An exception of the objective leaves the state as it was; so does
  // NonFiniteError, thrown if a value that would enter the state (the next
  // direction included) is not finite.
  template <class Obj>
  LineSearchStep step(Obj& obj, NonlinearCgState<T>& state) const;

  // Throws std::invalid_argument naming the field and its value unless st
  // can be resumed: w, g, d of dim finite elements, loss, previous slope
  // and step finite (the step ≥ 0), passes and seconds finite and ≥ 0.
  void check_state(const NonlinearCgState<T>& st, std::size_t dim) const;

  // The state as fields w, g, d (tensors); loss, previous_slope,
  // previous_alpha, passes, seconds (scalars); iteration, restarted (counters).
  void save_state(const NonlinearCgState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; iteration at most
  // progress.max, restarted 0 or 1).
  NonlinearCgState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  NonlinearCgResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    return run(obj, start(obj, x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state) until a
  // stop criterion holds (max_iterations counts the iterations already in
  // the state). Each iteration is a step and an epoch for the callbacks
  // (callback.hpp).
  template <class Obj>
  NonlinearCgResult<T> resume(Obj& obj, NonlinearCgState<T> state, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(state), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  NonlinearCgResult<T> run(Obj& obj, NonlinearCgState<T> st, const Callbacks<T>& callbacks, bool fresh) const;

  NonlinearCgOptions options_;
};

template <class T>
template <class Obj>
NonlinearCgState<T> NonlinearCG<T>::start(Obj& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("NonlinearCG::start", static_cast<std::size_t>(obj.dim()), x0);
  const detail::Stopwatch clock;
  NonlinearCgState<T> st;
  detail::evaluate_start("NonlinearCG::start", obj, x0, st);
  detail::negate(st.d, st.g);
  st.restarted = true;
  st.seconds = clock.seconds();
  return st;
}

template <class T>
template <class Obj>
LineSearchStep NonlinearCG<T>::step(Obj& obj, NonlinearCgState<T>& st) const {
  detail::check_objective<Obj, T>();
  const detail::Stopwatch clock;
  const std::size_t restart_n =
      options_.restart_interval > 0 ? options_.restart_interval : static_cast<std::size_t>(obj.dim());
  const LineSearchOptions ls{options_.c1, options_.c2, options_.max_line_search_evaluations, 1e10,
                             1e3 * std::numeric_limits<T>::epsilon()};
  // Worked on copies and committed at the end, so that an exception (an
  // objective that throws, a cancelled pass) leaves st as it was.
  double passes = st.passes;
  bool restarted = st.restarted;
  Tensor<T> steepest;
  const Tensor<T>* d = &st.d;

  double slope = detail::dot(st.g, *d);
  if (!(slope < 0)) {  // not downhill: restart from steepest descent
    detail::negate(steepest, st.g);
    d = &steepest;
    slope = detail::dot(st.g, *d);
    restarted = true;
  }
  // First trial step: 1/|g| at a restart, else α_{k−1}φ′_{k−1}(0)/φ′_k(0) (N&W eq. 3.60), at most 1.
  double alpha0 = st.iteration == 0 || restarted ? std::min(1.0, 1.0 / detail::norm(st.g))
                                                 : std::min(1.0, st.previous_alpha * st.previous_slope / slope);
  if (!(alpha0 > 0) || !std::isfinite(alpha0)) alpha0 = 1;
  Tensor<T> x_new, g_new;
  const LineSearchResult search =
      detail::search_along(obj, st.w, st.loss, st.g, *d, alpha0, ls, x_new, g_new, passes);
  LineSearchStep out;
  if (!search.ok) {
    if (d == &steepest) st.d = std::move(steepest);
    st.restarted = restarted;
    st.passes = passes;
    st.seconds += clock.seconds();
    out.message = "line search failed at iteration " + std::to_string(st.iteration + 1) + ": " + search.message;
    return out;
  }
  const std::size_t iteration = st.iteration + 1;
  const double p_norm = detail::norm(*d), p_mean = detail::mean(*d);

  // β⁺ and the next direction; a restart every restart_n iterations.
  const double gg = detail::dot(st.g, st.g);
  const double beta = std::max(0.0, (detail::dot(g_new, g_new) - detail::dot(g_new, st.g)) / gg);
  const bool restart_next = iteration % restart_n == 0;
  Tensor<T> d_next = *d;
  detail::scale(d_next, restart_next ? 0.0 : beta);
  detail::axpy(d_next, -1.0, g_new);

  NonFiniteError::Where where;
  where.optimizer = "NonlinearCG";
  where.iteration = iteration;
  detail::require_finite(search.point.value, "the loss", where);
  detail::require_finite(x_new, "the new weights", where);
  detail::require_finite(g_new, "the gradient", where);
  detail::require_finite(d_next, "the next search direction", where);

  // Commit.
  st.iteration = iteration;
  st.previous_alpha = search.point.alpha;
  st.previous_slope = slope;
  st.restarted = restart_next;
  st.d = std::move(d_next);
  st.w = std::move(x_new);
  st.g = std::move(g_new);
  st.loss = search.point.value;
  st.passes = passes;
  st.seconds += clock.seconds();
  out.accepted = true;
  out.info = detail::accepted_step(st, search.point.alpha, restarted, p_norm, p_mean);
  return out;
}

template <class T>
void NonlinearCG<T>::save_state(const NonlinearCgState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st);
}

template <class T>
NonlinearCgState<T> NonlinearCG<T>::load_state(const StateReader& in, std::size_t dim,
                                               const ProgressLimit& progress) const {
  NonlinearCgState<T> st = detail::load_fields<NonlinearCgState<T>>("NonlinearCG", in, dim, progress);
  check_state(st, dim);
  return st;
}

template <class T>
void NonlinearCG<T>::check_state(const NonlinearCgState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("NonlinearCG", "w", st.w, dim);
  detail::check_state_tensor("NonlinearCG", "g", st.g, dim);
  detail::check_state_tensor("NonlinearCG", "d", st.d, dim);
  detail::check_state_scalar("NonlinearCG", "loss", st.loss, -detail::any_finite, detail::any_finite);
  detail::check_state_scalar("NonlinearCG", "previous_slope", st.previous_slope, -detail::any_finite,
                             detail::any_finite);
  detail::check_state_scalar("NonlinearCG", "previous_alpha", st.previous_alpha, 0, detail::any_finite);
  detail::check_state_scalar("NonlinearCG", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("NonlinearCG", "seconds", st.seconds, 0, detail::any_finite);
}

template <class T>
template <class Obj>
NonlinearCgResult<T> NonlinearCG<T>::run(Obj& obj, NonlinearCgState<T> st, const Callbacks<T>& callbacks,
                                          bool fresh) const {
  detail::check_objective<Obj, T>();
  check_state(st, static_cast<std::size_t>(obj.dim()));
  NonlinearCgResult<T> out;
  detail::CallbackDriver<T> events(callbacks, "NonlinearCG", obj, [&](StateWriter& w) { save_state(st, w); });
  detail::run_line_search(options_, st, out, events, fresh, [&](NonlinearCgState<T>& s) { return step(obj, s); });
  out.state = std::move(st);
  return out;
}

extern template class NonlinearCG<float>;
extern template class NonlinearCG<double>;

}  // namespace curv::optim
