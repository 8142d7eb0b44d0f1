// Limited-memory BFGS: J. Nocedal, "Updating quasi-Newton matrices with limited
// storage", Math. Comp. 35:773–782, 1980; the two-loop recursion of Nocedal &
// Wright, Numerical Optimization (2006), Algorithm 7.4, with H₀ = γI,
// γ = sᵀy/yᵀy (eq. 7.20), and their strong-Wolfe line search (Alg. 3.5/3.6).
#pragma once

#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/optim/callback.hpp"
#include "curv/optim/detail/callback_driver.hpp"
#include "curv/optim/detail/flat.hpp"
#include "curv/optim/state_io.hpp"
#include "curv/optim/detail/objective_check.hpp"
#include "curv/optim/line_search.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim {

struct LbfgsOptions {
  std::size_t max_iterations = 1000;
  std::size_t memory = 10;             // m, the (s, y) pairs kept
  double gradient_tolerance = 1e-6;    // stop when |∇E(w)| ≤ this
  double relative_loss_tolerance = 0;  // stop when |E_k − E_{k+1}| ≤ this · max(|E_k|, |E_{k+1}|); 0 = off
  double c1 = 1e-4;                    // strong-Wolfe constants
  double c2 = 0.9;
  std::size_t max_line_search_evaluations = 25;
  bool record_trace = true;
};

// One curvature pair of the memory: s = x_{k+1} − x_k, y = ∇E(x_{k+1}) − ∇E(x_k), ρ = 1/(yᵀs).
template <class T>
struct LbfgsPair {
  Tensor<T> s;
  Tensor<T> y;
  double rho = 0;
};

// Everything L-BFGS carries from one iteration to the next. A run resumed
// from a copy of it (LBFGS::resume) continues bit-identically: save it to checkpoint.
template <class T>
struct LbfgsState {
  Tensor<T> w;                        // x_k
  Tensor<T> g;                        // ∇E(x_k)
  double loss = 0;                    // E(x_k)
  std::deque<LbfgsPair<T>> memory;    // the last (at most options.memory) pairs, oldest first
  std::size_t iteration = 0;          // accepted line-search steps so far
  double passes = 0;                  // passes over the data so far
  double seconds = 0;                 // time spent so far

  // The saved fields, each named once (state_io.hpp): LBFGS::save_state and
  // load_state walk it. The memory is saved with the capacity it was kept
  // under (`capacity`, options.memory), which a resumed run must share; its
  // pairs as s0, y0, rho0, s1, ….
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f, std::size_t capacity) {
    f.tensor("w", st.w);
    f.tensor("g", st.g);
    f.scalar("loss", st.loss);
    f.scalar("passes", st.passes);
    f.scalar("seconds", st.seconds);
    f.progress("iteration", st.iteration);
    f.setting("memory_capacity", capacity, "options.memory");
    f.sequence("memory_pairs", st.memory, capacity, "options.memory", [&f](auto& pair, std::size_t i) {
      f.tensor(detail::indexed("s", i), pair.s);
      f.tensor(detail::indexed("y", i), pair.y);
      f.scalar(detail::indexed("rho", i), pair.rho);
    });
  }
};

// What one iteration of a line-search optimizer (L-BFGS, nonlinear CG) did:
// either it accepted a strong-Wolfe step (the state moved; `info` is the
// iteration's record) or no step was found even along steepest descent (the
// state's point is unchanged; `message` says why, and the run is over).
struct LineSearchStep {
  bool accepted = false;
  IterationInfo info;
  std::string message;
};

template <class T>
struct LbfgsResult : Result<T> {
  LbfgsState<T> state;  // the state at the stop: resume from it
};

template <class T>
class LBFGS {
 public:
  explicit LBFGS(LbfgsOptions options = {});

  const LbfgsOptions& options() const { return options_; }

  // x₀, E(x₀) and ∇E(x₀) (one pass), an empty memory.
  template <class Obj>
  LbfgsState<T> start(Obj& obj, const Tensor<T>& x0) const;

  // One iteration from `state`, which it updates: the two-loop direction and
  // a line search along it (retried once along steepest descent with the
  // memory cleared). Returns its record, or why no step was accepted. An
  // exception of the objective leaves the state as it was; so does
  // NonFiniteError, thrown if a value that would enter the state is not
  // finite (the line search never accepts such a point, so this is a guard).
  template <class Obj>
  LineSearchStep step(Obj& obj, LbfgsState<T>& state) const;

