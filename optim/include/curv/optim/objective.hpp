// The objective concepts every curv optimizer is written against.
//
// An optimizer sees a function of one flat vector w, nothing else: not the
// model, not the data. Full-dataset optimizers (SCG, L-BFGS, CG) need
// Objective, SCG with exact curvature also CurvatureObjective; stochastic
// optimizers (SGD, Adam) step per minibatch through StochasticObjective and
// treat a plain Objective as a single batch.
#pragma once

#include <concepts>
#include <cstddef>

#include "curv/autodiff/tensor.hpp"

namespace curv::optim {

// f : Rⁿ → R with its gradient. value_and_grad writes ∇f(w) into g (resized
// as needed) and returns f(w).
template <class F, class T>
concept Objective = requires(F& f, const Tensor<T>& w, Tensor<T>& g) {
  { f.dim() } -> std::convertible_to<std::size_t>;
  { f.value(w) } -> std::convertible_to<T>;
  { f.value_and_grad(w, g) } -> std::convertible_to<T>;
};

// Adds exact curvature: hvp writes ∇f(w) into g and ∇²f(w)·v into hv and
// returns f(w), all from one pass.
template <class F, class T>
concept CurvatureObjective =
    Objective<F, T> && requires(F& f, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) {
      { f.hvp(w, v, g, hv) } -> std::convertible_to<T>;
    };

// Adds the positive semi-definite Gauss–Newton product G(w)·v (same contract as hvp).
template <class F, class T>
concept GaussNewtonObjective =
    Objective<F, T> && requires(F& f, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& gv) {
      { f.gnvp(w, v, g, gv) } -> std::convertible_to<T>;
    };

// Adds minibatches: the objective is the mean of per-example losses, split
// into num_batches() minibatches whose order begin_epoch(e) fixes
// deterministically; batch_value_and_grad gives the mean loss of minibatch b
// and its gradient.
template <class F, class T>
concept StochasticObjective =
    Objective<F, T> && requires(F& f, std::size_t n, const Tensor<T>& w, Tensor<T>& g) {
      { f.num_batches() } -> std::convertible_to<std::size_t>;
      f.begin_epoch(n);
      { f.batch_value_and_grad(n, w, g) } -> std::convertible_to<T>;
    };

}  // namespace curv::optim
