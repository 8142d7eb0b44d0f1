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
  this->check_parameter_vector("forward", w.size());
  return forward_at(w, 0, input);
}

template <class T>
std::optional<Shape> Conv2d<T>::output_shape(const Shape& s) const {
  const Conv2dOptions& o = options_;
  const std::size_t k = o.kernel_size, p = o.padding;
  if (s.size() != 4 || s[1] != o.in_channels || s[2] + 2 * p < k || s[3] + 2 * p < k) return std::nullopt;
  return Shape{s[0], o.out_channels, (s[2] + 2 * p - k) / o.stride + 1, (s[3] + 2 * p - k) / o.stride + 1};
}

template <class T>
Shape Conv2d<T>::weight_shape() const {
  const Conv2dOptions& o = options_;
  return Shape{o.out_channels, o.in_channels, o.kernel_size, o.kernel_size};
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
std::optional<std::size_t> Conv2d<T>::bias_offset(std::size_t offset) const {
  if (!options_.bias) return std::nullopt;
  return offset + options_.out_channels * options_.in_channels * options_.kernel_size * options_.kernel_size;
}

template <class T>
ad::Var<T> Conv2d<T>::forward_at(const ad::Var<T>& w, std::size_t offset, const ad::Var<T>& input) const {
  this->check_parameter_range("forward_at", w, offset);
  check_input(input);
  return ops::conv2d(input, w, weight_shape(), offset, bias_offset(offset),
                     ops::Conv2dGeometry{options_.stride, options_.padding});
}

template <class T>
ad::Var<T> Conv2d<T>::forward_max_pooled_at(const ad::Var<T>& w, std::size_t offset, const ad::Var<T>& input,
                                            const ops::Pool2dGeometry& pool,
                                            ops::PooledActivation activation) const {
  this->check_parameter_range("forward_max_pooled_at", w, offset);
  check_input(input);
  return ops::conv2d_max_pool2d(input, w, weight_shape(), offset, bias_offset(offset),
                                ops::Conv2dGeometry{options_.stride, options_.padding}, pool, activation);
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace curv::nn
