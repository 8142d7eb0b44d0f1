// The zoo of analytic test functions with known minima that every curv
// optimizer is tested on (tests/optim/*): one definition, all optimizers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include <xtensor/xrandom.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "curv/autodiff.hpp"
#include "curv/optim.hpp"

namespace curv::optim::test {

using curv::Tensor;
using curv::ad::Var;
using Function = std::function<Var<double>(const Var<double>&)>;

// What f throws (its what()), or "no exception": for tests of refusals' messages.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no exception";
}

struct Problem {
  std::string name;
  Function f;
  Tensor<double> x0;
  std::vector<Tensor<double>> minima;  // every global (or sought) minimizer
  double f_min = 0;
};

// |w|² on R², reporting the gradient with the wrong sign (−2w): every line
// search along −g goes uphill and must fail cleanly.
struct WrongGradient {
  std::size_t dim() const { return 2; }
  double value(const Tensor<double>& w) { return w(0) * w(0) + w(1) * w(1); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    g = -2.0 * w;
    return value(w);
  }
};

inline Var<double> component(const Var<double>& x, std::size_t i) { return curv::ad::slice(x, i, i + 1); }

// Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², minimum 0 at (1, …, 1).
inline Var<double> rosenbrock(const Var<double>& x) {
  const std::size_t n = x.size();
  const Var<double> head = curv::ad::slice(x, 0, n - 1);
  const Var<double> tail = curv::ad::slice(x, 1, n);
  const Var<double> a = tail - head * head;
  const Var<double> b = 1.0 - head;
  return curv::ad::sum(100.0 * (a * a) + b * b);
}

// (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum 0 at (3, 0.5).
inline Var<double> beale(const Var<double>& v) {
  const Var<double> x = component(v, 0), y = component(v, 1);
  const Var<double> a = 1.5 - x + x * y;
  const Var<double> b = 2.25 - x + x * y * y;
  const Var<double> c = 2.625 - x + x * y * y * y;
  return curv::ad::sum(a * a + b * b + c * c);
}

// (x + 2y − 7)² + (2x + y − 5)², minimum 0 at (1, 3).
inline Var<double> booth(const Var<double>& v) {
  const Var<double> x = component(v, 0), y = component(v, 1);
  const Var<double> a = x + 2.0 * y - 7.0;
  const Var<double> b = 2.0 * x + y - 5.0;
  return curv::ad::sum(a * a + b * b);
}

// (x² + y − 11)² + (x + y² − 7)²: four minima of value 0.
inline Var<double> himmelblau(const Var<double>& v) {
  const Var<double> x = component(v, 0), y = component(v, 1);
  const Var<double> a = x * x + y - 11.0;
  const Var<double> b = x + y * y - 7.0;
  return curv::ad::sum(a * a + b * b);
}

// Σᵢ i·xᵢ² (i = 1…n), minimum 0 at the origin.
inline Problem sum_of_squares(std::size_t n) {
  Tensor<double> weights = xt::arange<double>(1.0, static_cast<double>(n) + 1.0);  // 1, 2, …, n
  Problem p;
  p.name = "sum_of_squares_" + std::to_string(n);
  p.f = [weights](const Var<double>& x) { return curv::ad::sum(weights * (x * x)); };
  p.x0 = xt::ones<double>({n});
  p.minima = {Tensor<double>(xt::zeros<double>({n}))};
  return p;
}

// A random, well-conditioned SPD matrix: A = MᵀM/n + I, eigenvalues in about [1, 5].
inline Tensor<double> random_spd(std::size_t n, unsigned seed) {
  xt::random::seed(seed);
  const Tensor<double> m = xt::random::randn<double>({n, n});
  Tensor<double> a = xt::linalg::dot(xt::transpose(m), m) / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) a(i, i) += 1.0;
  return a;
}

// ½xᵀAx − bᵀx with A = random_spd(n): minimum at A⁻¹b.
inline Problem quadratic(std::size_t n, unsigned seed) {
  const Tensor<double> a = random_spd(n, seed);
  xt::random::seed(seed + 1000);
  const Tensor<double> b = xt::random::randn<double>({n});
  Problem p;
  p.name = "quadratic_" + std::to_string(n);
  p.f = [a, b](const Var<double>& x) {
    return 0.5 * curv::ad::sum(x * curv::ad::matmul(a, x)) - curv::ad::sum(x * b);
  };
  p.x0 = xt::zeros<double>({n});
  const Tensor<double> x_star = xt::linalg::solve(a, b);
  p.minima = {x_star};
  double bx = 0;
  for (std::size_t i = 0; i < n; ++i) bx += b(i) * x_star(i);
  p.f_min = -0.5 * bx;
  return p;
}

inline std::vector<Problem> zoo() {
  std::vector<Problem> z;
  z.push_back({"rosenbrock_2", rosenbrock, Tensor<double>{-1.2, 1.0}, {Tensor<double>{1.0, 1.0}}, 0});
  z.push_back({"rosenbrock_10", rosenbrock, Tensor<double>(xt::zeros<double>({10})),
               {Tensor<double>(xt::ones<double>({10}))}, 0});
  z.push_back({"beale", beale, Tensor<double>{1.0, 1.0}, {Tensor<double>{3.0, 0.5}}, 0});
  z.push_back({"booth", booth, Tensor<double>{0.0, 0.0}, {Tensor<double>{1.0, 3.0}}, 0});
  z.push_back({"himmelblau", himmelblau, Tensor<double>{1.0, 1.0},
               {Tensor<double>{3.0, 2.0}, Tensor<double>{-2.805118086952745, 3.131312518250573},
                Tensor<double>{-3.779310253377747, -3.283185991286170},
                Tensor<double>{3.584428340330492, -1.848126526964404}},
               0});
  z.push_back(sum_of_squares(10));
  z.push_back(quadratic(20, 7));
  return z;
}

// Max-norm distance from x to the nearest of the minima.
inline double distance_to_minimum(const Tensor<double>& x, const std::vector<Tensor<double>>& minima) {
  double best = INFINITY;
  for (const Tensor<double>& m : minima) {
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(x.data()[i] - m.data()[i]));
    best = std::min(best, d);
  }
  return best;
}

}  // namespace curv::optim::test