  // Throws std::invalid_argument naming the field and its value unless st
  // can be resumed: w, g and every pair's s, y of dim finite elements, loss
  // finite, at most options.memory pairs with ρ > 0 finite, passes and
  // seconds finite and ≥ 0.
  void check_state(const LbfgsState<T>& st, std::size_t dim) const;

  // The state as fields w, g (tensors); loss, passes, seconds (scalars);
  // iteration (counter); the memory, oldest pair first, as s<i>, y<i>
  // (tensors) and rho<i> (scalars), with memory_capacity (options.memory)
  // and memory_pairs (counters).
  void save_state(const LbfgsState<T>& st, StateWriter& out) const;
  // Reads what save_state wrote and checks it (check_state; iteration at most
  // progress.max; the saved memory_capacity must be this options.memory).
  LbfgsState<T> load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress = {}) const;

  template <class Obj>
  LbfgsResult<T> minimize(Obj&& obj, const Tensor<T>& x0, const Callbacks<T>& callbacks = {}) const {
    return run(obj, start(obj, x0), callbacks, true);
  }

  // Continues from a saved state (checked first, see check_state) until a
  // stop criterion holds (max_iterations counts the iterations already in
  // the state). Each iteration is a step and an epoch for the callbacks
  // (callback.hpp).
  template <class Obj>
  LbfgsResult<T> resume(Obj& obj, LbfgsState<T> state, const Callbacks<T>& callbacks = {}) const {
    return run(obj, std::move(state), callbacks, false);
  }

 private:
  // resume(); `fresh` for minimize() (callback.hpp's fresh_start).
  template <class Obj>
  LbfgsResult<T> run(Obj& obj, LbfgsState<T> st, const Callbacks<T>& callbacks, bool fresh) const;
  LineSearchOptions line_search_options() const {
    return {options_.c1, options_.c2, options_.max_line_search_evaluations, 1e10,
            1e3 * std::numeric_limits<T>::epsilon()};
  }

  LbfgsOptions options_;
};

// ---------------------------------------------------------------------------

namespace detail {

// Sets out's stop fields when a criterion of the full-dataset optimizers holds;
// returns whether one did.
inline bool full_batch_stop(double grad_norm, double gradient_tolerance, double loss_before, double loss_after,
                            double relative_loss_tolerance, std::size_t iteration, std::size_t max_iterations,
                            bool callback_stop, StopReason& reason, std::string& message, bool& converged) {
  std::ostringstream s;
  if (grad_norm <= gradient_tolerance) {
    reason = StopReason::gradient_tolerance;
    s << "|g| = " << grad_norm << " <= gradient_tolerance = " << gradient_tolerance;
  } else if (relative_change_below(loss_before, loss_after, relative_loss_tolerance)) {
    reason = StopReason::relative_loss_tolerance;
    s << "relative loss change <= relative_loss_tolerance = " << relative_loss_tolerance;
  } else if (callback_stop) {
    reason = StopReason::callback;
    s << "a callback stopped the run at iteration " << iteration;
  } else if (iteration >= max_iterations) {
    reason = StopReason::max_iterations;
    s << "reached max_iterations = " << max_iterations;
  } else {
    return false;
  }
  message = s.str();
  converged = reason == StopReason::gradient_tolerance || reason == StopReason::relative_loss_tolerance;
  return true;
}

// The stop-criteria loop of the line-search optimizers (L-BFGS, nonlinear
// CG) around their step(): the test at the start (a state may already satisfy
// one), then after every accepted step the trace, the callbacks and the tests.
// `events` runs the callbacks: each accepted step is a step and an epoch.
template <class T, class Options, class State, class Step>
void run_line_search(const Options& options, State& st, Result<T>& out, CallbackDriver<T>& events, bool fresh,
                     const Step& step) {
  {
    IterationInfo at_start;
    at_start.iteration = st.iteration;
    at_start.loss = st.loss;
    at_start.grad_norm = detail::norm(st.g);
    at_start.passes = st.passes;
    at_start.seconds = st.seconds;
    events.begin(at_start, st.w, st.iteration, st.loss, fresh);
  }
  if (events.stop_requested()) {
    out.stop_reason = StopReason::callback;
    out.message = events.stop_reason();
  } else {
    full_batch_stop(detail::norm(st.g), options.gradient_tolerance, st.loss, st.loss, 0, st.iteration,
                    options.max_iterations, false, out.stop_reason, out.message, out.converged);
  }
  while (out.stop_reason == StopReason::none) {
    const double loss_before = st.loss;
    LineSearchStep s;
    try {
      s = step(st);
    } catch (const NonFiniteError& e) {
      out.stop_reason = StopReason::non_finite;
      out.message = e.what();
      break;
    }
    if (!s.accepted) {
      out.stop_reason = StopReason::line_search_failed;
      out.message = s.message;
      break;
    }
    if (options.record_trace) out.trace.push_back(s.info);
    events.step(s.info, st.w, st.iteration);
    events.epoch(s.info, st.w, st.iteration, s.info.loss);
    full_batch_stop(s.info.grad_norm, options.gradient_tolerance, loss_before, s.info.loss,
                    options.relative_loss_tolerance, s.info.iteration, options.max_iterations,
                    events.stop_requested(), out.stop_reason, out.message, out.converged);
    if (out.stop_reason == StopReason::callback) out.message = events.stop_reason();
  }
  out.x = st.w;
  out.value = st.loss;
  out.iterations = st.iteration;
  out.passes = st.passes;
  out.seconds = st.seconds;
  events.end(out);
}

// The record of an accepted step, from the state it left (x_{k+1}, ∇E(x_{k+1})).
template <class State>
IterationInfo accepted_step(const State& st, double alpha, bool restarted, double p_norm, double p_mean) {
  IterationInfo info;
  info.iteration = st.iteration;
  info.loss = st.loss;
  info.alpha = alpha;
  info.restarted = restarted;
  info.p_norm = p_norm;
  info.p_mean = p_mean;
  info.grad_norm = detail::norm(st.g);
  info.grad_mean = detail::mean(st.g);
  info.passes = st.passes;
  info.seconds = st.seconds;
  return info;
}

// min(1, 1/|g|₁): the first trial step before any curvature is known.
template <class T>
double first_trial_step(const Tensor<T>& g) {
  double g1 = 0;
  for (std::size_t i = 0; i < g.size(); ++i) g1 += std::abs(static_cast<double>(g.data()[i]));
  return std::min(1.0, 1.0 / g1);
}

// The first evaluation of a line-search state (L-BFGS, nonlinear CG): w = x0,
// its loss and gradient, one pass; a non-finite start is refused.
template <class State, class Obj, class T>
void evaluate_start(std::string_view who, Obj& obj, const Tensor<T>& x0, State& st) {
  st.w = x0;
  st.loss = static_cast<double>(obj.value_and_grad(st.w, st.g));
  st.passes = 1;
  if (!std::isfinite(st.loss) || !all_finite(st.g))
    throw std::invalid_argument("curv::optim::" + std::string(who) +
                                ": the objective or its gradient is not finite at x0");
}

}  // namespace detail

