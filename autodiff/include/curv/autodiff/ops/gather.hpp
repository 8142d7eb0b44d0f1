// gather: y = x taken along `axis` at `index` (torch.gather; numpy's
// take_along_axis without broadcasting): index has x's rank, y has index's
// shape, and y[i₀, …, i_axis, …] = x[i₀, …, index[i₀, …, i_axis, …], …].
// Linear in x (detail/take.hpp): ẏ = gather(ẋ);  x̄ += scatter-add of ȳ;
// x̄̇ += scatter-add of ȳ̇. An element gathered twice receives both adjoints.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff/detail/take.hpp"

namespace curv::ad {

using Index = xt::xarray<std::size_t>;

template <class T>
Var<T> gather(const Var<T>& x, std::size_t axis, const Index& index) {
  const Shape xs(x.shape().begin(), x.shape().end()), is(index.shape().begin(), index.shape().end());
  if (axis >= xs.size())
    throw std::invalid_argument("curv::ad::gather: axis " + std::to_string(axis) + " out of range for shape " +
                                shape_string(xs));
  bool fits = is.size() == xs.size();
  for (std::size_t d = 0; fits && d < is.size(); ++d) fits = d == axis || is[d] <= xs[d];
  if (!fits)
    throw std::invalid_argument("curv::ad::gather: index has shape " + shape_string(is) +
                                ", expected the rank of x's shape " + shape_string(xs) +
                                " and no larger outside axis " + std::to_string(axis));
  const std::vector<std::size_t> x_strides = detail::row_major_strides(xs);
  std::vector<std::size_t> source(index.size()), at(is.size(), 0);  // `at`: index's multi-index of element k
  for (std::size_t k = 0; k < index.size(); ++k) {
    const std::size_t i = index.data()[k];
    if (i >= xs[axis])
      throw std::invalid_argument("curv::ad::gather: index element " + std::to_string(k) + " is " +
                                  std::to_string(i) + ", expected less than " + std::to_string(xs[axis]) +
                                  " (x's size along axis " + std::to_string(axis) + ")");
    std::size_t offset = 0;
    for (std::size_t d = 0; d < is.size(); ++d) offset += (d == axis ? i : at[d]) * x_strides[d];
    source[k] = offset;
    for (std::size_t d = is.size(); d-- > 0;) {  // next multi-index, row-major
      if (++at[d] < is[d]) break;
      at[d] = 0;
    }
  }
  return detail::take("gather", x, std::move(source), is);
}

CURV_AD_EXPLICIT(Var<float> gather(const Var<float>&, std::size_t, const Index&));
CURV_AD_EXPLICIT(Var<double> gather(const Var<double>&, std::size_t, const Index&));

}  // namespace curv::ad
