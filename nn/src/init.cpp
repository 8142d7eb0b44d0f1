// Initialization schemes and curv's own random transforms.
#include "curv/nn/init.hpp"

#include <cmath>
#include <numbers>

namespace curv::nn {

std::string to_string(Init init) {
  switch (init) {
    case Init::pytorch_default: return "pytorch_default";
    case Init::glorot_uniform: return "glorot_uniform";
    case Init::glorot_normal: return "glorot_normal";
    case Init::he_uniform: return "he_uniform";
    case Init::he_normal: return "he_normal";
    case Init::zeros: return "zeros";
    case Init::ones: return "ones";
    case Init::normal: return "normal";
  }
  return "unknown";
}

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

template <class T>
void fill_parameter(std::span<T> out, const ParameterInfo& p, Init scheme, std::mt19937_64& rng) {
  const double fan_in = static_cast<double>(p.fan_in > 0 ? p.fan_in : 1);
  const double fan_out = static_cast<double>(p.fan_out > 0 ? p.fan_out : 1);
  auto uniform = [&](double bound) {
    for (T& x : out) x = static_cast<T>(bound * (2.0 * uniform01(rng) - 1.0));
  };
  auto normal = [&](double stddev) {
    for (T& x : out) x = static_cast<T>(stddev * standard_normal(rng));
  };
  if (p.role == ParameterRole::bias && (scheme != Init::pytorch_default || p.fan_in == 0)) scheme = Init::zeros;
  if (p.init == Init::ones) scheme = Init::ones;
  switch (scheme) {
    case Init::pytorch_default: uniform(1.0 / std::sqrt(fan_in)); break;
    case Init::glorot_uniform: uniform(std::sqrt(6.0 / (fan_in + fan_out))); break;
    case Init::glorot_normal: normal(std::sqrt(2.0 / (fan_in + fan_out))); break;
    case Init::he_uniform: uniform(std::sqrt(6.0 / fan_in)); break;
    case Init::he_normal: normal(std::sqrt(2.0 / fan_in)); break;
    case Init::zeros:
      for (T& x : out) x = T(0);
      break;
    case Init::ones:
      for (T& x : out) x = T(1);
      break;
    case Init::normal: normal(1.0); break;
  }
}

template void fill_parameter<float>(std::span<float>, const ParameterInfo&, Init, std::mt19937_64&);
template void fill_parameter<double>(std::span<double>, const ParameterInfo&, Init, std::mt19937_64&);

}  // namespace curv::nn
