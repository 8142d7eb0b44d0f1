// GELU (both forms), SiLU, LeakyReLU, Softplus and ELU as layers: their
// derivatives through the test kit in float64 and float32 against float64,
// inside a model whose Linear layers make the check joint, and option checks.
#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace curv::nn::testing {
namespace {

// Linear(4 -> 5), the activation, Linear(5 -> 2): the activation meets a
// tangent and a nonzero ȳ̇ from both sides.
template <class T, class Act>
std::shared_ptr<Sequential<T>> around(const Act& act) {
  auto net = std::make_shared<Sequential<T>>();
  net->template emplace<Linear<T>>("fc1", LinearOptions{4, 5});
  net->add("act", std::make_shared<Act>(act));
  net->template emplace<Linear<T>>("fc2", LinearOptions{5, 2});
  return net;
}

template <template <class> class Layer, class... Options>
void expect_activation_derivatives(Options... options) {
  const Layer<double> act64(options...);
  const Layer<float> act32(options...);
  const Problem alone{Tensor<double>::from_shape({0}), randn({3, 5}, 11, 2.0)};
  expect_module_derivatives(act64, alone);
  expect_float32_matches_float64(act32, act64, alone);
  const auto net64 = around<double>(act64);
  const Problem inside{net64->initialize(12), randn({3, 4}, 13, 2.0)};
  expect_module_derivatives(*net64, inside);
  expect_float32_matches_float64(*around<float>(act32), *net64, inside);
}

TEST(Activations, GeluErfDerivativesMatchFiniteDifferences) { expect_activation_derivatives<GELU>(GeluForm::erf); }
TEST(Activations, GeluTanhDerivativesMatchFiniteDifferences) { expect_activation_derivatives<GELU>(GeluForm::tanh); }
TEST(Activations, SiluDerivativesMatchFiniteDifferences) { expect_activation_derivatives<SiLU>(); }
TEST(Activations, LeakyReluDerivativesMatchFiniteDifferences) {
  expect_activation_derivatives<LeakyReLU>(LeakyReLUOptions{0.2});
}
TEST(Activations, SoftplusDerivativesMatchFiniteDifferencesOnBothSidesOfTheThreshold) {
  expect_activation_derivatives<Softplus>(SoftplusOptions{2.0, 1.5});  // βx > 1.5 for some inputs
}
TEST(Activations, EluDerivativesMatchFiniteDifferences) { expect_activation_derivatives<ELU>(ELUOptions{0.7}); }

TEST(Activations, ValuesMatchTheirDefinitions) {
  ad::Tape<double> tape;
  const Tensor<double> x = {-3.0, -0.5, 0.0, 0.4, 2.5, 30.0};
  const ad::Var<double> v = tape.constant(x), none = tape.constant(Tensor<double>::from_shape({0}));
  const Tensor<double> gelu = GELU<double>().forward(none, v).value();
  const Tensor<double> gelu_tanh = GELU<double>(GeluForm::tanh).forward(none, v).value();
  const Tensor<double> silu = SiLU<double>().forward(none, v).value();
  const Tensor<double> leaky = LeakyReLU<double>(LeakyReLUOptions{0.1}).forward(none, v).value();
  const Tensor<double> softplus = Softplus<double>(SoftplusOptions{2.0, 20.0}).forward(none, v).value();
  const Tensor<double> elu = ELU<double>(ELUOptions{0.5}).forward(none, v).value();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double a = x(i);
    EXPECT_NEAR(gelu(i), 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))), 1e-15) << a;
    EXPECT_NEAR(gelu_tanh(i), 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a))), 1e-15);
    EXPECT_NEAR(silu(i), a / (1 + std::exp(-a)), 1e-15) << a;
    EXPECT_EQ(leaky(i), a > 0 ? a : 0.1 * a) << a;
    EXPECT_NEAR(softplus(i), 2 * a > 20 ? a : std::log(1 + std::exp(2 * a)) / 2, 1e-14) << a;
    EXPECT_NEAR(elu(i), a > 0 ? a : 0.5 * (std::exp(a) - 1), 1e-15) << a;
  }
  // The tanh form approximates the erf form to 1e-3 (Hendrycks & Gimpel).
  EXPECT_LT(relative_error(gelu_tanh, gelu), 1e-3);
}

TEST(Activations, PropagateNaN) {
  ad::Tape<double> tape;
  const ad::Var<double> v = tape.constant(Tensor<double>{std::nan("")}), none = tape.constant(Tensor<double>::from_shape({0}));
  EXPECT_TRUE(std::isnan(GELU<double>().forward(none, v).value()(0)));
  EXPECT_TRUE(std::isnan(SiLU<double>().forward(none, v).value()(0)));
  EXPECT_TRUE(std::isnan(LeakyReLU<double>().forward(none, v).value()(0)));
  EXPECT_TRUE(std::isnan(Softplus<double>().forward(none, v).value()(0)));
  EXPECT_TRUE(std::isnan(ELU<double>().forward(none, v).value()(0)));
}

TEST(Activations, RefuseBadOptionsNamingTheValue) {
  EXPECT_NE(error_of([] { Softplus<double>(SoftplusOptions{0.0, 20.0}); })
                .find("curv::nn::Softplus: beta = 0.000000, expected a finite beta > 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { ELU<double>(ELUOptions{INFINITY}); }).find("curv::nn::ELU: alpha = inf"), std::string::npos);
}

}  // namespace
}  // namespace curv::nn::testing
