// curv::nn::NLLLoss: negative log-likelihood of log-probabilities against
// integer class labels, PyTorch's NLLLoss.
//
// output: log-probabilities x (batch × classes), e.g. from ad::log_softmax;
// targets: 1-D, one class index y per sample stored as T. With class
// weights w (default all 1), sample n contributes ℓₙ = −w[yₙ] xₙ[yₙ]:
//   sum:  Σₙ ℓₙ
//   mean: Σₙ ℓₙ / batch size.
// Not PyTorch's mean when weights are given: PyTorch divides by Σₙ w[yₙ],
// which changes from batch to batch, so a dataset's mean would depend on the
// batch size; curv's Accumulator adds up per-batch sums and divides by the
// dataset size N, and this mean agrees with it (see SoftmaxCrossEntropy).
// PyTorch's ignore_index and (batch, classes, d₁, …) inputs are not
// supported.
//
// The loss is linear in its input, so its output Hessian is 0 and so is a
// Gauss–Newton product through it: for curvature, keep log_softmax inside
// the loss, i.e. use SoftmaxCrossEntropy on the logits.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/loss.hpp"
#include "curv/nn/ops/softmax_cross_entropy.hpp"

namespace curv::nn {

struct NLLLossOptions {
  std::vector<double> weight;  // one per class, finite and ≥ 0; empty: all 1
};

template <class T>
class NLLLoss final : public Loss<T> {
 public:
  NLLLoss() = default;

  explicit NLLLoss(NLLLossOptions options) : options_(std::move(options)) {
    for (std::size_t c = 0; c < options_.weight.size(); ++c)
      if (!(options_.weight[c] >= 0 && std::isfinite(options_.weight[c])))
        throw std::invalid_argument("curv::nn::NLLLoss: weight[" + std::to_string(c) + "] = " +
                                    std::to_string(options_.weight[c]) + ", expected a finite weight >= 0");
  }

  const NLLLossOptions& options() const { return options_; }

  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    const std::vector<std::size_t> labels = checked_labels("forward", output.shape(), targets);
    const std::size_t n = labels.size();
    // −w[yₙ] xₙ[yₙ]: gather the target's entry of each row, scale it.
    ad::Index index = ad::Index::from_shape({n, 1});
    Tensor<T> coefficient = Tensor<T>::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) {
      index(i, 0) = labels[i];
      coefficient(i, 0) = static_cast<T>(options_.weight.empty() ? -1.0 : -options_.weight[labels[i]]);
    }
    const ad::Var<T> total = ad::sum(ad::gather(output, 1, index) * coefficient);
    if (reduction == Reduction::sum || n == 0) return total;
    return total * (T(1) / static_cast<T>(n));
  }

  // Zero: the loss is linear in the output (u's shape is still checked).
  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    checked_labels("output_hessian_product", output.shape(), targets);
    if (u.shape() != output.shape())
      throw std::invalid_argument("curv::nn::NLLLoss::output_hessian_product: u has shape " +
                                  shape_string(u.shape()) + ", expected the output's shape " +
                                  shape_string(output.shape()));
    return xt::zeros<T>(output.shape());
  }

 private:
  template <class S>
  std::vector<std::size_t> checked_labels(const char* fn, const S& shape, const Tensor<T>& targets) const {
    const std::string where = std::string("curv::nn::NLLLoss::") + fn;
    if (shape.size() != 2 || shape[1] == 0)
      throw std::invalid_argument(where + ": output has shape " + shape_string(shape) +
                                  ", expected log-probabilities (batch, classes)");
    if (!options_.weight.empty() && options_.weight.size() != shape[1])
      throw std::invalid_argument(where + ": weight has " + std::to_string(options_.weight.size()) +
                                  " elements, expected one per class (" + std::to_string(shape[1]) + ")");
    return ops::class_labels(where, targets, shape[0], shape[1]);
  }

  NLLLossOptions options_;
};

}  // namespace curv::nn
