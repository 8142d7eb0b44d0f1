// curv::nn::Conv2d: NCHW 2-D convolution (cross-correlation, as PyTorch's
// Conv2d): a kernel of kh × kw, per-axis stride, zero padding and dilation,
// and groups; "weight" (O, C / groups, kh, kw) then "bias" (O).
#pragma once

#include <optional>
#include <string>

#include "curv/nn/module.hpp"
#include "curv/nn/ops/conv2d.hpp"
#include "curv/nn/size2.hpp"

namespace curv::nn {

// kernel_size, stride, padding and dilation are one number or {height, width}.
// dilation and groups come last so that positional initializers written
// before they existed ({in, out, k, stride, padding, bias, init}) still mean
// the same.
struct Conv2dOptions {
  std::size_t in_channels = 0;
  std::size_t out_channels = 0;
  Size2 kernel_size = 3;
  Size2 stride = 1;
  Size2 padding = 0;  // zeros on each side; (kernel_size − 1) / 2 is 'same' for odd kernels, stride and dilation 1
  bool bias = true;
  Init init = Init::pytorch_default;
  Size2 dilation = 1;      // the distance between the kernel's taps
  std::size_t groups = 1;  // in_channels and out_channels divisible by it; in_channels: depthwise
};

template <class T>
class Conv2d final : public Module<T> {
 public:
  explicit Conv2d(Conv2dOptions options);

  std::size_t num_parameters() const override;
  // Reads its weight and bias as views of w (no copies on the tape).
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;
  std::vector<ParameterInfo> parameters() const override;

  // The output shape (N, O, OH, OW) for an input shape, or nothing when the
  // input does not fit this layer.
  std::optional<Shape> output_shape(const Shape& input) const;

  // Throws unless `input` fits this layer (output_shape has a value).
  void check_input(const ad::Var<T>& input) const;
  // The weight and (with a bias) the bias as views of w, w's shape checked.
  std::vector<ad::Var<T>> parameter_views(const ad::Var<T>& w) const;
  ops::Conv2dGeometry geometry() const {
    return {options_.stride, options_.padding, options_.dilation, options_.groups};
  }

  const Conv2dOptions& options() const { return options_; }

 private:
  std::size_t weight_size() const;

  Conv2dOptions options_;
};

extern template class Conv2d<float>;
extern template class Conv2d<double>;

}  // namespace curv::nn
