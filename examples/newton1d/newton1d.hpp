// The article's figure 1: one Newton step on f(x) = x² + e^(−5(x−0.5)²).
//
// At x₀ the second-order Taylor model q(x) = f(x₀) + f′(x₀)(x − x₀) +
// ½ f″(x₀)(x − x₀)² is the parabola that touches f; its minimum
// x₁ = x₀ − f′(x₀)/f″(x₀) is the Newton step. f′ comes from value_and_grad and
// f″ from hvp with v = 1 (forward-over-reverse): exact, no finite differences.
#pragma once

#include <curv/autodiff.hpp>

namespace curv::examples {

template <class T>
ad::Var<T> newton1d_f(const ad::Var<T>& x) {
  const ad::Var<T> d = x - T(0.5);
  return ad::sum(x * x + ad::exp(T(-5) * d * d));
}

struct NewtonStep {
  double x0, f0, df, d2f;  // the point, f, f′, f″ there
  double x1, f1;           // the Newton step's point and f there
  double parabola(double x) const { return f0 + df * (x - x0) + 0.5 * d2f * (x - x0) * (x - x0); }
};

inline double newton1d_value(double x) {
  return ad::value_and_grad(newton1d_f<double>, Tensor<double>{x}).value;
}

inline NewtonStep newton1d_step(double x0) {
  const Tensor<double> x{x0}, one{1.0};
  const ad::Hvp<double> h = ad::hvp(newton1d_f<double>, x, one);
  NewtonStep s{};
  s.x0 = x0;
  s.f0 = h.value;
  s.df = h.grad(0);
  s.d2f = h.hv(0);
  s.x1 = x0 - s.df / s.d2f;
  s.f1 = newton1d_value(s.x1);
  return s;
}

}  // namespace curv::examples
