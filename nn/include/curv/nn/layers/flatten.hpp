// curv::nn::Flatten: (N, d₁, …, d_k) → (N, d₁·…·d_k), no parameters.
#pragma once

#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

template <class T>
class Flatten final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "Flatten"; }

  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    if (input.dimension() < 1)
      throw std::invalid_argument("curv::nn::Flatten: input has shape " + shape_string(input.shape()) +
                                  ", expected at least one (batch) axis");
    const std::size_t batch = input.shape()[0];
    const std::size_t rest = batch == 0 ? 0 : input.size() / batch;
    return ad::reshape(input, {batch, rest});
  }
};

extern template class Flatten<float>;
extern template class Flatten<double>;

}  // namespace curv::nn
