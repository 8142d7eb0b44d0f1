// curv::nn::Module: a model or layer as a function of one flat parameter
// vector w and an input batch.
//
// A module never owns autodiff state: forward() reads its weights as slices of
// the Var w, so the gradient and H·v of any loss land in one vector of w's
// layout, and one module may run on many tapes (threads) at once.
#pragma once

#include <cstddef>

#include "curv/autodiff.hpp"

namespace curv::nn {

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  // Length of the flat parameter vector this module reads.
  virtual std::size_t num_parameters() const = 0;

  // The output for `input` (batch first) with parameters w, a 1-D Var of
  // length num_parameters() on the input's tape.
  virtual ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const = 0;
};

}  // namespace curv::nn
