// curv::nn::Loss: a scalar loss of a batch of model outputs against targets.
//
// Targets are a Tensor<T>: class indices stored exactly as T for
// classification losses, real values for regression losses.
#pragma once

#include "curv/autodiff.hpp"

namespace curv::nn {

enum class Reduction { sum, mean };

template <class T>
class Loss {
 public:
  virtual ~Loss() = default;

  // The loss summed, or averaged, over the batch (the first axis of output).
  virtual ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets,
                             Reduction reduction) const = 0;

  // H·u, where H is the Hessian of the batch-summed loss with respect to the
  // output, evaluated at `output` (what the Gauss–Newton product Jᵀ H J v needs).
  virtual Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                           const Tensor<T>& u) const = 0;

  ad::Var<T> operator()(const ad::Var<T>& output, const Tensor<T>& targets) const {
    return forward(output, targets, Reduction::mean);
  }
};

}  // namespace curv::nn
