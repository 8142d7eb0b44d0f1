// curv::nn::MeanSquaredError, PyTorch's MSELoss convention:
//   sum:  Σᵢ (yᵢ − tᵢ)²            over every element of the batch
//   mean: the same divided by the number of elements (not the batch size)
// Its output Hessian for the sum reduction is 2·I, so H u = 2u.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>

#include "curv/nn/loss.hpp"

namespace curv::nn {

template <class T>
class MeanSquaredError final : public Loss<T> {
 public:
  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    check("forward", output.shape(), targets.shape());
    const ad::Var<T> d = output - targets;
    const ad::Var<T> total = ad::sum(d * d);
    if (reduction == Reduction::sum || output.size() == 0) return total;
    return total * (T(1) / static_cast<T>(output.size()));
  }

  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    check("output_hessian_product", output.shape(), targets.shape());
    check("output_hessian_product", output.shape(), u.shape());
    return T(2) * u;
  }

 private:
  template <class S1, class S2>
  static void check(const char* fn, const S1& output, const S2& other) {
    if (!std::equal(output.begin(), output.end(), other.begin(), other.end()))
      throw std::invalid_argument(std::string("curv::nn::MeanSquaredError::") + fn + ": output has shape " +
                                  shape_string(output) + " but targets (or u) have shape " + shape_string(other) +
                                  ", expected the same shape");
  }
};

}  // namespace curv::nn