template <class T>
template <class Obj>
LbfgsState<T> LBFGS<T>::start(Obj& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("LBFGS::start", static_cast<std::size_t>(obj.dim()), x0);
  const detail::Stopwatch clock;
  LbfgsState<T> st;
  detail::evaluate_start("LBFGS::start", obj, x0, st);
  st.seconds = clock.seconds();
  return st;
}

template <class T>
template <class Obj>
LineSearchStep LBFGS<T>::step(Obj& obj, LbfgsState<T>& st) const {
  detail::check_objective<Obj, T>();
  const detail::Stopwatch clock;
  const LineSearchOptions ls = line_search_options();
  const std::deque<LbfgsPair<T>>& memory = st.memory;
  // Worked on copies and committed at the end, so that an exception (an
  // objective that throws, a cancelled pass) leaves st as it was.
  double passes = st.passes;
  bool clear_memory = false;

  // Two-loop recursion (N&W Alg. 7.4): d = −H_k g with H_k⁰ = γI, γ = sᵀy/yᵀy of the newest pair.
  Tensor<T> q = st.g, d;
  std::vector<double> a(memory.size(), 0.0);
  for (std::size_t i = memory.size(); i-- > 0;) {
    a[i] = memory[i].rho * detail::dot(memory[i].s, q);
    detail::axpy(q, -a[i], memory[i].y);
  }
  if (!memory.empty()) {
    const LbfgsPair<T>& last = memory.back();
    detail::scale(q, detail::dot(last.s, last.y) / detail::dot(last.y, last.y));
  }
  for (std::size_t i = 0; i < memory.size(); ++i) {
    const double b = memory[i].rho * detail::dot(memory[i].y, q);
    detail::axpy(q, a[i] - b, memory[i].s);
  }
  detail::negate(d, q);
  bool restarted = false;
  if (!(detail::dot(d, st.g) < 0)) {  // lost descent (rounding): steepest descent, forget the memory
    detail::negate(d, st.g);
    clear_memory = true;
    restarted = true;
  }
  const bool no_memory = memory.empty() || clear_memory;
  // First trial step: 1 for a quasi-Newton direction; min(1, 1/|g|₁) before any curvature is known.
  const double alpha0 = no_memory ? detail::first_trial_step(st.g) : 1.0;
  Tensor<T> x_new, g_new;
  LineSearchResult search = detail::search_along(obj, st.w, st.loss, st.g, d, alpha0, ls, x_new, g_new, passes);
  if (!search.ok && !no_memory) {  // retry once along steepest descent
    clear_memory = true;
    detail::negate(d, st.g);
    restarted = true;
    search = detail::search_along(obj, st.w, st.loss, st.g, d, detail::first_trial_step(st.g), ls, x_new, g_new,
                                  passes);
  }
  LineSearchStep out;
  if (!search.ok) {
    if (clear_memory) st.memory.clear();
    st.passes = passes;
    st.seconds += clock.seconds();
    out.message = "line search failed at iteration " + std::to_string(st.iteration + 1) + ": " + search.message;
    return out;
  }
  NonFiniteError::Where where;
  where.optimizer = "LBFGS";
  where.iteration = st.iteration + 1;
  detail::require_finite(search.point.value, "the loss", where);
  detail::require_finite(x_new, "the new weights", where);
  detail::require_finite(g_new, "the gradient", where);
  LbfgsPair<T> pair;
  pair.s = x_new - st.w;
  pair.y = g_new - st.g;
  const double sy = detail::dot(pair.s, pair.y);
  // The strong-Wolfe step keeps H positive definite; a pair that overflowed is dropped like one that does not.
  const bool keep_pair = sy > 1e-10 * detail::norm(pair.s) * detail::norm(pair.y) && std::isfinite(1 / sy) &&
                         detail::all_finite(pair.s) && detail::all_finite(pair.y);

  // Commit.
  if (clear_memory) st.memory.clear();
  if (keep_pair) {
    pair.rho = 1 / sy;
    st.memory.push_back(std::move(pair));
    if (st.memory.size() > options_.memory) st.memory.pop_front();
  }
  st.w = std::move(x_new);
  st.g = std::move(g_new);
  st.loss = search.point.value;
  st.passes = passes;
  ++st.iteration;
  st.seconds += clock.seconds();
  out.accepted = true;
  out.info = detail::accepted_step(st, search.point.alpha, restarted, detail::norm(d), detail::mean(d));
  return out;
}

