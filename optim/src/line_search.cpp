// Strong-Wolfe line search, Nocedal & Wright Algorithms 3.5 and 3.6.
#include "curv/optim/line_search.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace curv::optim {

namespace {

// The minimizer of the cubic through (a, φ(a), φ′(a)) and (b, φ(b), φ′(b)),
// Nocedal & Wright eq. (3.59), kept at least 10% of |b − a| away from both
// ends; bisection when the cubic has no minimizer or a value is not finite.
double cubic_step(const LineSearchPoint& a, const LineSearchPoint& b) {
  const double lo = std::min(a.alpha, b.alpha);
  const double hi = std::max(a.alpha, b.alpha);
  const double margin = 0.1 * (hi - lo);
  const double mid = 0.5 * (a.alpha + b.alpha);
  if (!std::isfinite(a.value) || !std::isfinite(b.value) || !std::isfinite(a.slope) || !std::isfinite(b.slope))
    return mid;
  const double d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.alpha - b.alpha);
  const double radicand = d1 * d1 - a.slope * b.slope;
  if (radicand < 0) return mid;
  const double d2 = std::copysign(std::sqrt(radicand), b.alpha - a.alpha);
  const double alpha = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2);
  if (!std::isfinite(alpha)) return mid;
  return std::clamp(alpha, lo + margin, hi - margin);
}

}  // namespace

LineSearchResult strong_wolfe_line_search(const std::function<LineSearchPoint(double)>& phi, double phi0,
                                          double slope0, double alpha0, const LineSearchOptions& options) {
  LineSearchResult out;
  auto fail = [&](const std::string& why) {
    out.ok = false;
    out.message = why;
    return out;
  };
  if (!(slope0 < 0)) {
    std::ostringstream s;
    s << "the direction is not a descent direction (phi'(0) = " << slope0 << ")";
    return fail(s.str());
  }
  const double noise = options.rounding * std::abs(phi0);
  auto armijo = [&](const LineSearchPoint& p) {
    if (!std::isfinite(p.value)) return false;
    if (p.value <= phi0 + options.c1 * p.alpha * slope0) return true;
    return p.value <= phi0 + noise && p.slope <= (2 * options.c1 - 1) * slope0;  // approximate Wolfe
  };
  auto curvature = [&](const LineSearchPoint& p) { return std::abs(p.slope) <= -options.c2 * slope0; };
  // φ(a) ≥ φ(b) beyond rounding noise (within it, the slopes decide).
  auto higher = [&](const LineSearchPoint& a, const LineSearchPoint& b) {
    return a.value >= b.value && a.value - b.value > noise;
  };

  // Algorithm 3.6 (zoom): lo satisfies sufficient decrease and has the lowest
  // φ so far; φ′(lo)(hi − lo) < 0, so [lo, hi] brackets a Wolfe point.
  auto zoom = [&](LineSearchPoint lo, LineSearchPoint hi) -> LineSearchResult {
    while (out.evaluations < options.max_evaluations) {
      if (std::abs(hi.alpha - lo.alpha) <= 1e-16 * std::max(1.0, std::abs(lo.alpha)))
        return fail("the bracket shrank to nothing around alpha = " + std::to_string(lo.alpha));
      const LineSearchPoint p = phi(cubic_step(lo, hi));
      ++out.evaluations;
      if (!armijo(p) || higher(p, lo)) {
        hi = p;
      } else {
        if (curvature(p)) {
          out.ok = true;
          out.point = p;
          return out;
        }
        if (p.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = p;
      }
    }
    return fail("no strong-Wolfe point within " + std::to_string(options.max_evaluations) + " evaluations");
  };

  // Algorithm 3.5: grow α until the interval (α_{i−1}, α_i) brackets a Wolfe point.
  LineSearchPoint previous{0, phi0, slope0};
  double alpha = std::min(alpha0, options.alpha_max);
  for (std::size_t i = 1; out.evaluations < options.max_evaluations; ++i) {
    const LineSearchPoint p = phi(alpha);
    ++out.evaluations;
    if (!armijo(p) || (i > 1 && higher(p, previous))) return zoom(previous, p);
    if (curvature(p)) {
      out.ok = true;
      out.point = p;
      return out;
    }
    if (p.slope >= 0) return zoom(p, previous);
    if (alpha >= options.alpha_max) return fail("alpha reached alpha_max without a strong-Wolfe point");
    previous = p;
    alpha = std::min(2 * alpha, options.alpha_max);
  }
  return fail("no strong-Wolfe point within " + std::to_string(options.max_evaluations) + " evaluations");
}

}  // namespace curv::optim
