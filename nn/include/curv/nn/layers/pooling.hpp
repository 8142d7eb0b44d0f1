// curv::nn::MaxPool2d and AvgPool2d: k×k windows with a stride (default k),
// no padding, no parameters.
#pragma once

#include <string>

#include "curv/nn/module.hpp"
#include "curv/nn/ops/avg_pool2d.hpp"
#include "curv/nn/ops/max_pool2d.hpp"

namespace curv::nn {

struct Pool2dOptions {
  std::size_t kernel_size = 2;
  std::size_t stride = 0;  // 0: kernel_size
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

 private:
  Pool2dOptions options_;
};

extern template class MaxPool2d<float>;
extern template class MaxPool2d<double>;
extern template class AvgPool2d<float>;
extern template class AvgPool2d<double>;

}  // namespace curv::nn
