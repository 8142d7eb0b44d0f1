// curv::nn::SoftmaxCrossEntropy: cross-entropy of softmax(logits) against
// integer class labels, one fused and stable op (see ops/softmax_cross_entropy.hpp);
// PyTorch's CrossEntropyLoss with class-index targets.
//
// output: logits z (batch × classes); targets: 1-D, one class index y per
// sample stored as T. With class weights w (default all 1) and label
// smoothing ε (default 0), sample n contributes, as in PyTorch,
//   ℓₙ = −(1 − ε) w[yₙ] log pₙ[yₙ] − (ε/C) Σ_c w[c] log pₙ[c],   p = softmax(z)
// i.e. the cross-entropy against the target distribution (1 − ε) onehot + ε/C,
// each class's term scaled by its weight.
//   sum:  Σₙ ℓₙ
//   mean: Σₙ ℓₙ / batch size.
// Not PyTorch's mean when weights are given: PyTorch divides by Σₙ w[yₙ],
// the weight of the batch's targets, which changes from batch to batch, so
// the mean of a dataset would depend on how it is cut into batches. curv's
// Accumulator adds up per-batch sums and divides by the dataset size N, and
// this mean is the one that agrees with it (without weights the two means
// are the same). To match PyTorch on one batch, take the sum and divide by
// Σₙ w[yₙ] yourself.
//
// Its output Hessian for the sum reduction is, per sample,
// Aₙ (diag pₙ − pₙpₙᵀ) with Aₙ = (1 − ε) w[yₙ] + (ε/C) Σ_c w[c] (1 without
// weights): positive semi-definite, as weights are refused below 0.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/loss.hpp"
#include "curv/nn/ops/softmax_cross_entropy.hpp"

namespace curv::nn {

// GCC 12's -Wextra flags a designated initializer that leaves a member out
// (-Wmissing-field-initializers), so name both, {.label_smoothing = 0.1,
// .weight = {}}, or set them one by one.
struct SoftmaxCrossEntropyOptions {
  double label_smoothing = 0;  // ε in [0, 1]: the target is (1 − ε) onehot + ε/C
  std::vector<double> weight;  // one per class, finite and ≥ 0; empty: all 1
};

template <class T>
class SoftmaxCrossEntropy final : public Loss<T> {
 public:
  SoftmaxCrossEntropy() = default;

  explicit SoftmaxCrossEntropy(SoftmaxCrossEntropyOptions options) : options_(std::move(options)) {
    const double e = options_.label_smoothing;
    if (!(e >= 0 && e <= 1))
      throw std::invalid_argument("curv::nn::SoftmaxCrossEntropy: label_smoothing = " + std::to_string(e) +
                                  ", expected a number in [0, 1]");
    for (std::size_t c = 0; c < options_.weight.size(); ++c)
      if (!(options_.weight[c] >= 0 && std::isfinite(options_.weight[c])))
        throw std::invalid_argument("curv::nn::SoftmaxCrossEntropy: weight[" + std::to_string(c) +
                                    "] = " + std::to_string(options_.weight[c]) +
                                    ", expected a finite weight >= 0");
  }

  const SoftmaxCrossEntropyOptions& options() const { return options_; }

  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    return ops::softmax_cross_entropy(output, targets, reduction == Reduction::mean, options_.label_smoothing,
                                      options_.weight);
  }

  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    constexpr std::string_view fn = "curv::nn::SoftmaxCrossEntropy::output_hessian_product";
    if (output.dimension() != 2 || u.shape() != output.shape())
      throw std::invalid_argument(std::string(fn) + ": output has shape " + shape_string(output.shape()) + " and u " +
                                  shape_string(u.shape()) + ", expected both (batch, classes)");
    const ops::SoftmaxTargets<T> a = ops::softmax_targets(fn, targets, output.shape(0), output.shape(1),
                                                          options_.label_smoothing, options_.weight);
    Tensor<T> p;
    ops::detail::softmax_rows(output, a, p);
    Tensor<T> hu = xt::zeros<T>(output.shape());
    ops::detail::add_softmax_hessian_product(p, u.data(), T(1), hu.data(), a.total.data());
    return hu;
  }

 private:
  SoftmaxCrossEntropyOptions options_;
};

}  // namespace curv::nn
