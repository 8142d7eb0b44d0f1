// curv::nn::LayerNorm and GroupNorm.
#include "curv/nn/layers/normalization.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace curv::nn {

namespace {

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

void check_eps(const std::string& layer, double eps) {
  if (!(eps > 0) || !std::isfinite(eps))
    throw std::invalid_argument("curv::nn::" + layer + ": eps = " + number(eps) + ", expected a finite eps > 0");
}

// Each row of x (rows, n) minus its mean, over the square root of its biased
// variance plus eps: x̂ = (x − μ) / √(σ² + ε), σ² = mean((x − μ)²).
template <class T>
ad::Var<T> normalize_rows(const ad::Var<T>& x, double eps) {
  const std::size_t rows = x.shape()[0];
  const ad::Var<T> centered = x - ad::reshape(ad::mean(x, 1), {rows, 1});
  const ad::Var<T> variance = ad::reshape(ad::mean(ad::square(centered), 1), {rows, 1});
  return centered / ad::sqrt(variance + static_cast<T>(eps));
}

std::size_t product(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

}  // namespace

template <class T>
LayerNorm<T>::LayerNorm(LayerNormOptions options) : options_(std::move(options)) {
  const Shape& s = options_.normalized_shape;
  if (s.empty())
    throw std::invalid_argument("curv::nn::LayerNorm: normalized_shape = (), expected at least one dimension");
  for (std::size_t d : s)
    if (d == 0)
      throw std::invalid_argument("curv::nn::LayerNorm: normalized_shape = " + shape_string(s) +
                                  ", expected every dimension at least 1");
  check_eps("LayerNorm", options_.eps);
  features_ = product(s);
}

template <class T>
std::size_t LayerNorm<T>::num_parameters() const {
  if (!options_.elementwise_affine) return 0;
  return options_.bias ? 2 * features_ : features_;
}

template <class T>
std::string LayerNorm<T>::describe() const {
  std::string d = "LayerNorm(" + shape_string(options_.normalized_shape);
  if (options_.eps != 1e-5) d += ", eps=" + number(options_.eps);
  if (!options_.elementwise_affine)
    d += ", no affine";
  else if (!options_.bias)
    d += ", no bias";
  return d + ")";
}

template <class T>
std::vector<ParameterInfo> LayerNorm<T>::parameters() const {
  if (!options_.elementwise_affine) return {};
  // fan_in = 0: the scale and shift are per feature and sum nothing, so no
  // scheme draws them (init.hpp): the layer starts as the plain normalization.
  const Shape& s = options_.normalized_shape;
  std::vector<ParameterInfo> p{{"weight", s, 0, 0, 0, ParameterRole::weight, Init::ones}};
  if (options_.bias) p.push_back({"bias", s, features_, 0, 0, ParameterRole::bias, Init::zeros});
  return p;
}

template <class T>
ad::Var<T> LayerNorm<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  const Shape& ns = options_.normalized_shape;
  const Shape s(input.shape().begin(), input.shape().end());
  bool fits = s.size() >= ns.size();
  for (std::size_t d = 0; fits && d < ns.size(); ++d) fits = s[s.size() - ns.size() + d] == ns[d];
  if (!fits) {
    std::string expected = "(…";
    for (std::size_t d : ns) expected += ", " + std::to_string(d);
    throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " + shape_string(s) +
                                ", expected " + expected + "): trailing dimensions equal to normalized_shape " +
                                shape_string(ns));
  }
  const ad::Var<T> normalized =
      ad::reshape(normalize_rows(ad::reshape(input, {input.size() / features_, features_}), options_.eps), s);
  if (!options_.elementwise_affine) return normalized;
  const ad::Var<T> scaled = normalized * ad::view(w, 0, ns);
  if (!options_.bias) return scaled;
  return scaled + ad::view(w, features_, ns);
}

template <class T>
GroupNorm<T>::GroupNorm(GroupNormOptions options) : options_(options) {
  if (options_.num_groups == 0 || options_.num_channels == 0 || options_.num_channels % options_.num_groups != 0)
    throw std::invalid_argument("curv::nn::GroupNorm: num_groups = " + std::to_string(options_.num_groups) +
                                " and num_channels = " + std::to_string(options_.num_channels) +
                                ", expected both at least 1 and num_channels divisible by num_groups");
  check_eps("GroupNorm", options_.eps);
}

template <class T>
std::size_t GroupNorm<T>::num_parameters() const {
  return options_.affine ? 2 * options_.num_channels : 0;
}

template <class T>
std::string GroupNorm<T>::describe() const {
  std::string d = "GroupNorm(" + std::to_string(options_.num_groups) + " groups, " +
                  std::to_string(options_.num_channels) + " channels";
  if (options_.eps != 1e-5) d += ", eps=" + number(options_.eps);
  if (!options_.affine) d += ", no affine";
  return d + ")";
}

template <class T>
std::vector<ParameterInfo> GroupNorm<T>::parameters() const {
  if (!options_.affine) return {};
  const std::size_t c = options_.num_channels;
  return {{"weight", {c}, 0, 0, 0, ParameterRole::weight, Init::ones},  // fan_in = 0: see LayerNorm
          {"bias", {c}, c, 0, 0, ParameterRole::bias, Init::zeros}};
}

template <class T>
ad::Var<T> GroupNorm<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  const Shape s(input.shape().begin(), input.shape().end());
  const std::size_t c = options_.num_channels, groups = options_.num_groups;
  const std::size_t positions = s.size() >= 2 ? product(Shape(s.begin() + 2, s.end())) : 0;
  if (s.size() < 2 || s[1] != c || positions == 0)
    throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " + shape_string(s) +
                                ", expected (batch, " + std::to_string(c) +
                                ", …): channels on axis 1 and no empty trailing axis");
  const ad::Var<T> normalized =
      ad::reshape(normalize_rows(ad::reshape(input, {s[0] * groups, c / groups * positions}), options_.eps), s);
  if (!options_.affine) return normalized;
  Shape per_channel(s.size() - 1, 1);  // (C, 1, …, 1): broadcasts over the batch and the positions
  per_channel[0] = c;
  return normalized * ad::view(w, 0, per_channel) + ad::view(w, c, per_channel);
}

template class LayerNorm<float>;
template class LayerNorm<double>;
template class GroupNorm<float>;
template class GroupNorm<double>;

}  // namespace curv::nn
