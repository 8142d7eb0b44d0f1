// curv::nn::Conv2d.
#include "curv/nn/layers/conv2d.hpp"

#include <optional>
#include <stdexcept>

namespace curv::nn {

namespace {

// The kernel's extent with its dilation, d·(k − 1) + 1, per axis.
Size2 dilated_kernel(const Conv2dOptions& o) {
  return {o.dilation.h * (o.kernel_size.h - 1) + 1, o.dilation.w * (o.kernel_size.w - 1) + 1};
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(Conv2dOptions options) : options_(options) {
  const Conv2dOptions& o = options;
  auto fail = [&](const std::string& found, const std::string& expected) {
    throw std::invalid_argument("curv::nn::Conv2d: " + found + ", expected " + expected);
  };
  if (o.in_channels == 0 || o.out_channels == 0 || o.kernel_size.h == 0 || o.kernel_size.w == 0 ||
      o.stride.h == 0 || o.stride.w == 0)
    fail("in_channels = " + std::to_string(o.in_channels) + ", out_channels = " + std::to_string(o.out_channels) +
             ", kernel_size = " + to_string(o.kernel_size) + ", stride = " + to_string(o.stride),
         "all at least 1");
  if (o.dilation.h == 0 || o.dilation.w == 0) fail("dilation = " + to_string(o.dilation), "at least 1");
  if (o.groups == 0) fail("groups = 0", "at least 1");
  if (o.in_channels % o.groups != 0 || o.out_channels % o.groups != 0)
    fail("in_channels = " + std::to_string(o.in_channels) + ", out_channels = " + std::to_string(o.out_channels) +
             ", groups = " + std::to_string(o.groups),
         "in_channels and out_channels divisible by groups");
}

template <class T>
std::size_t Conv2d<T>::weight_size() const {
  const Conv2dOptions& o = options_;
  return o.out_channels * (o.in_channels / o.groups) * o.kernel_size.h * o.kernel_size.w;
}

template <class T>
std::size_t Conv2d<T>::num_parameters() const {
  return weight_size() + (options_.bias ? options_.out_channels : 0);
}

template <class T>
std::string Conv2d<T>::describe() const {
  const Conv2dOptions& o = options_;
  return "Conv2d(" + std::to_string(o.in_channels) + " -> " + std::to_string(o.out_channels) + ", kernel " +
         to_string(o.kernel_size) + ", " + ops::detail::geometry_string(geometry()) + (o.bias ? "" : ", no bias") +
         ")";
}

template <class T>
std::vector<ParameterInfo> Conv2d<T>::parameters() const {
  const Conv2dOptions& o = options_;
  // PyTorch's fans: the weight's dims 1 and 0 times the kernel's positions.
  const std::size_t kk = o.kernel_size.h * o.kernel_size.w;
  const std::size_t fan_in = o.in_channels / o.groups * kk, fan_out = o.out_channels * kk;
  std::vector<ParameterInfo> p{{"weight",
                                {o.out_channels, o.in_channels / o.groups, o.kernel_size.h, o.kernel_size.w},
                                0,
                                fan_in,
                                fan_out,
                                ParameterRole::weight,
                                o.init}};
  if (o.bias) p.push_back({"bias", {o.out_channels}, weight_size(), fan_in, fan_out, ParameterRole::bias, o.init});
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
  const Size2 e = dilated_kernel(o), p = o.padding;
  if (s.size() != 4 || s[1] != o.in_channels || s[2] + 2 * p.h < e.h || s[3] + 2 * p.w < e.w) return std::nullopt;
  return Shape{s[0], o.out_channels, (s[2] + 2 * p.h - e.h) / o.stride.h + 1, (s[3] + 2 * p.w - e.w) / o.stride.w + 1};
}

template <class T>
void Conv2d<T>::check_input(const ad::Var<T>& input) const {
  const Shape s(input.shape().begin(), input.shape().end());
  if (output_shape(s)) return;
  const Conv2dOptions& o = options_;
  const Size2 e = dilated_kernel(o);
  // One number when the kernel, padding and dilation are the same on both axes.
  const std::string fits =
      e.square() && o.padding.square()
          ? "height and width + 2 * padding >= " + std::to_string(e.h)
          : "height + 2 * " + std::to_string(o.padding.h) + " >= " + std::to_string(e.h) + " and width + 2 * " +
                std::to_string(o.padding.w) + " >= " + std::to_string(e.w);
  throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " + shape_string(s) +
                              ", expected (batch, " + std::to_string(o.in_channels) + ", height, width) with " +
                              fits + (o.dilation == Size2(1) ? "" : " (the kernel's extent with its dilation)"));
}

template <class T>
std::vector<ad::Var<T>> Conv2d<T>::parameter_views(const ad::Var<T>& w) const {
  this->check_parameter_vector("forward", w.size());
  const Conv2dOptions& o = options_;
  std::vector<ad::Var<T>> p{
      ad::view(w, 0, {o.out_channels, o.in_channels / o.groups, o.kernel_size.h, o.kernel_size.w})};
  if (o.bias) p.push_back(ad::view(w, weight_size(), {o.out_channels}));
  return p;
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace curv::nn
