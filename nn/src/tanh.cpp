// The value loop of curv::nn::ops::tanh (see ops/tanh.hpp); this file is
// compiled with -fno-trapping-math so that the float loop vectorizes.
#include "curv/nn/ops/tanh.hpp"

namespace curv::nn::ops::detail {

void tanh_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = tanh_value(x[i]);
}

void tanh_values(const double* x, double* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = tanh_value(x[i]);
}

}  // namespace curv::nn::ops::detail