template <class T>
void LBFGS<T>::save_state(const LbfgsState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st, options_.memory);
}

template <class T>
LbfgsState<T> LBFGS<T>::load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress) const {
  LbfgsState<T> st = detail::load_fields<LbfgsState<T>>("LBFGS", in, dim, progress, options_.memory);
  check_state(st, dim);
  return st;
}

template <class T>
void LBFGS<T>::check_state(const LbfgsState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("LBFGS", "w", st.w, dim);
  detail::check_state_tensor("LBFGS", "g", st.g, dim);
  detail::check_state_scalar("LBFGS", "loss", st.loss, -detail::any_finite, detail::any_finite);
  if (st.memory.size() > options_.memory)
    throw std::invalid_argument("curv::optim::LBFGS: state.memory holds " + std::to_string(st.memory.size()) +
                                " pairs, expected at most options.memory = " + std::to_string(options_.memory));
  for (std::size_t i = 0; i < st.memory.size(); ++i) {
    const std::string at = "memory[" + std::to_string(i) + "]";
    detail::check_state_tensor("LBFGS", at + ".s", st.memory[i].s, dim);
    detail::check_state_tensor("LBFGS", at + ".y", st.memory[i].y, dim);
    const double rho = st.memory[i].rho;
    if (!(std::isfinite(rho) && rho > 0)) {
      std::ostringstream m;
      m << "curv::optim::LBFGS: state." << at << ".rho = " << rho << ", expected a finite value > 0";
      throw std::invalid_argument(m.str());
    }
  }
  detail::check_state_scalar("LBFGS", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("LBFGS", "seconds", st.seconds, 0, detail::any_finite);
}

template <class T>
template <class Obj>
LbfgsResult<T> LBFGS<T>::run(Obj& obj, LbfgsState<T> st, const Callbacks<T>& callbacks, bool fresh) const {
  detail::check_objective<Obj, T>();
  check_state(st, static_cast<std::size_t>(obj.dim()));
  LbfgsResult<T> out;
  detail::CallbackDriver<T> events(callbacks, "L-BFGS", obj, [&](StateWriter& w) { save_state(st, w); });
  detail::run_line_search(options_, st, out, events, fresh, [&](LbfgsState<T>& s) { return step(obj, s); });
  out.state = std::move(st);
  return out;
}

extern template class LBFGS<float>;
extern template class LBFGS<double>;

}  // namespace curv::optim
