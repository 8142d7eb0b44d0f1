// The op behind gather and N-d slice: y[k] = x[source[k]] for offsets into
// x's row-major storage computed once when recorded. Linear in x:
//   ẏ[k] = ẋ[source[k]];  x̄[source[k]] += ȳ[k];  x̄̇[source[k]] += ȳ̇[k]
// (+=, so an element taken twice receives both contributions).
#pragma once

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "curv/autodiff/tape.hpp"

namespace curv::ad::detail {

template <class T>
class TakeOp final : public Op<T> {
 public:
  TakeOp(std::string_view name, std::vector<std::size_t> source) : name_(name), source_(std::move(source)) {}

  std::string_view name() const override { return name_; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    take(c.input_tangent(0).data(), t.data());
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    if (c.needs_adjoint(0)) put(c.adjoint().data(), c.input_adjoint(0).data());
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (c.has_adjoint_tangent() && c.needs_adjoint(0))
      put(c.adjoint_tangent().data(), c.input_adjoint_tangent(0).data());
  }

  void take(const T* x, T* y) const {
    for (std::size_t k = 0; k < source_.size(); ++k) y[k] = x[source_[k]];
  }

 private:
  void put(const T* y, T* x) const {
    for (std::size_t k = 0; k < source_.size(); ++k) x[source_[k]] += y[k];
  }

  std::string_view name_;  // a literal: "gather", "slice"
  std::vector<std::size_t> source_;
};

// Records y = x[source] with y's shape.
template <class T>
Var<T> take(std::string_view name, const Var<T>& x, std::vector<std::size_t> source, const Shape& shape) {
  auto op = std::make_unique<TakeOp<T>>(name, std::move(source));
  Tensor<T> y = Tensor<T>::from_shape(shape);
  op->take(x.value().data(), y.data());
  return x.tape().record(std::move(op), {x}, std::move(y));
}

// Row-major strides of `shape`.
inline std::vector<std::size_t> row_major_strides(const Shape& shape) {
  std::vector<std::size_t> s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

}  // namespace curv::ad::detail
