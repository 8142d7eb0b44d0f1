// A line search for the strong Wolfe conditions: J. Nocedal and S. J. Wright,
// Numerical Optimization, 2nd ed., Springer 2006, Algorithms 3.5 (bracketing)
// and 3.6 (zoom), with the safeguarded cubic interpolation of their eq. (3.59).
// Used by L-BFGS and NonlinearCG.
//
// Along a direction d from x, φ(α) = E(x + αd) and φ′(α) = E′(x + αd)ᵀd.
// An α is accepted when
//   φ(α) ≤ φ(0) + c₁αφ′(0)   (sufficient decrease)   and   |φ′(α)| ≤ c₂|φ′(0)|   (curvature).
// Near a minimum, where φ(α) − φ(0) is rounding noise, sufficient decrease is
// replaced by Hager & Zhang's approximate form (SIAM J. Optim. 16(1), 2005):
//   φ(α) ≤ φ(0) + rounding·|φ(0)|   and   φ′(α) ≤ (2c₁ − 1)φ′(0),
// exact for quadratics, so that a run reaches tight gradient tolerances.
// The accepted α is always the one evaluated last, so a caller that keeps the
// gradient of its last evaluation has the gradient at the new point for free.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>

#include "curv/optim/detail/flat.hpp"

namespace curv::optim {

struct LineSearchOptions {
  double c1 = 1e-4;                     // sufficient decrease
  double c2 = 0.9;                      // curvature (0.9 for quasi-Newton, 0.1 for CG: Nocedal & Wright)
  std::size_t max_evaluations = 25;     // of φ per search
  double alpha_max = 1e10;              // largest step tried
  // Relative rounding level of φ: within it, sufficient decrease is judged by
  // the slope instead (Hager & Zhang's approximate Wolfe condition).
  double rounding = 1e3 * std::numeric_limits<double>::epsilon();
};

// φ and φ′ at one α. A non-finite value counts as "too far" (the bracket shrinks).
struct LineSearchPoint {
  double alpha = 0;
  double value = 0;  // φ(α)
  double slope = 0;  // φ′(α)
};

struct LineSearchResult {
  bool ok = false;
  LineSearchPoint point;         // the accepted point (the last evaluated one) when ok
  std::size_t evaluations = 0;
  std::string message;           // why it failed
};

// phi0 = φ(0), slope0 = φ′(0) < 0 required; alpha0 > 0 the first trial step.
LineSearchResult strong_wolfe_line_search(const std::function<LineSearchPoint(double)>& phi, double phi0,
                                          double slope0, double alpha0, const LineSearchOptions& options);

namespace detail {

// The line search along d from (x, g): on success x_new, g_new hold the
// accepted point and its gradient. Counts one pass per evaluation. A trial
// point, value or gradient that is not finite counts as "too far" (it is
// never accepted; a trial point that overflowed is not even evaluated).
template <class T, class Obj>
LineSearchResult search_along(Obj& obj, const Tensor<T>& x, double f, const Tensor<T>& g, const Tensor<T>& d,
                              double alpha0, const LineSearchOptions& options, Tensor<T>& x_new, Tensor<T>& g_new,
                              double& passes) {
  auto phi = [&](double alpha) {
    detail::add_scaled(x_new, x, alpha, d);
    LineSearchPoint pt;
    pt.alpha = alpha;
    if (!detail::all_finite(x_new)) {  // overflowed: too far, and not worth evaluating
      pt.value = std::numeric_limits<double>::infinity();
      pt.slope = std::numeric_limits<double>::quiet_NaN();
      return pt;
    }
    pt.value = static_cast<double>(obj.value_and_grad(x_new, g_new));
    passes += 1;
    pt.slope = detail::dot(g_new, d);
    if (!std::isfinite(pt.slope) || !detail::all_finite(g_new)) pt.value = std::numeric_limits<double>::infinity();
    return pt;
  };
  return strong_wolfe_line_search(phi, f, detail::dot(g, d), alpha0, options);
}

}  // namespace detail
}  // namespace curv::optim
