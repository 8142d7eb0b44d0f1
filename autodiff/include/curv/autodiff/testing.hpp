// curv's test kit for a function of one Var (an op, a composition of ops):
// its gradient, JVP and H·v in float64 against central finite differences,
// and in float32 against float64. No test framework: the checks return a
// Report (worst error, where, expected and found), and require_* throw
// CheckFailed whose message names the worst element. The checks of a Module
// build on these in <curv/nn/testing.hpp>; <curv/testing.hpp> includes both.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xrandom.hpp>

#include "curv/autodiff/functional.hpp"
#include "curv/autodiff/gradcheck.hpp"

namespace curv::testing {

// Tolerances of the checks; the defaults are what curv's own tests use.
struct CheckOptions {
  // float64 against central finite differences, element by element:
  // |found − expected| ≤ atol + rtol · max(|found|, |expected|). The default
  // step ∛ε ≈ 6e-6 leaves the differences an error of about ε^(2/3) ≈ 4e-11
  // of f's scale (more where f is strongly curved), so 1e-6 fails only a
  // rule that is wrong.
  double rtol = 1e-6;
  double atol = 1e-8;
  double step = 0;  // finite-difference step h; 0 picks ∛ε
  // float32 against float64 at the same float-rounded point, on the scale of
  // the whole tensor: |found − expected| ≤ float32_rtol · max|expected| +
  // float32_atol. Finite differences in float32 are too noisy (~ε₃₂^(2/3) ≈
  // 2.5e-5) to judge a rule by; what remains against float64 is rounding
  // through a handful of ops, a few ε₃₂ = 1.2e-7 each, amplified by
  // cancellation.
  double float32_rtol = 1e-4;
  double float32_atol = 1e-6;
  // Seed of the random direction v of the JVP and H·v checks.
  std::uint64_t seed = 7;
};

// One derivative compared with its reference, summarized by its worst
// element: the one furthest outside (or nearest to) its tolerance.
struct Comparison {
  std::string what;        // "H·v: float64 vs central finite differences"
  bool ok = true;
  std::size_t index = 0;   // of the worst element, row-major
  double expected = 0;     // the reference there (finite differences, or float64)
  double found = 0;        // the derivative under test there
  double abs_error = 0;    // |found − expected|
  double rel_error = 0;    // abs_error / max(|found|, |expected|), 0 when both are 0
  double allowed = 0;      // the tolerance there
  std::string mismatches;  // the first few elements out of tolerance, one a line
};

struct Report {
  std::vector<Comparison> comparisons;

  bool ok() const {
    return std::all_of(comparisons.begin(), comparisons.end(), [](const Comparison& c) { return c.ok; });
  }
  explicit operator bool() const { return ok(); }

  double max_abs_error() const {
    double e = 0;
    for (const Comparison& c : comparisons) e = std::max(e, c.abs_error);
    return e;
  }
  double max_rel_error() const {
    double e = 0;
    for (const Comparison& c : comparisons) e = std::max(e, c.rel_error);
    return e;
  }

  // The comparison whose worst element is furthest outside its tolerance
  // (relative to it); throws std::logic_error on an empty report.
  const Comparison& worst() const {
    if (comparisons.empty()) throw std::logic_error("curv::testing::Report::worst: the report is empty");
    return *std::max_element(comparisons.begin(), comparisons.end(),
                             [](const Comparison& a, const Comparison& b) { return ratio(a) < ratio(b); });
  }

  // "ok: …" or every failed comparison with its worst element.
  std::string message() const {
    std::ostringstream m;
    m.precision(10);
    if (comparisons.empty()) return "no comparisons";
    const Comparison& w = worst();
    m << (ok() ? "ok" : "FAILED") << ": worst " << w.what << " at element " << w.index << ": expected "
      << w.expected << ", found " << w.found << " (|error| " << w.abs_error << ", relative " << w.rel_error
      << ", allowed " << w.allowed << ")";
    for (const Comparison& c : comparisons)
      if (!c.ok && &c != &w) m << "\n  also " << c.what << " at element " << c.index << ": expected " << c.expected
                               << ", found " << c.found;
    for (const Comparison& c : comparisons)
      if (!c.ok) m << "\n" << c.mismatches;
    return m.str();
  }

