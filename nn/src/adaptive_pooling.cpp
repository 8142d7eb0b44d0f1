// curv::nn::AdaptiveAvgPool2d and GlobalAvgPool2d.
#include "curv/nn/layers/adaptive_pooling.hpp"

#include <stdexcept>

namespace curv::nn {

namespace {

template <class T>
void check_image_input(const std::string& describe, const ad::Var<T>& input) {
  const auto& s = input.shape();
  if (s.size() != 4 || s[2] == 0 || s[3] == 0)
    throw std::invalid_argument("curv::nn::" + describe + ": input has shape " + shape_string(s) +
                                ", expected (batch, channels, height, width) with height, width >= 1");
}

// PyTorch's adaptive window of output index i of `out` over `in` positions:
// [⌊i·in/out⌋, ⌈(i+1)·in/out⌉).
struct Window {
  std::size_t begin, end;
};

Window window(std::size_t i, std::size_t in, std::size_t out) {
  return {i * in / out, ((i + 1) * in + out - 1) / out};
}

}  // namespace

template <class T>
AdaptiveAvgPool2d<T>::AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options) : options_(options) {
  if (options.output_height == 0 || options.output_width == 0)
    throw std::invalid_argument("curv::nn::AdaptiveAvgPool2d: output size (" +
                                std::to_string(options.output_height) + ", " + std::to_string(options.output_width) +
                                "), expected both at least 1");
}

template <class T>
std::string AdaptiveAvgPool2d<T>::describe() const {
  return "AdaptiveAvgPool2d(" + std::to_string(options_.output_height) + ", " +
         std::to_string(options_.output_width) + ")";
}

template <class T>
ad::Var<T> AdaptiveAvgPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_image_input(describe(), input);
  const auto& s = input.shape();
  const std::size_t n = s[0], c = s[1], h = s[2], wd = s[3];
  const std::size_t oh = options_.output_height, ow = options_.output_width;
  // pool[(r, q), (i, j)] = 1 / |window| for input position (r, q) in output
  // (i, j)'s window: y (N·C, oh·ow) = x (N·C, H·W) · pool.
  Tensor<T> pool = xt::zeros<T>({h * wd, oh * ow});
  for (std::size_t i = 0; i < oh; ++i) {
    const Window rows = window(i, h, oh);
    for (std::size_t j = 0; j < ow; ++j) {
      const Window cols = window(j, wd, ow);
      const T weight = T(1) / static_cast<T>((rows.end - rows.begin) * (cols.end - cols.begin));
      for (std::size_t r = rows.begin; r < rows.end; ++r)
        for (std::size_t q = cols.begin; q < cols.end; ++q) pool(r * wd + q, i * ow + j) = weight;
    }
  }
  const ad::Var<T> pooled = ad::matmul(ad::reshape(input, {n * c, h * wd}), input.tape().constant(std::move(pool)));
  return ad::reshape(pooled, {n, c, oh, ow});
}

template <class T>
ad::Var<T> GlobalAvgPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_image_input(describe(), input);
  const auto& s = input.shape();
  return ad::mean(ad::reshape(input, {s[0], s[1], s[2] * s[3]}), 2);
}

template class AdaptiveAvgPool2d<float>;
template class AdaptiveAvgPool2d<double>;
template class GlobalAvgPool2d<float>;
template class GlobalAvgPool2d<double>;

}  // namespace curv::nn
