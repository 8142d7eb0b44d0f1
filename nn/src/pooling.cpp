// curv::nn::MaxPool2d and AvgPool2d.
#include "curv/nn/layers/pooling.hpp"

#include <stdexcept>

namespace curv::nn {

namespace {

void check_options(const std::string& layer, const Pool2dOptions& o) {
  const Size2 k = o.kernel_size, p = o.padding;
  if (k.h == 0 || k.w == 0)
    throw std::invalid_argument("curv::nn::" + layer + ": kernel_size = " + to_string(k) + ", expected at least 1");
  if (k.h > 256 || k.w > 256)
    throw std::invalid_argument("curv::nn::" + layer + ": kernel_size = " + to_string(k) + ", expected at most 256");
  if (2 * p.h > k.h || 2 * p.w > k.w)
    throw std::invalid_argument("curv::nn::" + layer + ": padding = " + to_string(p) + ", expected at most half of kernel_size = " +
                                to_string(k) + " (PyTorch's rule)");
}

std::string pool_description(const std::string& layer, const Pool2dOptions& o, bool average) {
  return layer + "(" + ops::detail::pool_geometry_string(o.geometry()) +
         (average && !o.count_include_pad ? ", count_include_pad false" : "") + ")";
}

template <class T>
void check_pool_input(const std::string& describe, const ad::Var<T>& input, const Pool2dOptions& o) {
  const auto& s = input.shape();
  const Size2 k = o.kernel_size, p = o.padding;
  if (s.size() == 4 && s[2] + 2 * p.h >= k.h && s[3] + 2 * p.w >= k.w) return;
  // One number when the window and the padding are square and there is no padding.
  const std::string fits = k.square() && p == Size2(0)
                               ? "height, width >= " + std::to_string(k.h)
                               : "height + 2 * " + std::to_string(p.h) + " >= " + std::to_string(k.h) +
                                     " and width + 2 * " + std::to_string(p.w) + " >= " + std::to_string(k.w);
  throw std::invalid_argument("curv::nn::" + describe + ": input has shape " + shape_string(s) +
                              ", expected (batch, channels, height, width) with " + fits);
}

}  // namespace

template <class T>
MaxPool2d<T>::MaxPool2d(Pool2dOptions options) : options_(options) {
  check_options("MaxPool2d", options);
}

template <class T>
std::string MaxPool2d<T>::describe() const {
  return pool_description("MaxPool2d", options_, false);
}

template <class T>
ad::Var<T> MaxPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_pool_input(describe(), input, options_);
  return ops::max_pool2d(input, options_.geometry());
}

template <class T>
AvgPool2d<T>::AvgPool2d(Pool2dOptions options) : options_(options) {
  check_options("AvgPool2d", options);
}

template <class T>
std::string AvgPool2d<T>::describe() const {
  return pool_description("AvgPool2d", options_, true);
}

template <class T>
ad::Var<T> AvgPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_pool_input(describe(), input, options_);
  return ops::avg_pool2d(input, options_.geometry());
}

template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template class AvgPool2d<double>;

}  // namespace curv::nn