  // Appends other's comparisons, their names prefixed ("parameters: …").
  void append(const Report& other, std::string_view prefix = {}) {
    for (Comparison c : other.comparisons) {
      if (!prefix.empty()) c.what = std::string(prefix) + ": " + c.what;
      comparisons.push_back(std::move(c));
    }
  }

 private:
  static double ratio(const Comparison& c) {
    if (std::isnan(c.abs_error)) return INFINITY;
    return c.allowed > 0 ? c.abs_error / c.allowed : (c.abs_error > 0 ? INFINITY : 0);
  }
};

// What require_* throw: the report's message, and the report.
class CheckFailed : public std::runtime_error {
 public:
  explicit CheckFailed(Report report)
      : std::runtime_error("curv::testing: derivative check failed: " + report.message()),
        report_(std::move(report)) {}
  const Report& report() const { return report_; }

 private:
  Report report_;
};

// A tensor of independent standard normals drawn from `seed` (std::mt19937,
// as xtensor's randn): the kit's random directions, and test data.
inline Tensor<double> random_normal(const Shape& shape, std::uint64_t seed) {
  std::mt19937 engine(static_cast<std::mt19937::result_type>(seed));
  return xt::random::randn<double>(shape, 0.0, 1.0, engine);
}

namespace detail {

inline std::string number(double x) {
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

// gradcheck's result (elementwise tolerance) as a Comparison.
inline Comparison from_gradcheck(std::string what, const ad::GradcheckResult& g, const CheckOptions& o) {
  Comparison c;
  c.what = std::move(what);
  if (!g.worst_what.empty()) c.what += " (" + g.worst_what + ")";
  c.ok = g.ok;
  c.index = g.worst_index;
  c.expected = g.worst_reference;
  c.found = g.worst_exact;
  c.abs_error = std::abs(c.found - c.expected);
  const double scale = std::max(std::abs(c.found), std::abs(c.expected));
  c.rel_error = scale > 0 ? c.abs_error / scale : 0;
  c.allowed = o.atol + o.rtol * scale;
  c.mismatches = g.message;
  return c;
}

// found (float32) against expected (float64) on expected's scale.
template <class A>
Comparison compare_on_scale(std::string what, const Tensor<A>& found, const Tensor<double>& expected,
                            const CheckOptions& o) {
  Comparison c;
  c.what = std::move(what);
  if (found.shape() != expected.shape()) {
    c.ok = false;
    c.abs_error = INFINITY;
    c.mismatches = c.what + ": shape " + shape_string(found.shape()) + ", expected " + shape_string(expected.shape());
    return c;
  }
  double scale = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) scale = std::max(scale, std::abs(expected.data()[i]));
  c.allowed = o.float32_rtol * scale + o.float32_atol;
  int shown = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double a = static_cast<double>(found.data()[i]), b = expected.data()[i];
    const double err = std::isnan(a - b) ? INFINITY : std::abs(a - b);
    if (i == 0 || err > c.abs_error) {
      c.index = i;
      c.found = a;
      c.expected = b;
      c.abs_error = err;
      const double s = std::max(std::abs(a), std::abs(b));
      c.rel_error = s > 0 ? err / s : 0;
    }
    if (!(err <= c.allowed)) {
      c.ok = false;
      if (shown++ < 5) c.mismatches += c.what + "[" + std::to_string(i) + "]: float32 " + number(a) + " vs float64 " +
                                       number(b) + "\n";
    }
  }
  return c;
}

template <class T>
Tensor<T> cast(const Tensor<double>& x) {
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  std::transform(x.begin(), x.end(), y.begin(), [](double e) { return static_cast<T>(e); });
  return y;
}

}  // namespace detail

