// Numpy broadcasting for binary ops: the result shape, and the reduction of an
// adjoint back to an operand's shape ("unbroadcast").
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

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

// Sums t over the axes that broadcasting added or stretched, giving `shape`.
template <class T, class S>
Tensor<T> sum_to_shape(Tensor<T> t, const S& shape) {
  if (std::equal(t.shape().begin(), t.shape().end(), shape.begin(), shape.end())) return t;
  const std::size_t lead = t.dimension() - shape.size();
  if (lead > 0) {
    std::vector<std::size_t> axes(lead);
    for (std::size_t i = 0; i < lead; ++i) axes[i] = i;
    t = xt::sum(t, axes);
  }
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1 && t.shape(i) != 1)
      t = xt::sum(t, {i}, xt::keep_dims);
  }
  t.reshape(Shape(shape.begin(), shape.end()));
  return t;
}

}  // namespace curv::ad::detail
