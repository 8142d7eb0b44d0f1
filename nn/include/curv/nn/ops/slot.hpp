// curv::nn::ops::Slot: where a layer op reads one of its parameters — a Var of
// its own, or a range of the model's flat parameter vector read in place.
//
// Reading weights in place is what keeps one minibatch's tape free of
// parameter-sized copies: the op's adjoint accumulates straight into the flat
// vector's adjoint (and tangent, adjoint tangent) at the same offset.
#pragma once

#include <cstddef>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

struct Slot {
  std::size_t input = 0;   // which of the op's inputs holds the parameter
  std::size_t offset = 0;  // its first element in that input

  template <class T>
  const T* value(const ad::Var<T>& v) const {
    return v.value().data() + offset;
  }
  template <class T>
  const T* value(const ad::OpContext<T>& c) const {
    return c.input(input).data() + offset;
  }
  template <class T>
  const T* tangent(const ad::OpContext<T>& c) const {
    return c.input_tangent(input).data() + offset;
  }
  template <class T>
  T* adjoint(ad::OpContext<T>& c) const {
    return c.input_adjoint(input).data() + offset;
  }
  template <class T>
  T* adjoint_tangent(ad::OpContext<T>& c) const {
    return c.input_adjoint_tangent(input).data() + offset;
  }
};

namespace detail {

// Throws unless flat is a 1-D Var holding [offset, offset + count).
template <class T>
void check_flat_range(std::string_view op, const ad::Var<T>& flat, std::size_t offset, std::size_t count,
                      std::string_view what) {
  if (flat.dimension() != 1 || offset + count > flat.size())
    throw std::invalid_argument("curv::nn::ops::" + std::string(op) + ": " + std::string(what) + " needs elements [" +
                                std::to_string(offset) + ", " + std::to_string(offset + count) +
                                ") of the flat parameter vector, which has shape " + shape_string(flat.shape()));
}

}  // namespace detail

}  // namespace curv::nn::ops
