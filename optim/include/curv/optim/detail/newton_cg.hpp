// What Hessian-free and trust-region Newton–CG share: the curvature product
// their inner CG solves with (full-dataset, or on the objective's subsample
// for this iteration) and a trial point's loss change measured so that it
// stays meaningful at the rounding level of the loss.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "curv/optim/detail/flat.hpp"
#include "curv/optim/objective.hpp"
#include "curv/optim/scg.hpp"

namespace curv::optim::detail {

// Throws std::invalid_argument unless Obj can give the products `curvature`
// asks for (checked at start and resume, before any pass is spent).
template <class T, class Obj>
void check_curvature(const char* who, Curvature curvature) {
  if (curvature == Curvature::exact) {
    if constexpr (!CurvatureObjective<Obj, T> && !SubsampledCurvatureObjective<Obj, T>)
      throw std::invalid_argument(std::string("curv::optim::") + who +
                                  ": curvature = exact needs an objective with hvp(w, v, g, hv) "
                                  "(CurvatureObjective) or sampled_hvp(sample, w, v, hv)");
  } else if (curvature == Curvature::gauss_newton) {
    if constexpr (!GaussNewtonObjective<Obj, T> && !SubsampledGaussNewtonObjective<Obj, T>)
      throw std::invalid_argument(std::string("curv::optim::") + who +
                                  ": curvature = gauss_newton needs an objective with gnvp(w, v, g, gv) "
                                  "(GaussNewtonObjective) or sampled_gnvp(sample, w, v, gv)");
  } else {
    throw std::invalid_argument(std::string("curv::optim::") + who +
                                ": curvature = finite_difference, expected exact or gauss_newton");
  }
}

// out = B·v at w, B = ∇²E(w) (exact) or G(w) (gauss_newton), on the
// objective's subsample number `sample` when it offers one (its
// curvature_fraction() of a pass), else over the whole data (one pass).
template <class T, class Obj>
void curvature_product(Obj& obj, Curvature curvature, std::size_t sample, const Tensor<T>& w,
                       const Tensor<T>& v, Tensor<T>& out, double& passes) {
  if (curvature == Curvature::exact) {
    if constexpr (SubsampledCurvatureObjective<Obj, T>) {
      obj.sampled_hvp(sample, w, v, out);
      passes += static_cast<double>(obj.curvature_fraction());
      return;
    } else if constexpr (CurvatureObjective<Obj, T>) {
      Tensor<T> g;
      obj.hvp(w, v, g, out);
      passes += 1;
      return;
    }
  } else if (curvature == Curvature::gauss_newton) {
    if constexpr (SubsampledGaussNewtonObjective<Obj, T>) {
      obj.sampled_gnvp(sample, w, v, out);
      passes += static_cast<double>(obj.curvature_fraction());
      return;
    } else if constexpr (GaussNewtonObjective<Obj, T>) {
      Tensor<T> g;
      obj.gnvp(w, v, g, out);
      passes += 1;
      return;
    }
  }
  throw std::logic_error("curv::optim: curvature_product called without check_curvature");
}

// E at a trial point w + p and its change from E(w). Near a minimum
// E(w + p) − E(w) is at the rounding level of E and would make ρ noise (a
// run would stall before a tight gradient tolerance): there the change is
// measured instead by the trapezoid rule on the slopes, (E′(w) + E′(w + p))ᵀp/2,
// exact for a quadratic (as SCG does; not in the papers).
template <class T>
struct Trial {
  Tensor<T> x;         // w + p
  Tensor<T> g;         // E′(x) once evaluated (value_and_grad), else empty
  double value = std::numeric_limits<double>::infinity();  // E(x); +inf when not finite
  double change = std::numeric_limits<double>::infinity(); // E(x) − E(w); +inf when not finite
  bool has_gradient = false;

  bool finite() const { return std::isfinite(change); }
};

// Evaluates the trial w + p (value only, unless `with_gradient` or the
// change is at rounding level). A point that overflowed is not evaluated
// and, like a non-finite value or gradient, gives change = +inf.
template <class T, class Obj>
Trial<T> evaluate_trial(Obj& obj, const Tensor<T>& w, double loss, const Tensor<T>& g, double a,
                        const Tensor<T>& p, bool with_gradient, double& passes) {
  Trial<T> t;
  add_scaled(t.x, w, a, p);
  if (!all_finite(t.x)) return t;
  double value;
  if (with_gradient) {
    value = static_cast<double>(obj.value_and_grad(t.x, t.g));
    t.has_gradient = true;
  } else {
    value = static_cast<double>(obj.value(t.x));
  }
  passes += 1;
  if (!std::isfinite(value) || (t.has_gradient && !all_finite(t.g))) return t;
  t.value = value;
  t.change = value - loss;
  const double rounding = 1e3 * std::numeric_limits<T>::epsilon();
  if (std::abs(t.change) <= rounding * std::max(std::abs(loss), std::abs(value)) &&
      !std::equal(t.x.data(), t.x.data() + t.x.size(), w.data())) {
    if (!t.has_gradient) {
      obj.value_and_grad(t.x, t.g);
      passes += 1;
      t.has_gradient = true;
      if (!all_finite(t.g)) {
        t.value = t.change = std::numeric_limits<double>::infinity();
        return t;
      }
    }
    t.change = 0.5 * a * (dot(g, p) + dot(t.g, p));
  }
  return t;
}

}  // namespace curv::optim::detail
