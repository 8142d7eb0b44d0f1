// reshape: y = x read with another shape of the same size (row-major
// order), a view (view.hpp): no copy, and the adjoint lands in x's.
#pragma once

#include <stdexcept>
#include <string>

#include "curv/autodiff/ops/view.hpp"

namespace curv::ad {

template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  std::size_t size = 1;
  for (std::size_t d : shape) size *= d;
  if (size != x.size())
    throw std::invalid_argument("curv::ad::reshape: cannot reshape " + shape_string(x.shape()) +
                                " (" + std::to_string(x.size()) + " elements) to " +
                                shape_string(shape) + " (" + std::to_string(size) + " elements)");
  return view(x, 0, shape);
}

CURV_AD_EXPLICIT(Var<float> reshape(const Var<float>&, const Shape&));
CURV_AD_EXPLICIT(Var<double> reshape(const Var<double>&, const Shape&));

}  // namespace curv::ad
