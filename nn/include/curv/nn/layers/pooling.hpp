// curv::nn::MaxPool2d and AvgPool2d: kh×kw windows with a per-axis stride
// (default: the kernel), padding and ceil_mode as PyTorch's; AvgPool2d's
// count_include_pad. No parameters.
#pragma once

#include <string>

#include "curv/nn/module.hpp"
#include "curv/nn/ops/avg_pool2d.hpp"
#include "curv/nn/ops/max_pool2d.hpp"
#include "curv/nn/size2.hpp"

namespace curv::nn {

// kernel_size, stride and padding are one number or {height, width}.
struct Pool2dOptions {
  Size2 kernel_size = 2;
  Size2 stride = 0;   // 0 on an axis: kernel_size's
  Size2 padding = 0;  // on each side, at most kernel_size / 2; MaxPool2d never chooses it, AvgPool2d reads zeros
  bool ceil_mode = false;         // round the number of windows up (a last, partial window)
  bool count_include_pad = true;  // AvgPool2d: divide by the window's size in the padded input, else by the
                                  // number of input elements in it
  ops::Pool2dGeometry geometry() const { return {kernel_size, stride, padding, ceil_mode, count_include_pad}; }
};

// Ties choose the first maximum in row-major window order.
template <class T>
class MaxPool2d final : public Module<T> {
 public:
  explicit MaxPool2d(Pool2dOptions options);
  explicit MaxPool2d(std::size_t kernel_size) : MaxPool2d(Pool2dOptions{kernel_size, 0}) {}

  std::size_t num_parameters() const override { return 0; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;

  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

template <class T>
class AvgPool2d final : public Module<T> {
 public:
  explicit AvgPool2d(Pool2dOptions options);
  explicit AvgPool2d(std::size_t kernel_size) : AvgPool2d(Pool2dOptions{kernel_size, 0}) {}

  std::size_t num_parameters() const override { return 0; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;

  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

extern template class MaxPool2d<float>;
extern template class MaxPool2d<double>;
extern template class AvgPool2d<float>;
extern template class AvgPool2d<double>;

}  // namespace curv::nn
