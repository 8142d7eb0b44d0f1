// concat: y = [x₀, x₁, …] joined along `axis`; the other dimensions must agree.
//   ẏ = [ẋ₀, ẋ₁, …];  x̄ᵢ += ȳ's block of xᵢ;  linear, so x̄̇ᵢ += ȳ̇'s block of xᵢ.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff/tape.hpp"

namespace curv::ad {

namespace detail {

// Row-major layout of a concatenation: for each of `outer` rows, input i
// contributes a contiguous run of chunk[i] elements starting at offset[i].
struct ConcatLayout {
  std::size_t outer = 1;
  std::size_t row = 0;  // Σ chunk
  std::vector<std::size_t> chunk, offset;
};

template <class T>
void copy_block(const ConcatLayout& l, std::size_t i, const T* from, T* to) {
  for (std::size_t o = 0; o < l.outer; ++o)
    std::copy(from + o * l.chunk[i], from + (o + 1) * l.chunk[i], to + o * l.row + l.offset[i]);
}

template <class T>
void add_block(const ConcatLayout& l, std::size_t i, const T* from, T* to) {
  for (std::size_t o = 0; o < l.outer; ++o) {
    const T* in = from + o * l.row + l.offset[i];
    T* out = to + o * l.chunk[i];
    for (std::size_t k = 0; k < l.chunk[i]; ++k) out[k] += in[k];
  }
}

}  // namespace detail

template <class T>
class ConcatOp final : public Op<T> {
 public:
  explicit ConcatOp(detail::ConcatLayout layout) : layout_(std::move(layout)) {}

  std::string_view name() const override { return "concat"; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    Tensor<T> t = xt::zeros<T>(c.output().shape());
    for (std::size_t i = 0; i < c.arity(); ++i)
      if (c.has_tangent(i)) detail::copy_block(layout_, i, c.input_tangent(i).data(), t.data());
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    for (std::size_t i = 0; i < c.arity(); ++i)
      if (c.needs_adjoint(i)) detail::add_block(layout_, i, c.adjoint().data(), c.input_adjoint(i).data());
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    if (!c.has_adjoint_tangent()) return;
    for (std::size_t i = 0; i < c.arity(); ++i)
      if (c.needs_adjoint(i))
        detail::add_block(layout_, i, c.adjoint_tangent().data(), c.input_adjoint_tangent(i).data());
  }

 private:
  detail::ConcatLayout layout_;
};

template <class T>
Var<T> concat(const std::vector<Var<T>>& xs, std::size_t axis) {
  if (xs.empty()) throw std::invalid_argument("curv::ad::concat: no operands");
  const auto& first = xs.front().shape();
  if (axis >= first.size())
    throw std::invalid_argument("curv::ad::concat: axis " + std::to_string(axis) +
                                " out of range for shape " + shape_string(first));
  detail::ConcatLayout l;
  for (std::size_t d = 0; d < axis; ++d) l.outer *= first[d];
  std::size_t inner = 1;
  for (std::size_t d = axis + 1; d < first.size(); ++d) inner *= first[d];
  Shape shape(first.begin(), first.end());
  shape[axis] = 0;
  for (const Var<T>& x : xs) {
    const auto& s = x.shape();
    bool fits = s.size() == first.size();
    for (std::size_t d = 0; fits && d < s.size(); ++d) fits = d == axis || s[d] == first[d];
    if (!fits)
      throw std::invalid_argument("curv::ad::concat: shapes " + shape_string(first) + " and " +
                                  shape_string(s) + " differ outside axis " + std::to_string(axis));
    l.offset.push_back(l.row);
    l.chunk.push_back(s[axis] * inner);
    l.row += s[axis] * inner;
    shape[axis] += s[axis];
  }
  Tensor<T> y = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < xs.size(); ++i) detail::copy_block(l, i, xs[i].value().data(), y.data());
  return xs.front().tape().record(std::make_unique<ConcatOp<T>>(std::move(l)),
                                  std::span<const Var<T>>(xs.data(), xs.size()), std::move(y));
}

template <class T>
Var<T> concat(std::initializer_list<Var<T>> xs, std::size_t axis) {
  return concat(std::vector<Var<T>>(xs), axis);
}

CURV_AD_EXPLICIT(Var<float> concat(const std::vector<Var<float>>&, std::size_t));
CURV_AD_EXPLICIT(Var<double> concat(const std::vector<Var<double>>&, std::size_t));

}  // namespace curv::ad
