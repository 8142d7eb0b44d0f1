// curv::nn::Conv2d.
#include "curv/nn/layers/conv2d.hpp"

#include <optional>
#include <stdexcept>

namespace curv::nn {

template <class T>
Conv2d<T>::Conv2d(Conv2dOptions options) : options_(options) {
  if (options.in_channels == 0 || options.out_channels == 0 || options.kernel_size == 0 || options.stride == 0)
    throw std::invalid_argument("curv::nn::Conv2d: in_channels = " + std::to_string(options.in_channels) +
                                ", out_channels = " + std::to_string(options.out_channels) +
                                ", kernel_size = " + std::to_string(options.kernel_size) +
                                ", stride = " + std::to_string(options.stride) + ", expected all at least 1");
}

template <class T>
std::size_t Conv2d<T>::num_parameters() const {
  const Conv2dOptions& o = options_;
  return o.out_channels * o.in_channels * o.kernel_size * o.kernel_size + (o.bias ? o.out_channels : 0);
}

template <class T>
std::string Conv2d<T>::describe() const {
  const Conv2dOptions& o = options_;
  return "Conv2d(" + std::to_string(o.in_channels) + " -> " + std::to_string(o.out_channels) + ", kernel " +
         std::to_string(o.kernel_size) + ", stride " + std::to_string(o.stride) + ", padding " +
         std::to_string(o.padding) + (o.bias ? "" : ", no bias") + ")";
}

template <class T>
std::vector<ParameterInfo> Conv2d<T>::parameters() const {
  const Conv2dOptions& o = options_;
  const std::size_t kk = o.kernel_size * o.kernel_size;
  const std::size_t fan_in = o.in_channels * kk, fan_out = o.out_channels * kk;
  std::vector<ParameterInfo> p{{"weight", {o.out_channels, o.in_channels, o.kernel_size, o.kernel_size}, 0, fan_in,
                                fan_out, ParameterRole::weight, o.init}};
  if (o.bias)
    p.push_back({"bias", {o.out_channels}, o.out_channels * fan_in, fan_in, fan_out, ParameterRole::bias, o.init});
  return p;
}

template <class T>
ad::Var<T> Conv2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  check_input(input);
  const std::vector<ad::Var<T>> p = parameter_views(w);
  if (p.size() == 1) return ops::conv2d(input, p[0], geometry());
  return ops::conv2d(input, p[0], p[1], geometry());
}

template <class T>
std::optional<Shape> Conv2d<T>::output_shape(const Shape& s) const {
  const Conv2dOptions& o = options_;
  const std::size_t k = o.kernel_size, p = o.padding;
  if (s.size() != 4 || s[1] != o.in_channels || s[2] + 2 * p < k || s[3] + 2 * p < k) return std::nullopt;
  return Shape{s[0], o.out_channels, (s[2] + 2 * p - k) / o.stride + 1, (s[3] + 2 * p - k) / o.stride + 1};
}

template <class T>
void Conv2d<T>::check_input(const ad::Var<T>& input) const {
  const Shape s(input.shape().begin(), input.shape().end());
  if (!output_shape(s))
    throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " + shape_string(s) +
                                ", expected (batch, " + std::to_string(options_.in_channels) +
                                ", height, width) with height and width + 2 * padding >= " +
                                std::to_string(options_.kernel_size));
}

template <class T>
std::vector<ad::Var<T>> Conv2d<T>::parameter_views(const ad::Var<T>& w) const {
  this->check_parameter_vector("forward", w.size());
  const Conv2dOptions& o = options_;
  const std::size_t weights = o.out_channels * o.in_channels * o.kernel_size * o.kernel_size;
  std::vector<ad::Var<T>> p{ad::view(w, 0, {o.out_channels, o.in_channels, o.kernel_size, o.kernel_size})};
  if (o.bias) p.push_back(ad::view(w, weights, {o.out_channels}));
  return p;
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace curv::nn
