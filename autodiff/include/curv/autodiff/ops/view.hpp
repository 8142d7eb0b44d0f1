// view: y = x's elements [offset, offset + |shape|) in row-major order, as a
// tensor of `shape`, read in place (Tape::view).
//   ẏ = the same range of ẋ;  x̄[range] += ȳ;  linear, so x̄̇[range] += ȳ̇.
// Ops that read their inputs in place (OpContext::input_data and
// input_adjoint_data) neither copy the range nor its adjoint: a layer's
// weights viewed out of the flat parameter vector w put their gradient
// straight into w's. slice and reshape are views.
#pragma once

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

template <class T>
Var<T> view(const Var<T>& x, std::size_t offset, Shape shape) {
  if (!x.valid()) throw std::invalid_argument("curv::ad::view: x is an empty Var, expected a node of a tape");
  return x.tape().view(x, offset, std::move(shape));
}

CURV_AD_EXPLICIT(Var<float> view(const Var<float>&, std::size_t, Shape));
CURV_AD_EXPLICIT(Var<double> view(const Var<double>&, std::size_t, Shape));

}  // namespace curv::ad
