// slice: y = x[begin:end] of a 1-D x, a view (view.hpp): no copy, and the
// adjoint lands in x's over [begin, end). The N-d form,
// y = x[start₀:stop₀, start₁:stop₁, …], one range per axis, is a copy
// (its rows are not contiguous in x) through detail/take.hpp; linear:
//   ẏ = ẋ[ranges];  x̄[ranges] += ȳ;  x̄̇[ranges] += ȳ̇.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff/detail/take.hpp"
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

template <class T>
Var<T> slice(const Var<T>& x, const Shape& start, const Shape& stop) {
  const Shape xs(x.shape().begin(), x.shape().end());
  bool fits = start.size() == xs.size() && stop.size() == xs.size();
  for (std::size_t d = 0; fits && d < xs.size(); ++d) fits = start[d] <= stop[d] && stop[d] <= xs[d];
  if (!fits)
    throw std::invalid_argument("curv::ad::slice: start " + shape_string(start) + " and stop " +
                                shape_string(stop) + " do not fit shape " + shape_string(xs) +
                                " (expected one start <= stop <= size per axis)");
  Shape shape(xs.size());
  for (std::size_t d = 0; d < xs.size(); ++d) shape[d] = stop[d] - start[d];
  std::size_t n = 1;
  for (std::size_t e : shape) n *= e;
  const std::vector<std::size_t> strides = detail::row_major_strides(xs);
  std::vector<std::size_t> source(n), at(xs.size(), 0);  // `at`: y's multi-index of element k
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t offset = 0;
    for (std::size_t d = 0; d < xs.size(); ++d) offset += (start[d] + at[d]) * strides[d];
    source[k] = offset;
    for (std::size_t d = xs.size(); d-- > 0;) {  // next multi-index, row-major
      if (++at[d] < shape[d]) break;
      at[d] = 0;
    }
  }
  return detail::take("slice", x, std::move(source), shape);
}

CURV_AD_EXPLICIT(Var<float> slice(const Var<float>&, std::size_t, std::size_t));
CURV_AD_EXPLICIT(Var<double> slice(const Var<double>&, std::size_t, std::size_t));
CURV_AD_EXPLICIT(Var<float> slice(const Var<float>&, const Shape&, const Shape&));
CURV_AD_EXPLICIT(Var<double> slice(const Var<double>&, const Shape&, const Shape&));

}  // namespace curv::ad
