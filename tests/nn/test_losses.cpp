// SoftmaxCrossEntropy and MeanSquaredError: values, conventions, target
// validation, derivatives against finite differences, and their output
// Hessian products against the tape's own H·v.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

const Tensor<double> labels = {2, 0, 1, 2};

TEST(SoftmaxCrossEntropy, ValueIsMeanNegativeLogLikelihood) {
  const Tensor<double> z = randn({4, 3}, 1);
  double expected = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    double denom = 0;
    for (std::size_t j = 0; j < 3; ++j) denom += std::exp(z(i, j));
    expected += -std::log(std::exp(z(i, static_cast<std::size_t>(labels(i)))) / denom);
  }
  ad::Tape<double> tape;
  const SoftmaxCrossEntropy<double> loss;
  EXPECT_NEAR(loss.forward(tape.constant(z), labels, Reduction::sum).value()(), expected, 1e-12);
  EXPECT_NEAR(loss(tape.constant(z), labels).value()(), expected / 4, 1e-12);
}

TEST(SoftmaxCrossEntropy, IsStableForHugeLogits) {
  const Tensor<float> z = {{1000.0f, -1000.0f, 0.0f}, {-5e4f, 5e4f, 5e4f}};
  const Tensor<float> t = {0, 0};
  const auto r = ad::value_and_grad([&](const ad::Var<float>& x) { return SoftmaxCrossEntropy<float>()(x, t); }, z);
  EXPECT_TRUE(std::isfinite(r.value));
  EXPECT_NEAR(r.value, 0.5f * (0.0f + 1e5f + std::log(2.0f)), 1.0f);
  EXPECT_TRUE(xt::all(xt::isfinite(r.grad)));
}

TEST(SoftmaxCrossEntropy, DerivativesMatchFiniteDifferences) {
  for (Reduction r : {Reduction::sum, Reduction::mean}) {
    expect_checks([&](const ad::Var<double>& z) {
      // Composed with tanh so that the loss's second-order rule meets a nonzero ȳ and ȳ̇.
      return ad::tanh(SoftmaxCrossEntropy<double>().forward(z, labels, r)) * 3.0;
    }, randn({4, 3}, 2), 3);
  }
}

TEST(SoftmaxCrossEntropy, OutputHessianProductIsTheTapesHessian) {
  const SoftmaxCrossEntropy<double> loss;
  const Tensor<double> z = randn({4, 3}, 4), u = randn({4, 3}, 5);
  const auto exact = ad::hvp([&](const ad::Var<double>& x) { return loss.forward(x, labels, Reduction::sum); }, z, u);
  EXPECT_LT(relative_error(loss.output_hessian_product(z, labels, u), exact.hv), 1e-14);
}

TEST(SoftmaxCrossEntropy, ValidatesTargets) {
  ad::Tape<double> tape;
  const ad::Var<double> z = tape.constant(xt::zeros<double>({3, 4}));
  const SoftmaxCrossEntropy<double> loss;
  std::string msg = error_of([&] { loss(z, Tensor<double>{0, 1.5, 2}); });
  EXPECT_NE(msg.find("targets[1] = 1.5"), std::string::npos) << msg;
  msg = error_of([&] { loss(z, Tensor<double>{0, 1, 4}); });
  EXPECT_NE(msg.find("targets[2] = 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[0, 4)"), std::string::npos) << msg;
  msg = error_of([&] { loss(z, Tensor<double>{0, -1, 2}); });
  EXPECT_NE(msg.find("targets[1] = -1"), std::string::npos) << msg;
  msg = error_of([&] { loss(z, Tensor<double>{0, 1}); });
  EXPECT_NE(msg.find("(2,)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3,)"), std::string::npos) << msg;
  msg = error_of([&] { loss(tape.constant(xt::zeros<double>({3})), Tensor<double>{0, 1, 2}); });
  EXPECT_NE(msg.find("(batch, classes)"), std::string::npos) << msg;
}

TEST(MeanSquaredError, FollowsPyTorchMSELoss) {
  const Tensor<double> y = {{1, 2}, {3, 4}}, t = {{0, 0}, {3, 6}};
  ad::Tape<double> tape;
  const MeanSquaredError<double> loss;
  EXPECT_DOUBLE_EQ(loss.forward(tape.constant(y), t, Reduction::sum).value()(), 1 + 4 + 0 + 4);
  EXPECT_DOUBLE_EQ(loss(tape.constant(y), t).value()(), 9.0 / 4);
  EXPECT_THROW(loss(tape.constant(y), Tensor<double>{1, 2}), std::invalid_argument);
}

TEST(MeanSquaredError, DerivativesAndOutputHessian) {
  const MeanSquaredError<double> loss;
  const Tensor<double> t = randn({3, 2}, 6);
  for (Reduction r : {Reduction::sum, Reduction::mean})
    expect_checks([&](const ad::Var<double>& y) { return ad::tanh(loss.forward(y, t, r)); }, randn({3, 2}, 7), 8);
  const Tensor<double> y = randn({3, 2}, 9), u = randn({3, 2}, 10);
  const auto exact = ad::hvp([&](const ad::Var<double>& x) { return loss.forward(x, t, Reduction::sum); }, y, u);
  EXPECT_LT(relative_error(loss.output_hessian_product(y, t, u), exact.hv), 1e-14);
}

}  // namespace
