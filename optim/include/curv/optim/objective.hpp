// The objective concepts every curv optimizer is written against.
//
// An optimizer sees a function of one flat vector w, nothing else: not the
// model, not the data. Full-dataset optimizers (SCG, L-BFGS, CG) need
// Objective, SCG with exact curvature also CurvatureObjective (or
// GaussNewtonObjective for Curvature::gauss_newton), Hessian-free and
// trust-region Newton–CG the same (or their subsampled forms); stochastic optimizers
// (SGD, Adam) step per minibatch through StochasticObjective and treat a
// plain Objective as a single batch.
//
// Contract shared by every method:
// - w (and v) have dim() elements; optimizers pass back the shape of the x0
//   they were given, so a flat (dim(),) tensor is the usual case.
// - Outputs (g, hv, gv) are overwritten, resized as needed.
// - Calls are deterministic: the same w gives bit-identical results. SCG's
//   comparison Δ and a resumed run's reproducibility rely on it.
// - Where the function is undefined or overflows, return NaN or ±inf rather
//   than throwing: SCG treats a non-finite trial point as a failed step and
//   retreats, the line searches shrink the step, SGD/Adam stop (non_finite).
// - Cost, as optimizers report it ("passes" in IterationInfo): each call of
//   value, value_and_grad, hvp or gnvp is one pass over the data; a
//   minibatch call of a StochasticObjective is 1/num_batches() of a pass.
#pragma once

#include <concepts>
#include <cstddef>

#include "curv/autodiff/tensor.hpp"

namespace curv::optim {

// f : Rⁿ → R with its gradient. value(w) returns f(w); value_and_grad writes
// ∇f(w) into g and returns f(w). For a model, f is the mean loss over the
// whole dataset (not a mean of minibatch means).
template <class F, class T>
concept Objective = requires(F& f, const Tensor<T>& w, Tensor<T>& g) {
  { f.dim() } -> std::convertible_to<std::size_t>;
  { f.value(w) } -> std::convertible_to<T>;
  { f.value_and_grad(w, g) } -> std::convertible_to<T>;
};

// Adds exact curvature: hvp writes ∇f(w) into g and ∇²f(w)·v into hv and
// returns f(w), all from one forward-over-reverse pass (curv::ad::hvp).
template <class F, class T>
concept CurvatureObjective =
    Objective<F, T> && requires(F& f, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) {
      { f.hvp(w, v, g, hv) } -> std::convertible_to<T>;
    };

// Adds the positive semi-definite Gauss–Newton product G(w)·v = Jᵀ∇²ℓ J·v of a
// loss ℓ of model outputs with Jacobian J (same contract as hvp).
template <class F, class T>
concept GaussNewtonObjective =
    Objective<F, T> && requires(F& f, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& gv) {
      { f.gnvp(w, v, g, gv) } -> std::convertible_to<T>;
    };

// Adds curvature on a subsample (Martens 2010, §4.3): sampled_hvp(sample, w,
// v, hv) writes into hv the Hessian-vector product of the mean loss over a
// subset of the data, and curvature_fraction() says how large that subset is
// (its size over the dataset's, in (0, 1]: the cost of one sampled product
// in passes). The subset is a pure function of `sample` (e.g. seeded from it):
// the same number gives the same subset, so an optimizer that passes its
// iteration number gets one fixed subset per iteration and a resumed run the
// same subsets. value and value_and_grad stay full-dataset. Hessian-free and
// trust-region Newton–CG use the sampled products whenever an objective has
// them; SCG never does (its hvp/gnvp stay full-dataset).
template <class F, class T>
concept SubsampledCurvatureObjective =
    Objective<F, T> && requires(F& f, std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& hv) {
      { f.curvature_fraction() } -> std::convertible_to<double>;
      f.sampled_hvp(sample, w, v, hv);
    };

// The same for the Gauss–Newton product: sampled_gnvp(sample, w, v, gv).
template <class F, class T>
concept SubsampledGaussNewtonObjective =
    Objective<F, T> && requires(F& f, std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& gv) {
      { f.curvature_fraction() } -> std::convertible_to<double>;
      f.sampled_gnvp(sample, w, v, gv);
    };

// Adds the mean squared per-example gradient: gradient_second_moment(w, s)
// writes sᵢ = (1/N) Σₙ (∂ℓₙ/∂wᵢ)², elementwise, over the N examples of the
// mean loss — what Hessian-free's diagonal preconditioner (Martens 2010,
// §4.7) is built from. One pass over the data.
template <class F, class T>
concept GradientSecondMomentObjective =
    Objective<F, T> && requires(F& f, const Tensor<T>& w, Tensor<T>& s) { f.gradient_second_moment(w, s); };

// Adds minibatches: the objective is the mean of per-example losses, split
// into num_batches() minibatches whose order begin_epoch(e) fixes
// deterministically (calling it twice with the same e gives the same order,
// so a resumed run can re-enter an epoch); batch_value_and_grad(b, w, g)
// gives the mean loss of minibatch b (0 ≤ b < num_batches()) and its
// gradient. SGD and Adam call begin_epoch(e) before minibatch 0 of epoch e.
template <class F, class T>
concept StochasticObjective =
    Objective<F, T> && requires(F& f, std::size_t n, const Tensor<T>& w, Tensor<T>& g) {
      { f.num_batches() } -> std::convertible_to<std::size_t>;
      f.begin_epoch(n);
      { f.batch_value_and_grad(n, w, g) } -> std::convertible_to<T>;
    };

}  // namespace curv::optim
