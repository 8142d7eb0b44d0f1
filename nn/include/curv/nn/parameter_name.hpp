// curv::nn::parameter_at: which named parameter, and which element of it, an
// index into the flat parameter vector w is — so that a message about w[i]
// (a non-finite gradient, a bad initial value) can say "fc1.weight[0,300]".
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/nn/module.hpp"

namespace curv::nn {

// One element of a named parameter.
struct ParameterElement {
  std::string name;                // "conv1.weight"
  std::vector<std::size_t> index;  // its place in the parameter's shape, row-major: {2, 0, 1, 3}
  std::size_t flat = 0;            // its index in w

  // "conv1.weight[2,0,1,3]"; a 0-d parameter is its name alone.
  std::string to_string() const {
    if (index.empty()) return name;
    std::string s = name + "[";
    for (std::size_t d = 0; d < index.size(); ++d) {
      if (d) s += ',';
      s += std::to_string(index[d]);
    }
    return s + "]";
  }
};

// The parameter element at w[flat] of `model` (parameters() lays them out);
// throws std::out_of_range when flat is not below num_parameters().
template <class T>
ParameterElement parameter_at(const Module<T>& model, std::size_t flat) {
  if (flat >= model.num_parameters())
    throw std::out_of_range("curv::nn::parameter_at: index " + std::to_string(flat) + ", expected one below " +
                            model.describe() + "'s num_parameters() = " + std::to_string(model.num_parameters()));
  for (const ParameterInfo& p : model.parameters()) {
    if (flat < p.offset || flat - p.offset >= p.size()) continue;
    ParameterElement e{p.name, std::vector<std::size_t>(p.shape.size()), flat};
    std::size_t rest = flat - p.offset;
    for (std::size_t d = p.shape.size(); d-- > 0;) {
      e.index[d] = rest % p.shape[d];
      rest /= p.shape[d];
    }
    return e;
  }
  // parameters() covers [0, num_parameters()) by Module's contract.
  throw std::logic_error("curv::nn::parameter_at: " + model.describe() + "'s parameters() leave w[" +
                         std::to_string(flat) + "] unnamed");
}

}  // namespace curv::nn
