// curv::nn::HuberLoss: PyTorch's HuberLoss. With d = y − t elementwise,
//   ℓ(d) = ½ d²             where |d| ≤ δ
//          δ (|d| − ½ δ)     elsewhere
//   sum:  Σ ℓ(d)            over every element of the batch
//   mean: the same divided by the number of elements (as PyTorch; not the
//         batch size)
// δ (`delta`, default 1) > 0. Quadratic near 0 and linear beyond δ, so an
// outlier's gradient is bounded by δ. Its output Hessian for the sum
// reduction is diagonal: 1 where |d| ≤ δ, 0 elsewhere (NaN where d is NaN).
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "curv/nn/loss.hpp"

namespace curv::nn {

struct HuberLossOptions {
  double delta = 1.0;  // PyTorch's default
};

template <class T>
class HuberLoss final : public Loss<T> {
 public:
  HuberLoss() = default;

  explicit HuberLoss(HuberLossOptions options) : options_(options) {
    if (!(options_.delta > 0 && std::isfinite(options_.delta)))
      throw std::invalid_argument("curv::nn::HuberLoss: delta = " + std::to_string(options_.delta) +
                                  ", expected a finite delta > 0");
  }

  const HuberLossOptions& options() const { return options_; }

  ad::Var<T> forward(const ad::Var<T>& output, const Tensor<T>& targets, Reduction reduction) const override {
    check("forward", output.shape(), targets.shape(), "targets");
    const T delta = static_cast<T>(options_.delta);
    const ad::Var<T> d = output - targets;
    // Both pieces are exact where they are chosen; the mask is data (no
    // derivative), and |d| = δ takes the quadratic piece, as in PyTorch.
    const ad::Mask inside = xt::abs(d.value()) <= delta;
    const ad::Var<T> quadratic = ad::square(d) * T(0.5);
    const ad::Var<T> linear = (ad::abs(d) - T(0.5) * delta) * delta;
    const ad::Var<T> total = ad::sum(ad::where(inside, quadratic, linear));
    if (reduction == Reduction::sum || output.size() == 0) return total;
    return total * (T(1) / static_cast<T>(output.size()));
  }

  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& targets,
                                   const Tensor<T>& u) const override {
    check("output_hessian_product", output.shape(), targets.shape(), "targets");
    check("output_hessian_product", output.shape(), u.shape(), "u");
    const T delta = static_cast<T>(options_.delta);
    Tensor<T> hu = Tensor<T>::from_shape(output.shape());
    for (std::size_t i = 0; i < hu.size(); ++i) {
      const T d = output.data()[i] - targets.data()[i];
      hu.data()[i] = d != d ? d : (std::abs(d) <= delta ? u.data()[i] : T(0));
    }
    return hu;
  }

 private:
  template <class S1, class S2>
  static void check(const char* fn, const S1& output, const S2& other, const char* name) {
    if (!std::equal(output.begin(), output.end(), other.begin(), other.end()))
      throw std::invalid_argument(std::string("curv::nn::HuberLoss::") + fn + ": output has shape " +
                                  shape_string(output) + " but " + name + " has shape " + shape_string(other) +
                                  ", expected the same shape");
  }

  HuberLossOptions options_;
};

}  // namespace curv::nn