// f64: ad::Var<double> → scalar Var. Its gradient, its JVP along v (against
// finite differences and against ⟨grad, v⟩) and its H·v along v (against
// finite differences of the gradient) at x.
template <class F>
Report check_float64(F&& f, const Tensor<double>& x, const Tensor<double>& v, const CheckOptions& o = {}) {
  ad::GradcheckOptions g;
  g.step = o.step;
  g.rtol = o.rtol;
  g.atol = o.atol;
  Report r;
  r.comparisons.push_back(
      detail::from_gradcheck("gradient: float64 vs central finite differences", ad::check_grad(f, x, g), o));
  r.comparisons.push_back(
      detail::from_gradcheck("JVP: float64 vs central finite differences", ad::check_jvp(f, x, v, g), o));
  r.comparisons.push_back(
      detail::from_gradcheck("H·v: float64 vs central finite differences", ad::check_hvp(f, x, v, g), o));
  return r;
}

// The value, gradient, JVP and H·v of f32 (Var<float>) against those of f64
// (Var<double>, the same function), at x and v rounded to float for both.
template <class F32, class F64>
Report check_float32(F32&& f32, F64&& f64, const Tensor<double>& x, const Tensor<double>& v,
                     const CheckOptions& o = {}) {
  const Tensor<float> x32 = detail::cast<float>(x), v32 = detail::cast<float>(v);
  const Tensor<double> x64 = detail::cast<double>(x32), v64 = detail::cast<double>(v32);
  const ad::Hvp<float> h32 = ad::hvp(f32, x32, v32);
  const ad::Hvp<double> h64 = ad::hvp(f64, x64, v64);
  const ad::Jvp<float> j32 = ad::jvp(f32, x32, v32);
  const ad::Jvp<double> j64 = ad::jvp(f64, x64, v64);
  const ad::ValueAndGrad<float> g32 = ad::value_and_grad(f32, x32);
  Report r;
  r.comparisons.push_back(
      detail::compare_on_scale("value: float32 vs float64", Tensor<float>(h32.value), Tensor<double>(h64.value), o));
  r.comparisons.push_back(detail::compare_on_scale("gradient: float32 vs float64", g32.grad, h64.grad, o));
  r.comparisons.push_back(detail::compare_on_scale("H·v's gradient: float32 vs float64", h32.grad, h64.grad, o));
  r.comparisons.push_back(
      detail::compare_on_scale("JVP: float32 vs float64", Tensor<float>(j32.tangent), Tensor<double>(j64.tangent), o));
  r.comparisons.push_back(detail::compare_on_scale("H·v: float32 vs float64", h32.hv, h64.hv, o));
  return r;
}

// f is a generic callable, e.g. []<class T>(const ad::Var<T>& x) { … }, that
// returns a scalar Var for Var<double> and Var<float>: check_float64 and
// check_float32 along v.
template <class F>
Report check_function(F&& f, const Tensor<double>& x, const Tensor<double>& v, const CheckOptions& o = {}) {
  Report r = check_float64([&](const ad::Var<double>& a) { return f(a); }, x, v, o);
  r.append(check_float32([&](const ad::Var<float>& a) { return f(a); },
                         [&](const ad::Var<double>& a) { return f(a); }, x, v, o));
  return r;
}

// As above along a random direction drawn from o.seed.
template <class F>
Report check_function(F&& f, const Tensor<double>& x, const CheckOptions& o = {}) {
  return check_function(std::forward<F>(f), x, random_normal(Shape(x.shape().begin(), x.shape().end()), o.seed), o);
}

// check_function, throwing CheckFailed (naming the worst element) on failure.
template <class F>
void require_function(F&& f, const Tensor<double>& x, const CheckOptions& o = {}) {
  Report r = check_function(std::forward<F>(f), x, o);
  if (!r.ok()) throw CheckFailed(std::move(r));
}

}  // namespace curv::testing
