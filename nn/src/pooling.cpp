// curv::nn::MaxPool2d and AvgPool2d.
#include "curv/nn/layers/pooling.hpp"

#include <stdexcept>

namespace curv::nn {

namespace {

void check_options(const std::string& layer, const Pool2dOptions& o) {
  if (o.kernel_size == 0)
    throw std::invalid_argument("curv::nn::" + layer + ": kernel_size = 0, expected at least 1");
}

std::string pool_description(const std::string& layer, const Pool2dOptions& o) {
  return layer + "(kernel " + std::to_string(o.kernel_size) + ", stride " +
         std::to_string(o.stride == 0 ? o.kernel_size : o.stride) + ")";
}

template <class T>
void check_pool_input(const std::string& describe, const ad::Var<T>& input, const Pool2dOptions& o) {
  const auto& s = input.shape();
  if (s.size() != 4 || s[2] < o.kernel_size || s[3] < o.kernel_size)
    throw std::invalid_argument("curv::nn::" + describe + ": input has shape " + shape_string(s) +
                                ", expected (batch, channels, height, width) with height, width >= " +
                                std::to_string(o.kernel_size));
}

}  // namespace

template <class T>
MaxPool2d<T>::MaxPool2d(Pool2dOptions options) : options_(options) {
  check_options("MaxPool2d", options);
}

template <class T>
std::string MaxPool2d<T>::describe() const {
  return pool_description("MaxPool2d", options_);
}

template <class T>
ad::Var<T> MaxPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_pool_input(describe(), input, options_);
  return ops::max_pool2d(input, ops::Pool2dGeometry{options_.kernel_size, options_.stride});
}

template <class T>
AvgPool2d<T>::AvgPool2d(Pool2dOptions options) : options_(options) {
  check_options("AvgPool2d", options);
}

template <class T>
std::string AvgPool2d<T>::describe() const {
  return pool_description("AvgPool2d", options_);
}

template <class T>
ad::Var<T> AvgPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  check_pool_input(describe(), input, options_);
  return ops::avg_pool2d(input, ops::Pool2dGeometry{options_.kernel_size, options_.stride});
}

template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template class AvgPool2d<double>;

}  // namespace curv::nn
