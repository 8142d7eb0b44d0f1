// curv::ad's elementwise Rule (f, f′, f″) and the loops that apply it to
// arrays: what ad's elementwise ops (ops/tanh.hpp, …) and fused kernels
// elsewhere (nn's conv2d_max_pool2d) both run, so that each function's
// calculus is written once, in its Rule.
//
// A Rule is a struct of scalar functions of T = float or double:
//   name                          static constexpr std::string_view
//   value(x)                      y = f(x)
//   first(x, y)                   f′(x)   (y = f(x) is passed for reuse)
//   second(x, y)                  f″(x)
// and, optionally,
//   piecewise_linear = true       f″ = 0 almost everywhere: no `second` (relu)
//   from_output = true            f′ and f″ read y only: x may be passed as
//                                 anything (the loops below pass 0) or null
//   first_dy(y)                   with from_output, d f′/dy: along a tangent
//                                 ẏ = f′ ẋ, f″ ẋ = first_dy(y) ẏ (see
//                                 rule_output_curvature); required unless
//                                 piecewise linear
// Its functions may be static or, for a rule with a parameter (pow's
// exponent), const members; the loops call them through an instance.
#pragma once

#include <cstddef>

#include "curv/autodiff/parallel.hpp"

namespace curv::ad {

template <class Rule>
inline constexpr bool piecewise_linear_rule = requires { requires Rule::piecewise_linear; };

template <class Rule>
inline constexpr bool from_output_rule = requires { requires Rule::from_output; };

namespace detail {

// The loops over one contiguous chunk, inlined into their caller (so that a
// caller compiled for a wider vector unit runs them on it).
template <class Rule, class T>
[[gnu::always_inline]] inline T rule_first(const Rule& r, const T* x, T y, std::size_t i) {
  if constexpr (from_output_rule<Rule>)
    return r.first(T(0), y);
  else
    return r.first(x[i], y);
}

template <class Rule, class T>
[[gnu::always_inline]] inline void values_loop(const Rule& r, const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = r.value(x[i]);
}

template <class Rule, class T>
[[gnu::always_inline]] inline void scale_loop(const Rule& r, const T* x, const T* y, const T* d, T* out,
                                              std::size_t n, bool accumulate) {
  if (accumulate)
    for (std::size_t i = 0; i < n; ++i) out[i] += rule_first(r, x, y[i], i) * d[i];
  else
    for (std::size_t i = 0; i < n; ++i) out[i] = rule_first(r, x, y[i], i) * d[i];
}

template <class Rule, class T>
[[gnu::always_inline]] inline void curvature_loop(const Rule& r, const T* x, const T* y, const T* xdot,
                                                  const T* ybar, T* out, std::size_t n) {
  if constexpr (!piecewise_linear_rule<Rule>) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (from_output_rule<Rule>)
        out[i] += r.second(T(0), y[i]) * xdot[i] * ybar[i];
      else
        out[i] += r.second(x[i], y[i]) * xdot[i] * ybar[i];
    }
  }
}

template <class Rule, class T>
[[gnu::always_inline]] inline void output_curvature_loop(const Rule& r, const T* y, const T* ydot, const T* ybar,
                                                         T* out, std::size_t n) {
  if constexpr (!piecewise_linear_rule<Rule>)
    for (std::size_t i = 0; i < n; ++i) out[i] += r.first_dy(y[i]) * ydot[i] * ybar[i];
}

// Elements per parallel chunk (curv::for_each_chunk); smaller arrays run on
// the calling thread.
inline constexpr std::size_t rule_chunk = std::size_t{1} << 15;

}  // namespace detail

// Where a Rule's loops over one chunk are compiled: here, inline, unless the
// rule's header specializes RuleLoops to declare them compiled in a source
// file of its own, with the flags its loops need to vectorize (tanh).
template <class Rule, class T>
struct RuleLoops {
  static void values(const Rule& r, const T* x, T* y, std::size_t n) { detail::values_loop(r, x, y, n); }
  static void scale(const Rule& r, const T* x, const T* y, const T* d, T* out, std::size_t n, bool accumulate) {
    detail::scale_loop(r, x, y, d, out, n, accumulate);
  }
  static void curvature(const Rule& r, const T* x, const T* y, const T* xdot, const T* ybar, T* out,
                        std::size_t n) {
    detail::curvature_loop(r, x, y, xdot, ybar, out, n);
  }
  static void output_curvature(const Rule& r, const T* y, const T* ydot, const T* ybar, T* out, std::size_t n) {
    detail::output_curvature_loop(r, y, ydot, ybar, out, n);
  }
};

// The array kernels. Each spreads its n elements over TBB's threads in fixed
// chunks (curv::for_each_chunk): every element is computed alone, so the
// results do not depend on the number of threads. x may be null for a
// from_output rule; out may alias d (or y alias x): each element is read
// before it is written.

// y[i] = f(x[i]).
template <class Rule, class T>
void rule_values(const T* x, T* y, std::size_t n, const Rule& rule = {}) {
  for_each_chunk(n, detail::rule_chunk,
                 [&](std::size_t a, std::size_t b) { RuleLoops<Rule, T>::values(rule, x + a, y + a, b - a); });
}

// out[i] = f′(x[i]) d[i], or out[i] += … when accumulate.
template <class Rule, class T>
void rule_scale(const T* x, const T* y, const T* d, T* out, std::size_t n, bool accumulate, const Rule& rule = {}) {
  for_each_chunk(n, detail::rule_chunk, [&](std::size_t a, std::size_t b) {
    RuleLoops<Rule, T>::scale(rule, x ? x + a : nullptr, y + a, d + a, out + a, b - a, accumulate);
  });
}

// out[i] += f″(x[i]) ẋ[i] ȳ[i]: the curvature term of x̄̇. Nothing for a
// piecewise-linear rule.
template <class Rule, class T>
void rule_curvature(const T* x, const T* y, const T* xdot, const T* ybar, T* out, std::size_t n,
                    const Rule& rule = {}) {
  if constexpr (!piecewise_linear_rule<Rule>)
    for_each_chunk(n, detail::rule_chunk, [&](std::size_t a, std::size_t b) {
      RuleLoops<Rule, T>::curvature(rule, x ? x + a : nullptr, y + a, xdot + a, ybar + a, out + a, b - a);
    });
}

// out[i] += (d f′/dy)(y[i]) ẏ[i] ȳ[i]: the same term for an op that keeps y
// and ẏ = f′ ẋ but not ẋ (a fused kernel whose f is applied to a quantity it
// does not store), for from_output rules.
template <class Rule, class T>
void rule_output_curvature(const T* y, const T* ydot, const T* ybar, T* out, std::size_t n, const Rule& rule = {}) {
  static_assert(from_output_rule<Rule>, "rule_output_curvature: the Rule's f′ must read y only (from_output)");
  if constexpr (!piecewise_linear_rule<Rule>)
    for_each_chunk(n, detail::rule_chunk, [&](std::size_t a, std::size_t b) {
      RuleLoops<Rule, T>::output_curvature(rule, y + a, ydot + a, ybar + a, out + a, b - a);
    });
}

}  // namespace curv::ad
