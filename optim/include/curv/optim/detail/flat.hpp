// Arithmetic on flat parameter vectors for the optimizers: plain loops in a
// fixed order, so that results are deterministic and reductions are in double.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "curv/autodiff/tensor.hpp"
#include "curv/optim/reductions.hpp"
#include "curv/optim/result.hpp"

namespace curv::optim::detail {

using curv::optim::dot;
using curv::optim::first_non_finite;
using curv::optim::norm;

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
  return first_non_finite(a) == NonFiniteError::npos;
}

// Throws NonFiniteError (where, with the quantity's name, index and value)
// unless every element of x is finite.
template <class T>
void require_finite(const Tensor<T>& x, std::string quantity, NonFiniteError::Where where) {
  const std::size_t i = first_non_finite(x);
  if (i == NonFiniteError::npos) return;
  where.quantity = std::move(quantity);
  where.index = i;
  where.value = static_cast<double>(x.data()[i]);
  throw NonFiniteError(std::move(where));
}

inline void require_finite(double v, std::string quantity, NonFiniteError::Where where) {
  if (std::isfinite(v)) return;
  where.quantity = std::move(quantity);
  where.value = v;
  throw NonFiniteError(std::move(where));
}

// A state handed to resume() (e.g. read back from a checkpoint) is checked
// before it is used: std::invalid_argument "curv::optim::<who>: state.<name> …"
// naming the field, the element and the value.
template <class T>
void check_state_tensor(std::string_view who, std::string_view name, const Tensor<T>& t, std::size_t dim,
                        bool may_be_empty = false, bool non_negative = false) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("curv::optim::" + std::string(who) + ": state." + std::string(name) + what);
  };
  if (may_be_empty && (t.dimension() == 0 || t.size() == 0)) return;  // a buffer not created yet (a default, 0-d tensor)
  if (t.size() != dim)
    fail(" has " + std::to_string(t.size()) + " elements, expected " + std::to_string(dim));
  const T* x = t.data();
  for (std::size_t i = 0; i < dim; ++i)
    if (!std::isfinite(x[i]) || (non_negative && x[i] < 0)) {
      std::ostringstream s;
      s << "[" << i << "] = " << static_cast<double>(x[i]) << ", expected a finite value"
        << (non_negative ? " >= 0" : "");
      fail(s.str());
    }
}

inline void check_state_scalar(std::string_view who, std::string_view name, double v, double lo, double hi) {
  if (std::isfinite(v) && v >= lo && v <= hi) return;
  std::ostringstream s;
  s << "curv::optim::" << who << ": state." << name << " = " << v << ", expected a finite value in [" << lo << ", "
    << hi << "]";
  throw std::invalid_argument(s.str());
}

// Every scalar field of the states that only has to be finite.
inline constexpr double any_finite = std::numeric_limits<double>::max();

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
void check_finite_start(std::string_view who, const Tensor<T>& x0) {
  const std::size_t i = first_non_finite(x0);
  if (i != NonFiniteError::npos) {
    std::ostringstream s;
    s << "curv::optim::" << who << ": x0[" << i << "] = " << static_cast<double>(x0.data()[i])
      << ", expected finite starting values";
    throw std::invalid_argument(s.str());
  }
}

template <class T>
void check_start(std::string_view who, std::size_t dim, const Tensor<T>& x0) {
  if (x0.size() != dim)
    throw std::invalid_argument("curv::optim::" + std::string(who) + ": x0 has " + std::to_string(x0.size()) +
                                " elements " + shape_string(x0.shape()) + ", expected obj.dim() = " +
                                std::to_string(dim));
  check_finite_start(who, x0);
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
