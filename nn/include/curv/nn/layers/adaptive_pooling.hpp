// curv::nn::AdaptiveAvgPool2d and GlobalAvgPool2d: averages over windows
// chosen to give a fixed output size whatever the input's height and width.
//
// AdaptiveAvgPool2d follows PyTorch: output row i of oh averages the input
// rows [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉) (and likewise the columns), so windows may
// differ in size by one and overlap when H is not a multiple of oh. Output
// (1, 1) is global average pooling. GlobalAvgPool2d is that average with
// the two unit axes dropped, (N, C, H, W) → (N, C), ready for a Linear.
//
// Both are linear maps of each example's own values (per-example, batch-size
// invariant), written as a product with a constant pooling matrix through
// ad::matmul (AdaptiveAvgPool2d) or as ad::mean (GlobalAvgPool2d): their
// rules are those ops', exact by construction.
#pragma once

#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

struct AdaptiveAvgPool2dOptions {
  // The output's (height, width); each at least 1. It may exceed the input's:
  // windows then repeat input rows or columns, as in PyTorch.
  std::size_t output_height = 1;
  std::size_t output_width = 1;
};

// Input (batch, channels, height, width) → (batch, channels, output_height,
// output_width).
template <class T>
class AdaptiveAvgPool2d final : public Module<T> {
 public:
  explicit AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options = {});
  // A square output, size × size.
  explicit AdaptiveAvgPool2d(std::size_t size) : AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions{size, size}) {}

  std::size_t num_parameters() const override { return 0; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;

  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};

// Input (batch, channels, height, width) → (batch, channels): the mean of
// each channel over all positions.
template <class T>
class GlobalAvgPool2d final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override { return "GlobalAvgPool2d"; }
};

extern template class AdaptiveAvgPool2d<float>;
extern template class AdaptiveAvgPool2d<double>;
extern template class GlobalAvgPool2d<float>;
extern template class GlobalAvgPool2d<double>;

}  // namespace curv::nn
