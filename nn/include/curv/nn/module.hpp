// curv::nn::Module: a model or layer as a function of one flat parameter
// vector w and an input batch.
//
// A module never owns autodiff state: forward() reads its weights as views of
// the Var w (ad::view: no copy, and the adjoints land in w's), so the
// gradient and H·v of any loss land in one vector of w's layout, and one
// module may run on many tapes (threads) at once. Inside a container, w is
// itself a view of the model's flat vector: forward(w, x) — or, in training,
// forward(w, x, context) (forward_context.hpp) — is a module's only entry point.
//
// Beyond the two pure virtual functions, a module describes its parameters
// (parameters(): name, shape, offset in w, fans) so that users can address
// "conv1.weight" and initialize(seed) can draw a w. Layers override
// parameters(); a user module that does not gets one parameter "weight" of
// length num_parameters().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/autodiff.hpp"
#include "curv/nn/forward_context.hpp"
#include "curv/nn/init.hpp"

namespace curv::nn {

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  // Length of the flat parameter vector this module reads.
  virtual std::size_t num_parameters() const = 0;

  // The output for `input` (batch first) with parameters w, a Var of
  // num_parameters() elements on the input's tape (read it row-major, e.g.
  // through ad::view(w, offset, shape)).
  virtual ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const = 0;

  // The output in a context (forward_context.hpp): training or evaluation,
  // the seed, the epoch, the batch's dataset rows. Modules whose output
  // depends on it (Dropout) and containers (which pass it on to their
  // children) override this one; for every other module it is the form
  // above. Callers that train (the Accumulator) call this one.
  virtual ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input, const ForwardContext& context) const {
    static_cast<void>(context);
    return forward(w, input);
  }

  // What the module is, for error messages: "Linear(784 -> 256)".
  virtual std::string describe() const { return "Module"; }

  // Named parameters in the order they sit in w (offsets relative to this
  // module's w), covering [0, num_parameters()) exactly.
  virtual std::vector<ParameterInfo> parameters() const {
    if (num_parameters() == 0) return {};
    ParameterInfo p;
    p.name = "weight";
    p.shape = {num_parameters()};
    p.fan_in = p.fan_out = num_parameters();
    return {p};
  }

  // A parameter vector drawn from `seed`, each parameter by its own scheme
  // (set per layer through its options), or by `scheme` (except a norm's scale and shift: init.hpp).
  Tensor<T> initialize(std::uint64_t seed) const { return draw(seed, std::nullopt); }
  Tensor<T> initialize(std::uint64_t seed, Init scheme) const { return draw(seed, scheme); }

  // The description of the parameter called `name`; throws listing the names.
  ParameterInfo parameter(std::string_view name) const {
    const std::vector<ParameterInfo> all = parameters();
    for (const ParameterInfo& p : all)
      if (p.name == name) return p;
    std::string names;
    for (const ParameterInfo& p : all) names += (names.empty() ? "" : ", ") + p.name;
    throw std::invalid_argument("curv::nn::Module::parameter: " + describe() + " has no parameter '" +
                                std::string(name) + "' (it has: " + names + ")");
  }

  // A copy of the parameter `name` taken out of w, with its shape.
  Tensor<T> parameter_value(const Tensor<T>& w, std::string_view name) const {
    check_parameter_vector("parameter_value", w.size());
    const ParameterInfo p = parameter(name);
    Tensor<T> out = Tensor<T>::from_shape(p.shape);
    std::copy(w.data() + p.offset, w.data() + p.offset + p.size(), out.data());
    return out;
  }

  // Throws unless w has num_parameters() elements (for forward()s and tools).
  void check_parameter_vector(std::string_view fn, std::size_t size) const {
    if (size != num_parameters())
      throw std::invalid_argument("curv::nn::" + describe() + "::" + std::string(fn) +
                                  ": parameter vector w has " + std::to_string(size) +
                                  " elements, expected num_parameters() = " +
                                  std::to_string(num_parameters()));
  }

 private:
  Tensor<T> draw(std::uint64_t seed, std::optional<Init> scheme) const {
    Tensor<T> w = xt::zeros<T>({num_parameters()});
    std::mt19937_64 rng(seed);
    for (const ParameterInfo& p : parameters())
      fill_parameter<T>(std::span<T>(w.data() + p.offset, p.size()), p, scheme.value_or(p.init), rng);
    return w;
  }
};

}  // namespace curv::nn
