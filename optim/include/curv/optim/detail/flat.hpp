// Arithmetic on flat parameter vectors for the optimizers: plain loops in a
// fixed order, so that results are deterministic and reductions are in double.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/autodiff/tensor.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim::detail {

template <class T>
double dot(const Tensor<T>& a, const Tensor<T>& b) {
  const T* x = a.data();
  const T* y = b.data();
  double s = 0;
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return s;
}

template <class T>
double norm(const Tensor<T>& a) {
  return std::sqrt(dot(a, a));
}

template <class T>
double mean(const Tensor<T>& a) {
  if (a.size() == 0) return 0;
  const T* x = a.data();
  double s = 0;
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += static_cast<double>(x[i]);
  return s / static_cast<double>(a.size());
}

template <class T>
bool all_finite(const Tensor<T>& a) {
  const T* x = a.data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

// out = x + a·p (out takes x's shape).
template <class T>
void add_scaled(Tensor<T>& out, const Tensor<T>& x, double a, const Tensor<T>& p) {
  if (out.shape() != x.shape()) out.resize(x.shape());
  const T s = static_cast<T>(a);
  const T* xi = x.data();
  const T* pi = p.data();
  T* o = out.data();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) o[i] = xi[i] + s * pi[i];
}

// y += a·x.
template <class T>
void axpy(Tensor<T>& y, double a, const Tensor<T>& x) {
  const T s = static_cast<T>(a);
  const T* xi = x.data();
  T* yi = y.data();
  for (std::size_t i = 0, n = y.size(); i < n; ++i) yi[i] += s * xi[i];
}

// y = a·y (in place).
template <class T>
void scale(Tensor<T>& y, double a) {
  const T s = static_cast<T>(a);
  T* yi = y.data();
  for (std::size_t i = 0, n = y.size(); i < n; ++i) yi[i] *= s;
}

// out = −x.
template <class T>
void negate(Tensor<T>& out, const Tensor<T>& x) {
  if (out.shape() != x.shape()) out.resize(x.shape());
  const T* xi = x.data();
  T* o = out.data();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) o[i] = -xi[i];
}

template <class T>
void check_start(std::string_view who, std::size_t dim, const Tensor<T>& x0) {
  if (x0.size() != dim)
    throw std::invalid_argument("curv::optim::" + std::string(who) + ": x0 has " + std::to_string(x0.size()) +
                                " elements " + shape_string(x0.shape()) + ", expected obj.dim() = " +
                                std::to_string(dim));
  if (!all_finite(x0))
    throw std::invalid_argument("curv::optim::" + std::string(who) + ": x0 has a non-finite element");
}

// Calls every callback (none is skipped) and says whether any asked to stop.
inline bool run_callbacks(const std::vector<Callback>& callbacks, const IterationInfo& info) {
  bool stop = false;
  for (const Callback& c : callbacks)
    if (c && c(info)) stop = true;
  return stop;
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// |a − b| ≤ tol · max(|a|, |b|), the relative-change test shared by the
// full-dataset optimizers; off when tol = 0.
inline bool relative_change_below(double before, double after, double tol) {
  if (tol <= 0) return false;
  return std::abs(before - after) <= tol * std::max(std::abs(before), std::abs(after));
}

}  // namespace curv::optim::detail
