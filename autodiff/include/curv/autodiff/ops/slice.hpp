// slice: y = x[begin:end] of a 1-D x, a view (view.hpp): no copy, and the
// adjoint lands in x's over [begin, end).
#pragma once

#include <stdexcept>
#include <string>

#include "curv/autodiff/ops/view.hpp"

namespace curv::ad {

template <class T>
Var<T> slice(const Var<T>& x, std::size_t begin, std::size_t end) {
  if (x.dimension() != 1 || begin > end || end > x.size())
    throw std::invalid_argument("curv::ad::slice: range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") does not fit shape " +
                                shape_string(x.shape()) + " (expected a 1-D Var and begin <= end <= size)");
  return view(x, begin, {end - begin});
}

CURV_AD_EXPLICIT(Var<float> slice(const Var<float>&, std::size_t, std::size_t));
CURV_AD_EXPLICIT(Var<double> slice(const Var<double>&, std::size_t, std::size_t));

}  // namespace curv::ad
