// curv::nn::Linear.
#include "curv/nn/layers/linear.hpp"

#include <stdexcept>

namespace curv::nn {

template <class T>
Linear<T>::Linear(LinearOptions options) : options_(options) {
  if (options.in_features == 0 || options.out_features == 0)
    throw std::invalid_argument("curv::nn::Linear: in_features = " + std::to_string(options.in_features) +
                                " and out_features = " + std::to_string(options.out_features) +
                                ", expected both at least 1");
}

template <class T>
std::size_t Linear<T>::num_parameters() const {
  return options_.out_features * options_.in_features + (options_.bias ? options_.out_features : 0);
}

template <class T>
std::string Linear<T>::describe() const {
  return "Linear(" + std::to_string(options_.in_features) + " -> " + std::to_string(options_.out_features) +
         (options_.bias ? "" : ", no bias") + ")";
}

template <class T>
std::vector<ParameterInfo> Linear<T>::parameters() const {
  const std::size_t in = options_.in_features, out = options_.out_features;
  std::vector<ParameterInfo> p{{"weight", {out, in}, 0, in, out, ParameterRole::weight, options_.init}};
  if (options_.bias) p.push_back({"bias", {out}, out * in, in, out, ParameterRole::bias, options_.init});
  return p;
}

template <class T>
ad::Var<T> Linear<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  const std::size_t in = options_.in_features, out = options_.out_features;
  if (input.dimension() != 2 || input.shape()[1] != in)
    throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " + shape_string(input.shape()) +
                                ", expected (batch, " + std::to_string(in) + ")");
  const ad::Var<T> weight = ad::view(w, 0, {out, in});
  if (!options_.bias) return ops::linear(input, weight);
  return ops::linear(input, weight, ad::view(w, out * in, {out}));
}

template class Linear<float>;
template class Linear<double>;

}  // namespace curv::nn
