// curv::nn::SoftmaxCrossEntropy: cross-entropy of softmax(logits) against
// integer class labels, one fused and stable op (see ops/softmax_cross_entropy.hpp).
//
// output: logits (batch × classes); targets: 1-D, one class index per sample
// stored as T. Its output Hessian for the sum reduction is, per sample,
// (diag p − p pᵀ) with p = softmax(logits).
#pragma once

#include <stdexcept>
#include <vector>

#include "curv/nn/loss.hpp"
#include "curv/nn/ops/softmax_cross_entropy.hpp"

namespace curv::nn {

template <class T>
class SoftmaxCrossEntropy final : public Loss<T> {
 public:
  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    return ops::softmax_cross_entropy(output, targets, reduction == Reduction::mean);
  }

  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    if (output.dimension() != 2 || u.shape() != output.shape())
      throw std::invalid_argument("curv::nn::SoftmaxCrossEntropy::output_hessian_product: output has shape " +
                                  shape_string(output.shape()) + " and u " + shape_string(u.shape()) +
                                  ", expected both (batch, classes)");
    const std::vector<std::size_t> labels = ops::class_labels(
        "curv::nn::SoftmaxCrossEntropy::output_hessian_product", targets, output.shape(0), output.shape(1));
    Tensor<T> p;
    ops::detail::softmax_rows(output, labels, p);
    Tensor<T> hu = xt::zeros<T>(output.shape());
    ops::detail::add_softmax_hessian_product(p, u.data(), T(1), hu.data());
    return hu;
  }
};

}  // namespace curv::nn
