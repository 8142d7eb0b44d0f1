// A user-defined layer with its own op, written only against curv's public
// API (the example of docs/adding-a-layer.md): ScaledSoftplus, y = a ⊙ softplus(x)
// with one learnable scale per feature.
#include <gtest/gtest.h>

#include <cmath>

#include "harness.hpp"

namespace my {

using curv::Tensor;
namespace ad = curv::ad;
namespace nn = curv::nn;

// softplus: y = log(1 + eˣ), y' = σ(x), y'' = σ(x)(1 − σ(x)).
//   ẏ = σ ẋ;   x̄ += σ ȳ;   x̄̇ += σ ȳ̇ + σ(1 − σ) ẋ ȳ.
template <class T>
class SoftplusOp final : public ad::Op<T> {
 public:
  std::string_view name() const override { return "softplus"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override { return sigmoid(c.input(0)) * c.input_tangent(0); }

  void adjoint(ad::OpContext<T>& c) const override { c.input_adjoint(0) += sigmoid(c.input(0)) * c.adjoint(); }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    const Tensor<T> s = sigmoid(c.input(0));
    Tensor<T>& xbar_dot = c.input_adjoint_tangent(0);
    if (c.has_adjoint_tangent()) xbar_dot += s * c.adjoint_tangent();
    if (c.has_tangent(0)) xbar_dot += s * (T(1) - s) * c.input_tangent(0) * c.adjoint();
  }

 private:
  static Tensor<T> sigmoid(const Tensor<T>& x) { return T(1) / (T(1) + xt::exp(-x)); }
};

template <class T>
ad::Var<T> softplus(const ad::Var<T>& x) {
  // log(1 + eˣ) = max(x, 0) + log(1 + e^{−|x|}), without overflow.
  Tensor<T> y = xt::maximum(x.value(), T(0)) + xt::log1p(xt::exp(-xt::abs(x.value())));
  return x.tape().record(std::make_unique<SoftplusOp<T>>(), {x}, std::move(y));
}

// The layer: input (batch, features); parameter "scale" (features).
template <class T>
class ScaledSoftplus final : public nn::Module<T> {
 public:
  explicit ScaledSoftplus(std::size_t features) : features_(features) {}

  std::size_t num_parameters() const override { return features_; }
  std::string describe() const override { return "ScaledSoftplus(" + std::to_string(features_) + ")"; }

  std::vector<nn::ParameterInfo> parameters() const override {
    return {{"scale", {features_}, 0, features_, features_, nn::ParameterRole::weight, nn::Init::glorot_uniform}};
  }

  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    if (input.dimension() != 2 || input.shape()[1] != features_)
      throw std::invalid_argument("curv::nn::" + describe() + ": input has shape " +
                                  curv::shape_string(input.shape()) + ", expected (batch, " +
                                  std::to_string(features_) + ")");
    return my::softplus(input) * w;  // w (features) broadcasts over the batch; my::, as ADL also finds ad::softplus
  }

 private:
  std::size_t features_;
};

}  // namespace my

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

TEST(UserDefinedLayer, DerivativesMatchFiniteDifferences) {
  const my::ScaledSoftplus<double> layer(3);
  expect_module_derivatives(layer, {layer.initialize(1), randn({4, 3}, 2)});
  expect_float32_matches_float64(my::ScaledSoftplus<float>(3), layer, {layer.initialize(1), randn({4, 3}, 2)});
}

TEST(UserDefinedLayer, ComposesWithBuiltInLayersAndTrainsAsOneVector) {
  Sequential<double> net;
  net.emplace<Linear<double>>("fc1", LinearOptions{4, 3});
  net.emplace<my::ScaledSoftplus<double>>("act", 3);
  net.emplace<Linear<double>>("fc2", LinearOptions{3, 2});
  EXPECT_EQ(net.parameter("act.scale").offset, 15u);
  expect_module_derivatives(net, {net.initialize(3), randn({5, 4}, 4)});

  // A few gradient steps lower a regression loss.
  const Tensor<double> x = randn({8, 4}, 5), t = randn({8, 2}, 6);
  const MeanSquaredError<double> loss;
  auto f = [&](const ad::Var<double>& w) { return loss(net.forward(w, w.tape().constant(x)), t); };
  Tensor<double> w = net.initialize(7);
  const double before = ad::value_and_grad(f, w).value;
  for (int step = 0; step < 20; ++step) w -= 0.1 * ad::value_and_grad(f, w).grad;
  EXPECT_LT(ad::value_and_grad(f, w).value, before);
}

}  // namespace
