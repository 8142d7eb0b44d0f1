// curv::nn::BCEWithLogits: binary cross-entropy of sigmoid(logits), one
// independent yes/no per element (multi-label), PyTorch's BCEWithLogitsLoss.
//
// output: logits x of any shape (batch, …); targets: probabilities
// t ∈ [0, 1] of the same shape (hard 0/1 labels or soft ones). Each element
// contributes, as in PyTorch,
//   ℓ = −[p t log σ(x) + (1 − t) log(1 − σ(x))]
//     = max(x, 0) − x t + log(1 + e^(−|x|))        (p = 1, the stable form)
// where p = pos_weight[c] weighs the positive term of class c (the last
// axis; one value for all classes, or none: p = 1):
//   sum:  Σ ℓ over every element of the batch
//   mean: the same divided by the number of elements (as PyTorch, with or
//         without pos_weight; not the batch size)
// PyTorch's per-element `weight` is not supported. Fused and stable: see
// ops/binary_cross_entropy_with_logits.hpp. Its output Hessian for the sum
// reduction is diagonal, λ σ(x) σ(−x) with λ = 1 + (p − 1) t ≥ 0.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/loss.hpp"
#include "curv/nn/ops/binary_cross_entropy_with_logits.hpp"

namespace curv::nn {

struct BCEWithLogitsOptions {
  std::vector<double> pos_weight;  // one per class (last axis), or one for all; finite, ≥ 0; empty: all 1
};

template <class T>
class BCEWithLogits final : public Loss<T> {
 public:
  BCEWithLogits() = default;

  explicit BCEWithLogits(BCEWithLogitsOptions options) : options_(std::move(options)) {
    for (std::size_t c = 0; c < options_.pos_weight.size(); ++c)
      if (!(options_.pos_weight[c] >= 0 && std::isfinite(options_.pos_weight[c])))
        throw std::invalid_argument("curv::nn::BCEWithLogits: pos_weight[" + std::to_string(c) + "] = " +
                                    std::to_string(options_.pos_weight[c]) + ", expected a finite weight >= 0");
  }

  const BCEWithLogitsOptions& options() const { return options_; }

  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    return ops::binary_cross_entropy_with_logits(output, targets, reduction == Reduction::mean,
                                                 options_.pos_weight);
  }

  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    constexpr std::string_view fn = "curv::nn::BCEWithLogits::output_hessian_product";
    ops::check_binary_targets(fn, output.shape(), targets, options_.pos_weight);
    if (u.shape() != output.shape())
      throw std::invalid_argument(std::string(fn) + ": u has shape " + shape_string(u.shape()) +
                                  ", expected the output's shape " + shape_string(output.shape()));
    Tensor<T> hu = Tensor<T>::from_shape(output.shape());
    ops::detail::binary_cross_entropy_terms(output, targets, options_.pos_weight, static_cast<T*>(nullptr), hu.data());
    for (std::size_t i = 0; i < hu.size(); ++i) hu.data()[i] *= u.data()[i];
    return hu;
  }

 private:
  BCEWithLogitsOptions options_;
};

}  // namespace curv::nn
