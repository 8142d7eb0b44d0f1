// curv::nn::LayerNorm and GroupNorm: each example's features normalized to
// mean 0 and variance 1, then scaled and shifted per feature (PyTorch's
// layers, options and parameter names "weight" and "bias").
//
// Both are per-example: the statistics of one example are computed from that
// example alone (never across the batch, unlike BatchNorm), so a model's mean
// loss, gradient and H·v do not depend on how a dataset is cut into batches.
//
// Both are composed from autodiff ops (mean, subtraction with broadcasting,
// square, sqrt, division): their value, JVP, VJP and adjoint tangent are
// those ops' rules, exact by construction. The variance is the biased one
// (divided by the count, not count − 1), as PyTorch's, and eps is added to it
// inside the square root: x̂ = (x − μ) / √(σ² + ε).
#pragma once

#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

struct LayerNormOptions {
  // The trailing dimensions of the input that one normalization covers:
  // {features} for (batch, features), {C, H, W} for a whole image. Each
  // entry at least 1.
  Shape normalized_shape;
  // Added to the variance; finite and > 0.
  double eps = 1e-5;
  // A learnable scale "weight" (of normalized_shape, initialised to ones)
  // and shift "bias" (zeros), applied after normalizing.
  bool elementwise_affine = true;
  // With elementwise_affine, whether the shift "bias" exists (PyTorch ≥ 2.1).
  bool bias = true;
};

// y = x̂ ⊙ weight + bias, x̂ normalized over the trailing normalized_shape
// dimensions of the input (batch, …, normalized_shape…).
template <class T>
class LayerNorm final : public Module<T> {
 public:
  explicit LayerNorm(LayerNormOptions options);
  // LayerNorm over the last dimension, of size `features`, with the defaults.
  explicit LayerNorm(std::size_t features) : LayerNorm(LayerNormOptions{{features}, 1e-5, true, true}) {}

  std::size_t num_parameters() const override;
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;
  // "weight" (ones) then "bias" (zeros), each of normalized_shape.
  std::vector<ParameterInfo> parameters() const override;

  const LayerNormOptions& options() const { return options_; }

 private:
  LayerNormOptions options_;
  std::size_t features_;  // the product of normalized_shape
};

struct GroupNormOptions {
  // The channels (axis 1 of the input) are split into num_groups groups of
  // num_channels / num_groups consecutive channels; each must be at least 1
  // and num_groups must divide num_channels.
  std::size_t num_groups = 0;
  std::size_t num_channels = 0;
  // Added to the variance; finite and > 0.
  double eps = 1e-5;
  // A learnable scale "weight" (ones) and shift "bias" (zeros) per channel.
  bool affine = true;
};

// Input (batch, channels, …) — (N, C) or (N, C, H, W) or any number of
// trailing axes: each example's group of channels, with all its positions,
// is normalized together; then y = x̂ ⊙ weight[c] + bias[c] per channel c.
// num_groups = 1 normalizes each example as a whole (LayerNorm over (C, …)
// with one scale per channel); num_groups = num_channels is instance norm.
template <class T>
class GroupNorm final : public Module<T> {
 public:
  explicit GroupNorm(GroupNormOptions options);
  GroupNorm(std::size_t num_groups, std::size_t num_channels)
      : GroupNorm(GroupNormOptions{num_groups, num_channels, 1e-5, true}) {}

  std::size_t num_parameters() const override;
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;
  // "weight" (ones) then "bias" (zeros), each of (num_channels).
  std::vector<ParameterInfo> parameters() const override;

  const GroupNormOptions& options() const { return options_; }

 private:
  GroupNormOptions options_;
};

extern template class LayerNorm<float>;
extern template class LayerNorm<double>;
extern template class GroupNorm<float>;
extern template class GroupNorm<double>;

}  // namespace curv::nn
