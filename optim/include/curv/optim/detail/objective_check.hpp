// Compile-time checks that say which method of the Objective concept is missing.
#pragma once

#include <concepts>
#include <cstddef>

#include "curv/autodiff/tensor.hpp"

namespace curv::optim::detail {

template <class F>
concept HasDim = requires(F& f) {
  { f.dim() } -> std::convertible_to<std::size_t>;
};
template <class F, class T>
concept HasValue = requires(F& f, const Tensor<T>& w) {
  { f.value(w) } -> std::convertible_to<T>;
};
template <class F, class T>
concept HasValueAndGrad = requires(F& f, const Tensor<T>& w, Tensor<T>& g) {
  { f.value_and_grad(w, g) } -> std::convertible_to<T>;
};

template <class F, class T>
constexpr void check_objective() {
  static_assert(HasDim<F>, "curv::optim: the objective has no `std::size_t dim()` (see curv/optim/objective.hpp)");
  static_assert(HasValue<F, T>, "curv::optim: the objective has no `T value(const Tensor<T>& w)` (see curv/optim/objective.hpp)");
  static_assert(HasValueAndGrad<F, T>,
                "curv::optim: the objective has no `T value_and_grad(const Tensor<T>& w, Tensor<T>& g)` (see curv/optim/objective.hpp)");
}

}  // namespace curv::optim::detail
