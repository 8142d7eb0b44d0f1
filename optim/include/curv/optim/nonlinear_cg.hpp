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
#include <string>
#include <vector>

#include "curv/optim/lbfgs.hpp"

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
  std::vector<Callback> callbacks;
};

template <class T>
class NonlinearCG {
 public:
  explicit NonlinearCG(NonlinearCgOptions options = {});

  const NonlinearCgOptions& options() const { return options_; }

  template <class Obj>
  Result<T> minimize(Obj&& obj, const Tensor<T>& x0) const;

 private:
  NonlinearCgOptions options_;
};

template <class T>
template <class Obj>
Result<T> NonlinearCG<T>::minimize(Obj&& obj, const Tensor<T>& x0) const {
  detail::check_objective<Obj, T>();
  detail::check_start("NonlinearCG::minimize", static_cast<std::size_t>(obj.dim()), x0);
  const detail::Stopwatch clock;
  Result<T> out;
  Tensor<T> x = x0;
  Tensor<T> g;
  double f = static_cast<double>(obj.value_and_grad(x, g));
  out.passes = 1;
  if (!std::isfinite(f) || !detail::all_finite(g))
    throw std::invalid_argument("curv::optim::NonlinearCG::minimize: the objective or its gradient is not finite at x0");
  const std::size_t restart_n =
      options_.restart_interval > 0 ? options_.restart_interval : static_cast<std::size_t>(obj.dim());
  const LineSearchOptions ls{options_.c1, options_.c2, options_.max_line_search_evaluations, 1e10,
                             1e3 * std::numeric_limits<T>::epsilon()};

  Tensor<T> d;
  detail::negate(d, g);
  Tensor<T> x_new, g_new;
  double previous_slope = 0, previous_alpha = 0;
  std::size_t k = 0;
  bool restarted = true;
  detail::full_batch_stop(detail::norm(g), options_.gradient_tolerance, f, f, 0, 0, options_.max_iterations, false,
                          out.stop_reason, out.message, out.converged);
  while (out.stop_reason == StopReason::none) {
    double slope = detail::dot(g, d);
    if (!(slope < 0)) {
      detail::negate(d, g);
      slope = detail::dot(g, d);
      restarted = true;
    }
    // First trial step: 1/|g| at a restart, else α_{k−1}φ′_{k−1}(0)/φ′_k(0) (N&W eq. 3.60), at most 1.
    double alpha0 = k == 0 || restarted ? std::min(1.0, 1.0 / detail::norm(g))
                                        : std::min(1.0, previous_alpha * previous_slope / slope);
    if (!(alpha0 > 0) || !std::isfinite(alpha0)) alpha0 = 1;
    const LineSearchResult search = detail::search_along(obj, x, f, g, d, alpha0, ls, x_new, g_new, out.passes);
    if (!search.ok) {
      out.stop_reason = StopReason::line_search_failed;
      out.message = "line search failed at iteration " + std::to_string(k + 1) + ": " + search.message;
      break;
    }
    ++k;
    previous_alpha = search.point.alpha;
    previous_slope = slope;
    const double f_before = f;
    f = search.point.value;

    IterationInfo info;
    info.iteration = k;
    info.loss = f;
    info.alpha = search.point.alpha;
    info.restarted = restarted;
    info.p_norm = detail::norm(d);
    info.p_mean = detail::mean(d);

    // β⁺ and the next direction; a restart every restart_n iterations.
    const double gg = detail::dot(g, g);
    const double beta = std::max(0.0, (detail::dot(g_new, g_new) - detail::dot(g_new, g)) / gg);
    restarted = k % restart_n == 0;
    detail::scale(d, restarted ? 0.0 : beta);
    detail::axpy(d, -1.0, g_new);
    std::swap(x, x_new);
    std::swap(g, g_new);

    detail::end_line_search_iteration(info, g, f_before, options_, clock, out);
  }
  out.x = std::move(x);
  out.value = f;
  out.iterations = k;
  out.seconds = clock.seconds();
  return out;
}

extern template class NonlinearCG<float>;
extern template class NonlinearCG<double>;

}  // namespace curv::optim
