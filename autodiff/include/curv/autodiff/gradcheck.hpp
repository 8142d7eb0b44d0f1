// gradcheck: compares curv's exact derivatives of a scalar function with
// central finite differences, and forward mode with reverse mode.
//
//   check_grad(f, x)     ∇f(x)            vs  (f(x + h eᵢ) − f(x − h eᵢ)) / 2h
//   check_jvp(f, x, v)   ∇f(x)·v (jvp)    vs  (f(x + h v) − f(x − h v)) / 2h  and vs  ⟨grad, v⟩
//   check_hvp(f, x, v)   ∇²f(x)·v (hvp)   vs  (∇f(x + h v) − ∇f(x − h v)) / 2h
// Elements match when |a − b| ≤ atol + rtol · max(|a|, |b|).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include <xtensor/xmath.hpp>

#include "curv/autodiff/functional.hpp"

namespace curv::ad {

struct GradcheckOptions {
  double step = 0;  // finite-difference step h; 0 picks ∛ε of the scalar type
  double rtol = 1e-6;
  double atol = 1e-8;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // largest |exact − reference|
  std::string message;       // the first mismatches, for a test's failure output
  // The element furthest outside (or closest to) its tolerance: the largest
  // |exact − reference| / (atol + rtol · max(|exact|, |reference|)); NaN
  // counts as infinitely far. `worst_what` names the comparison it is in.
  std::string worst_what;
  std::size_t worst_index = 0;
  double worst_exact = 0, worst_reference = 0;
  double worst_ratio = 0;
  explicit operator bool() const { return ok; }
};

namespace detail {

template <class T>
T fd_step(const GradcheckOptions& o) {
  return o.step > 0 ? static_cast<T>(o.step) : std::cbrt(std::numeric_limits<T>::epsilon());
}

template <class T>
GradcheckResult compare(std::string_view what, const Tensor<T>& exact, const Tensor<T>& reference,
                        const GradcheckOptions& o) {
  GradcheckResult r;
  std::ostringstream msg;
  int shown = 0;
  auto e = exact.begin();
  auto ref = reference.begin();
  for (std::size_t i = 0; e != exact.end(); ++e, ++ref, ++i) {
    const double a = static_cast<double>(*e), b = static_cast<double>(*ref);
    const double err = std::abs(a - b);
    const double allowed = o.atol + o.rtol * std::max(std::abs(a), std::abs(b));
    r.max_abs_error = std::max(r.max_abs_error, std::isnan(err) ? INFINITY : err);
    const double ratio = std::isnan(err) ? INFINITY : err / allowed;
    if (i == 0 || ratio > r.worst_ratio) {
      r.worst_what = what;
      r.worst_index = i;
      r.worst_exact = a;
      r.worst_reference = b;
      r.worst_ratio = ratio;
    }
    if (!(err <= allowed)) {
      r.ok = false;
      if (shown++ < 5) msg << what << "[" << i << "]: exact " << a << " vs reference " << b << "\n";
    }
  }
  r.message = msg.str();
  return r;
}

// r and d as one result: both must pass; the worst element is the worse one's.
inline GradcheckResult merge(GradcheckResult r, const GradcheckResult& d) {
  r.ok = r.ok && d.ok;
  r.max_abs_error = std::max(r.max_abs_error, d.max_abs_error);
  r.message += d.message;
  if (d.worst_ratio > r.worst_ratio) {
    r.worst_what = d.worst_what;
    r.worst_index = d.worst_index;
    r.worst_exact = d.worst_exact;
    r.worst_reference = d.worst_reference;
    r.worst_ratio = d.worst_ratio;
  }
  return r;
}

}  // namespace detail

template <class F, class T>
GradcheckResult check_grad(F&& f, const Tensor<T>& x, const GradcheckOptions& o = {}) {
  const Tensor<T> grad = value_and_grad(f, x).grad;
  const T h = detail::fd_step<T>(o);
  Tensor<T> fd = xt::zeros<T>(x.shape());
  Tensor<T> xp = x;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const T xi = x.data()[i];
    xp.data()[i] = xi + h;
    const T up = value_and_grad(f, xp).value;
    xp.data()[i] = xi - h;
    const T down = value_and_grad(f, xp).value;
    xp.data()[i] = xi;
    fd.data()[i] = (up - down) / (2 * h);
  }
  return detail::compare<T>("grad", grad, fd, o);
}

template <class F, class T>
GradcheckResult check_jvp(F&& f, const Tensor<T>& x, const Tensor<T>& v, const GradcheckOptions& o = {}) {
  const T tangent = jvp(f, x, v).tangent;
  const T h = detail::fd_step<T>(o);
  const Tensor<T> xp = x + h * v, xm = x - h * v;
  const T fd = (value_and_grad(f, xp).value - value_and_grad(f, xm).value) / (2 * h);
  const T reverse = xt::sum(value_and_grad(f, x).grad * v)();
  return detail::merge(detail::compare<T>("jvp vs finite difference", Tensor<T>(tangent), Tensor<T>(fd), o),
                       detail::compare<T>("jvp vs <grad, v>", Tensor<T>(tangent), Tensor<T>(reverse), o));
}

template <class F, class T>
GradcheckResult check_hvp(F&& f, const Tensor<T>& x, const Tensor<T>& v, const GradcheckOptions& o = {}) {
  const Hvp<T> exact = hvp(f, x, v);
  const T h = detail::fd_step<T>(o);
  const Tensor<T> xp = x + h * v, xm = x - h * v;
  const Tensor<T> fd = (value_and_grad(f, xp).grad - value_and_grad(f, xm).grad) / (2 * h);
  // hvp's gradient comes from the same sweep; it must equal value_and_grad's.
  return detail::merge(detail::compare<T>("hvp", exact.hv, fd, o),
                       detail::compare<T>("hvp's grad", exact.grad, value_and_grad(f, x).grad, o));
}

}  // namespace curv::ad
