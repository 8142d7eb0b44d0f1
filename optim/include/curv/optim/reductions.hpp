// The reductions curv's optimizers decide with, public so that programs and
// users' own optimizers see exactly what the built-in ones see: plain loops in
// a fixed order (deterministic), accumulated in double whatever the element
// type.
#pragma once

#include <cmath>
#include <cstddef>

#include "curv/autodiff/tensor.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim {

// aᵀb, accumulated in double in index order; a and b have the same size.
template <class T>
double dot(const Tensor<T>& a, const Tensor<T>& b) {
  const T* x = a.data();
  const T* y = b.data();
  double s = 0;
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return s;
}

// √(aᵀa) as dot computes it: an exactly zero gradient is norm(g) == 0.
template <class T>
double norm(const Tensor<T>& a) {
  return std::sqrt(dot(a, a));
}

// The index of a's first NaN or ±inf, or NonFiniteError::npos.
template <class T>
std::size_t first_non_finite(const Tensor<T>& a) {
  const T* x = a.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return NonFiniteError::npos;
}

}  // namespace curv::optim
