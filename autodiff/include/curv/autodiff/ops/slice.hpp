// slice: y = x[begin:end] of a 1-D x.
//   ẏ = ẋ[begin:end];  x̄[begin:end] += ȳ;  linear, so x̄̇[begin:end] += ȳ̇.
// The adjoint lands in place in the input's adjoint: slicing a model's flat
// parameter vector into its layers' weights costs no full-length temporaries.
#pragma once

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

template <class T>
Tensor<T> copy_range(const Tensor<T>& x, std::size_t begin, std::size_t end) {
  Tensor<T> y = Tensor<T>::from_shape({end - begin});
  std::copy(x.data() + begin, x.data() + end, y.data());
  return y;
}

template <class T>
void add_into_range(Tensor<T>& into, std::size_t begin, const Tensor<T>& from) {
  T* out = into.data() + begin;
  const T* in = from.data();
  for (std::size_t i = 0, n = from.size(); i < n; ++i) out[i] += in[i];
}

}  // namespace detail

template <class T>
class SliceOp final : public Op<T> {
 public:
  SliceOp(std::size_t begin, std::size_t end) : begin_(begin), end_(end) {}

  std::string_view name() const override { return "slice"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    return detail::copy_range(c.input_tangent(0), begin_, end_);
  }

  void adjoint(OpContext<T>& c) const override {
    detail::add_into_range(c.input_adjoint(0), begin_, c.adjoint());
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) detail::add_into_range(c.input_adjoint_tangent(0), begin_, c.adjoint_tangent());
  }

 private:
  std::size_t begin_, end_;
};

template <class T>
Var<T> slice(const Var<T>& x, std::size_t begin, std::size_t end) {
  if (x.dimension() != 1 || begin > end || end > x.size())
    throw std::invalid_argument("curv::ad::slice: range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") does not fit shape " +
                                shape_string(x.shape()) + " (expected a 1-D Var and begin <= end <= size)");
  return x.tape().record(std::make_unique<SliceOp<T>>(begin, end), {x},
                         detail::copy_range(x.value(), begin, end));
}

extern template Var<float> slice(const Var<float>&, std::size_t, std::size_t);
extern template Var<double> slice(const Var<double>&, std::size_t, std::size_t);

}  // namespace curv::ad
