// curv::nn::Tanh, ReLU, Sigmoid: elementwise activations as layers, no
// parameters; the calculus is in the ops they call.
#pragma once

#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

template <class T>
class Tanh final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "Tanh"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::tanh(input);
  }
};

template <class T>
class ReLU final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "ReLU"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::relu(input);
  }
};

template <class T>
class Sigmoid final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "Sigmoid"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::sigmoid(input);
  }
};

extern template class Tanh<float>;
extern template class Tanh<double>;
extern template class ReLU<float>;
extern template class ReLU<double>;
extern template class Sigmoid<float>;
extern template class Sigmoid<double>;

}  // namespace curv::nn
