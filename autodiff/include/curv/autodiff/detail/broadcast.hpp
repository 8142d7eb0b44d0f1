// Numpy broadcasting for binary ops: the result shape, and the reduction of an
// adjoint back to an operand's shape ("unbroadcast").
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xreducer.hpp>
#include <xtensor/xmath.hpp>

#include "curv/autodiff/tensor.hpp"

namespace curv::ad::detail {

// The numpy broadcast of two shapes; throws std::invalid_argument naming the
// op and both shapes when they do not fit.
template <class SA, class SB>
Shape broadcast_shape(std::string_view op, const SA& a, const SB& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("curv::ad::" + std::string(op) + ": shapes " + shape_string(a) +
                                  " and " + shape_string(b) + " do not broadcast");
    out[i] = std::max(da, db);
  }
  return out;
}

// into += t summed over the axes that broadcasting added to or stretched in
// `into`'s shape ("unbroadcast"), in one pass over t with no temporaries.
template <class T>
void add_sum_to_shape(Tensor<T>& into, const Tensor<T>& t) {
  const auto& big = t.shape();
  const auto& small = into.shape();
  const std::size_t n = big.size(), lead = n - small.size();
  T* out = into.data();
  const T* in = t.data();
  // Common case: only leading axes were added (a bias row over a batch).
  if (std::equal(small.begin(), small.end(), big.begin() + lead)) {
    const std::size_t inner = into.size(), outer = inner == 0 ? 0 : t.size() / inner;
    for (std::size_t o = 0; o < outer; ++o, in += inner)
      for (std::size_t j = 0; j < inner; ++j) out[j] += in[j];
    return;
  }
  // General case: walk t in row-major order; each axis of t steps `into` by
  // its own stride, or by 0 where `into` has no such axis or a 1.
  std::vector<std::size_t> step(n, 0), index(n, 0);
  std::size_t stride = 1;
  for (std::size_t d = n; d-- > lead;) {
    const std::size_t s = small[d - lead];
    step[d] = s == 1 ? 0 : stride;
    stride *= s;
  }
  std::size_t at = 0;
  for (std::size_t i = 0, size = t.size(); i < size; ++i) {
    out[at] += in[i];
    for (std::size_t d = n; d-- > 0;) {  // odometer
      if (++index[d] < big[d]) {
        at += step[d];
        break;
      }
      at -= step[d] * (big[d] - 1);
      index[d] = 0;
    }
  }
}

// t summed over the axes that broadcasting added or stretched, giving `shape`.
template <class T, class S>
Tensor<T> sum_to_shape(Tensor<T> t, const S& shape) {
  if (std::equal(t.shape().begin(), t.shape().end(), shape.begin(), shape.end())) return t;
  Tensor<T> out = xt::zeros<T>(Shape(shape.begin(), shape.end()));
  add_sum_to_shape(out, t);
  return out;
}

}  // namespace curv::ad::detail
