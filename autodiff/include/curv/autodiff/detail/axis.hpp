// Row-major indexing along one axis: a tensor seen as (outer, n, inner), so
// that reductions along `axis` are plain loops with no lazy xtensor reducer.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "curv/autodiff/tensor.hpp"

namespace curv::ad::detail {

struct AxisLayout {
  std::size_t outer = 1;  // product of the dimensions before the axis
  std::size_t n = 1;      // the axis' length
  std::size_t inner = 1;  // product of the dimensions after the axis
  // Flat index of element k along the axis in line (o, i); lines are numbered
  // o * inner + i, which is also the flat index into the reduced tensor.
  std::size_t at(std::size_t o, std::size_t k, std::size_t i) const { return (o * n + k) * inner + i; }
};

// Throws std::invalid_argument naming the op when the axis does not exist.
template <class S>
AxisLayout axis_layout(std::string_view op, const S& shape, std::size_t axis) {
  if (axis >= shape.size())
    throw std::invalid_argument("curv::ad::" + std::string(op) + ": axis " + std::to_string(axis) +
                                " out of range for shape " + shape_string(shape));
  AxisLayout l;
  for (std::size_t d = 0; d < axis; ++d) l.outer *= shape[d];
  l.n = shape[axis];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) l.inner *= shape[d];
  return l;
}

// The shape with `axis` removed.
template <class S>
Shape reduced_shape(const S& shape, std::size_t axis) {
  Shape out;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (d != axis) out.push_back(shape[d]);
  return out;
}

}  // namespace curv::ad::detail
