// Limited-memory BFGS: J. Nocedal, "Updating quasi-Newton matrices with limited
// storage", Math. Comp. 35:773–782, 1980; the two-loop recursion of Nocedal &
// Wright, Numerical Optimization (2006), Algorithm 7.4, with H₀ = γI,
// γ = sᵀy/yᵀy (eq. 7.20), and their strong-Wolfe line search (Alg. 3.5/3.6).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <deque>
#include <sstream>
#include <string>
#include <vector>

#include "curv/optim/detail/flat.hpp"
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
  std::vector<Callback> callbacks;
};

template <class T>
class LBFGS {
 public:
  explicit LBFGS(LbfgsOptions options = {});

  const LbfgsOptions& options() const { return options_; }

  template <class Obj>
  Result<T> minimize(Obj&& obj, const Tensor<T>& x0) const;

 private:
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

// Ends an iteration of a line-search optimizer (L-BFGS, nonlinear CG): fills
// the gradient and timing fields of its record, appends it to the trace, runs
// the callbacks and sets out's stop fields when a criterion holds.
template <class T, class Options>
void end_line_search_iteration(IterationInfo& info, const Tensor<T>& g, double loss_before,
                               const Options& options, const Stopwatch& clock, Result<T>& out) {
  info.grad_norm = norm(g);
  info.grad_mean = mean(g);
  info.passes = out.passes;
  info.seconds = clock.seconds();
  if (options.record_trace) out.trace.push_back(info);
  const bool callback_stop = run_callbacks(options.callbacks, info);
  full_batch_stop(info.grad_norm, options.gradient_tolerance, loss_before, info.loss,
                  options.relative_loss_tolerance, info.iteration, options.max_iterations, callback_stop,
                  out.stop_reason, out.message, out.converged);
}

}  // namespace detail

template <class T>
template <class Obj>
Result<T> LBFGS<T>::minimize(Obj&& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("LBFGS::minimize", static_cast<std::size_t>(obj.dim()), x0);
  const detail::Stopwatch clock;
  Result<T> out;
  Tensor<T> x = x0;
  Tensor<T> g;
  double f = static_cast<double>(obj.value_and_grad(x, g));
  out.passes = 1;
  if (!std::isfinite(f) || !detail::all_finite(g))
    throw std::invalid_argument("curv::optim::LBFGS::minimize: the objective or its gradient is not finite at x0");

  struct Pair {
    Tensor<T> s, y;
    double rho;  // 1/(yᵀs)
  };
  std::deque<Pair> memory;
  const LineSearchOptions ls{options_.c1, options_.c2, options_.max_line_search_evaluations, 1e10,
                             1e3 * std::numeric_limits<T>::epsilon()};
  Tensor<T> d, q, x_new, g_new;
  std::vector<double> a;
  std::size_t k = 0;
  detail::full_batch_stop(detail::norm(g), options_.gradient_tolerance, f, f, 0, 0, options_.max_iterations, false,
                          out.stop_reason, out.message, out.converged);
  while (out.stop_reason == StopReason::none) {
    // Two-loop recursion: d = −H_k g.
    q = g;
    a.assign(memory.size(), 0.0);
    for (std::size_t i = memory.size(); i-- > 0;) {
      a[i] = memory[i].rho * detail::dot(memory[i].s, q);
      detail::axpy(q, -a[i], memory[i].y);
    }
    if (!memory.empty()) {
      const Pair& last = memory.back();
      detail::scale(q, detail::dot(last.s, last.y) / detail::dot(last.y, last.y));
    }
    for (std::size_t i = 0; i < memory.size(); ++i) {
      const double b = memory[i].rho * detail::dot(memory[i].y, q);
      detail::axpy(q, a[i] - b, memory[i].s);
    }
    detail::negate(d, q);
    bool restarted = false;
    if (!(detail::dot(d, g) < 0)) {  // lost descent (rounding): steepest descent, forget the memory
      detail::negate(d, g);
      memory.clear();
      restarted = true;
    }
    // First trial step: 1 for a quasi-Newton direction; min(1, 1/|g|₁) before any curvature is known.
    double alpha0 = 1;
    if (memory.empty()) {
      double g1 = 0;
      for (std::size_t i = 0; i < g.size(); ++i) g1 += std::abs(static_cast<double>(g.data()[i]));
      alpha0 = std::min(1.0, 1.0 / g1);
    }
    LineSearchResult search = detail::search_along(obj, x, f, g, d, alpha0, ls, x_new, g_new, out.passes);
    if (!search.ok && !memory.empty()) {  // retry once along steepest descent
      memory.clear();
      detail::negate(d, g);
      restarted = true;
      double g1 = 0;
      for (std::size_t i = 0; i < g.size(); ++i) g1 += std::abs(static_cast<double>(g.data()[i]));
      search = detail::search_along(obj, x, f, g, d, std::min(1.0, 1.0 / g1), ls, x_new, g_new, out.passes);
    }
    if (!search.ok) {
      out.stop_reason = StopReason::line_search_failed;
      out.message = "line search failed at iteration " + std::to_string(k + 1) + ": " + search.message;
      break;
    }
    ++k;
    const double alpha = search.point.alpha;
    Pair pair;
    pair.s = x_new - x;
    pair.y = g_new - g;
    const double sy = detail::dot(pair.s, pair.y);
    if (sy > 1e-10 * detail::norm(pair.s) * detail::norm(pair.y)) {  // the strong-Wolfe step keeps H positive definite
      pair.rho = 1 / sy;
      memory.push_back(std::move(pair));
      if (memory.size() > options_.memory) memory.pop_front();
    }
    const double f_before = f;
    std::swap(x, x_new);
    std::swap(g, g_new);
    f = search.point.value;

    IterationInfo info;
    info.iteration = k;
    info.loss = f;
    info.alpha = alpha;
    info.restarted = restarted;
    info.p_norm = detail::norm(d);
    info.p_mean = detail::mean(d);
    detail::end_line_search_iteration(info, g, f_before, options_, clock, out);
  }
  out.x = std::move(x);
  out.value = f;
  out.iterations = k;
  out.seconds = clock.seconds();
  return out;
}

extern template class LBFGS<float>;
extern template class LBFGS<double>;

}  // namespace curv::optim
