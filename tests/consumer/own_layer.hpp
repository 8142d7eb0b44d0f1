// A user's own op and layers, in one header, using only curv's public API:
// the op silu (all four rules; curv has ad::silu too, this one shows how an
// op is written outside curv), a SiLU layer running it, and a LayerNorm
// written from existing ops. own_layer.cpp checks them with <curv/testing.hpp>;
// docs/adding-a-layer.md and docs/adding-an-op.md show this file.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>

#include <curv/nn.hpp>

namespace my {

namespace ad = curv::ad;
namespace nn = curv::nn;
using curv::Tensor;

// silu: y = x σ(x),  y' = σ (1 + x (1 − σ)),  y'' = σ (1 − σ) (2 + x (1 − 2σ)).
//   ẏ = y' ẋ;   x̄ += y' ȳ;   x̄̇ += y' ȳ̇ + y'' ẋ ȳ.
template <class T>
class SiluOp final : public ad::Op<T> {
 public:
  std::string_view name() const override { return "silu"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override { return first(c.input(0)) * c.input_tangent(0); }

  void adjoint(ad::OpContext<T>& c) const override { c.input_adjoint(0) += first(c.input(0)) * c.adjoint(); }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const Tensor<T>& x = c.input(0);
    Tensor<T>& xbar_dot = c.input_adjoint_tangent(0);
    if (c.has_adjoint_tangent()) xbar_dot += first(x) * c.adjoint_tangent();
    if (c.has_tangent(0)) {
      const Tensor<T> s = sigmoid(x);
      xbar_dot += s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s)) * c.input_tangent(0) * c.adjoint();
    }
  }

 private:
  static Tensor<T> sigmoid(const Tensor<T>& x) { return T(1) / (T(1) + xt::exp(-x)); }
  static Tensor<T> first(const Tensor<T>& x) {
    const Tensor<T> s = sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  }
};

template <class T>
ad::Var<T> silu(const ad::Var<T>& x) {
  Tensor<T> y = x.value() / (T(1) + xt::exp(-x.value()));
  return x.tape().record(std::make_unique<SiluOp<T>>(), {x}, std::move(y));
}

// SiLU as a layer without parameters.
template <class T>
class SiLU final : public nn::Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "SiLU"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return my::silu(input);  // qualified: ADL on ad::Var would also find curv::ad::silu
  }
};

// LayerNorm over the features of (batch, features):
// y = (1 + gain) ⊙ (x − μ) / √(σ² + ε) + bias, μ and σ² per example. The
// scale is stored as 1 + gain so that a zero initializer means identity.
template <class T>
class LayerNorm final : public nn::Module<T> {
 public:
  explicit LayerNorm(std::size_t features, double eps = 1e-5) : features_(features), eps_(eps) {}

  std::size_t num_parameters() const override { return 2 * features_; }
  std::string describe() const override { return "LayerNorm(" + std::to_string(features_) + ")"; }

  std::vector<nn::ParameterInfo> parameters() const override {
    return {{"gain", {features_}, 0, features_, features_, nn::ParameterRole::weight, nn::Init::zeros},
            {"bias", {features_}, features_, features_, features_, nn::ParameterRole::bias, nn::Init::zeros}};
  }

  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    if (input.dimension() != 2 || input.shape()[1] != features_)
      throw std::invalid_argument("my::" + describe() + ": input has shape " + curv::shape_string(input.shape()) +
                                  ", expected (batch, " + std::to_string(features_) + ")");
    const curv::Shape column{input.shape()[0], 1};
    const ad::Var<T> centered = input - ad::reshape(ad::mean(input, 1), column);
    const ad::Var<T> variance = ad::reshape(ad::mean(ad::square(centered), 1), column);
    const ad::Var<T> normalized = centered / ad::sqrt(variance + T(eps_));
    return normalized * (ad::view(w, 0, {features_}) + T(1)) + ad::view(w, features_, {features_});
  }

 private:
  std::size_t features_;
  double eps_;
};

}  // namespace my
