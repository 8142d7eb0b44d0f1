// Parameter initialization from an explicit seed: the schemes, the description
// of a parameter they need (fans, role), and the random transforms.
//
// Draws come from std::mt19937_64 through curv's own uniform and normal
// transforms (not <random>'s distributions), so a seed gives the same
// parameters on every standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>

#include "curv/autodiff/tensor.hpp"

namespace curv::nn {

// How a weight is drawn (biases: see fill_parameter).
//   pytorch_default  U(−1/√fan_in, 1/√fan_in)            (torch.nn.Linear / Conv2d)
//   glorot_uniform   U(−a, a), a = √(6 / (fan_in + fan_out))
//   glorot_normal    N(0, 2 / (fan_in + fan_out))
//   he_uniform       U(−a, a), a = √(6 / fan_in)
//   he_normal        N(0, 2 / fan_in)
//   zeros            0
//   ones             1: a normalization layer's scale. A parameter whose own
//                    init is ones keeps it under initialize(seed, scheme):
//                    starting as the plain normalization is part of those
//                    layers' definition, and a drawn scale would not be.
//   normal           N(0, 1)                              (torch.nn.Embedding)
enum class Init { pytorch_default, glorot_uniform, glorot_normal, he_uniform, he_normal, zeros, ones, normal };

std::string to_string(Init init);

enum class ParameterRole { weight, bias };

// One named parameter of a module: where it sits in the flat vector w and
// what initialization needs to know about it.
struct ParameterInfo {
  std::string name;        // "conv1.weight"
  Shape shape;             // (out_channels, in_channels, k, k)
  std::size_t offset = 0;  // first element in w
  std::size_t fan_in = 0;
  std::size_t fan_out = 0;
  ParameterRole role = ParameterRole::weight;
  Init init = Init::pytorch_default;

  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

// Uniform on [0, 1) with 53 (double) random bits.
double uniform01(std::mt19937_64& rng);
// Standard normal (Box–Muller, both values of a pair are not cached: one
// normal costs two uniforms, which keeps the stream position obvious).
double standard_normal(std::mt19937_64& rng);

// Fills `out` (the parameter's slice of w) by `scheme`. A bias follows PyTorch
// (U(±1/√fan_in)) under pytorch_default and is zero under every other scheme;
// a bias without a fan-in (fan_in = 0: a normalization layer's shift, which
// sums nothing) is zero under every scheme, as PyTorch starts it. A parameter
// whose own init (p.init) is ones is ones whatever `scheme` says.
template <class T>
void fill_parameter(std::span<T> out, const ParameterInfo& p, Init scheme, std::mt19937_64& rng);

extern template void fill_parameter<float>(std::span<float>, const ParameterInfo&, Init, std::mt19937_64&);
extern template void fill_parameter<double>(std::span<double>, const ParameterInfo&, Init, std::mt19937_64&);

}  // namespace curv::nn
