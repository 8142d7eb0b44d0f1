// softplus: y = log(1 + e^(βx)) / β, and y = x where βx > threshold (as in
// PyTorch: there the two differ by less than e^(−threshold)/β);
//   y' = σ(βx),  y'' = β σ(βx) (1 − σ(βx));  above the threshold y' = 1, y'' = 0.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

template <class T>
struct SoftplusRule {
  static constexpr std::string_view name = "softplus";
  T beta, threshold;
  bool linear(T x) const { return beta * x > threshold; }
  T sigma(T x) const { return T(1) / (T(1) + std::exp(-beta * x)); }
  T value(T x) const { return linear(x) ? x : std::log1p(std::exp(beta * x)) / beta; }
  T first(T x, T) const { return linear(x) ? T(1) : sigma(x); }
  T second(T x, T) const {
    if (linear(x)) return T(0);
    const T s = sigma(x);
    return beta * s * (T(1) - s);
  }
};

template <class T>
Var<T> softplus(const Var<T>& x, std::type_identity_t<T> beta = T(1), std::type_identity_t<T> threshold = T(20)) {
  if (!(beta > T(0)))
    throw std::invalid_argument("curv::ad::softplus: beta = " + std::to_string(beta) + ", expected beta > 0");
  return detail::elementwise<T>(x, SoftplusRule<T>{beta, threshold});
}

CURV_AD_EXPLICIT(Var<float> softplus(const Var<float>&, float, float));
CURV_AD_EXPLICIT(Var<double> softplus(const Var<double>&, double, double));

}  // namespace curv::ad
