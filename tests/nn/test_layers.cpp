// Every layer's gradient, JVP and H·v (with respect to parameters, input and
// both) against finite differences in float64, float32 against float64, and
// Conv2d and the pools against direct nested-loop references.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

// y[n, o, i, j] = b[o] + Σ_{c, a, b} W[o, c, a, b] x[n, c, i·s − p + a, j·s − p + b].
Tensor<double> reference_conv(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>& b,
                              std::size_t s, std::size_t p) {
  const std::size_t n = x.shape(0), c = x.shape(1), h = x.shape(2), wd = x.shape(3);
  const std::size_t o = w.shape(0), k = w.shape(2);
  const std::size_t oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1;
  Tensor<double> y = xt::zeros<double>({n, o, oh, ow});
  for (std::size_t in = 0; in < n; ++in)
    for (std::size_t io = 0; io < o; ++io)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          double acc = b(io);
          for (std::size_t ic = 0; ic < c; ++ic)
            for (std::size_t a = 0; a < k; ++a)
              for (std::size_t bb = 0; bb < k; ++bb) {
                const long r = static_cast<long>(i * s + a) - static_cast<long>(p);
                const long q = static_cast<long>(j * s + bb) - static_cast<long>(p);
                if (r < 0 || q < 0 || r >= static_cast<long>(h) || q >= static_cast<long>(wd)) continue;
                acc += w(io, ic, a, bb) * x(in, ic, static_cast<std::size_t>(r), static_cast<std::size_t>(q));
              }
          y(in, io, i, j) = acc;
        }
  return y;
}

struct ConvCase {
  std::size_t in, out, k, stride, padding, h, w;
};

class Conv2dCases : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dCases, MatchesNestedLoopReference) {
  const ConvCase cc = GetParam();
  const Conv2d<double> conv({cc.in, cc.out, cc.k, cc.stride, cc.padding});
  const Problem pr = problem(conv, {2, cc.in, cc.h, cc.w}, 11);
  ad::Tape<double> tape;
  const Tensor<double> y = conv.forward(tape.constant(pr.w), tape.constant(pr.x)).value();
  const Tensor<double> ref = reference_conv(pr.x, conv.parameter_value(pr.w, "weight"),
                                            conv.parameter_value(pr.w, "bias"), cc.stride, cc.padding);
  ASSERT_EQ(y.shape(), ref.shape());
  EXPECT_LT(relative_error(y, ref), 1e-13);
}

TEST_P(Conv2dCases, DerivativesMatchFiniteDifferences) {
  const ConvCase cc = GetParam();
  const Conv2d<double> conv({cc.in, cc.out, cc.k, cc.stride, cc.padding});
  expect_module_derivatives(conv, problem(conv, {2, cc.in, cc.h, cc.w}, 12));
}

TEST_P(Conv2dCases, Float32MatchesFloat64) {
  const ConvCase cc = GetParam();
  const Conv2dOptions o{cc.in, cc.out, cc.k, cc.stride, cc.padding};
  const Conv2d<double> c64(o);
  expect_float32_matches_float64(Conv2d<float>(o), c64, problem(c64, {2, cc.in, cc.h, cc.w}, 13));
}

INSTANTIATE_TEST_SUITE_P(Geometries, Conv2dCases,
                         ::testing::Values(ConvCase{1, 2, 3, 1, 1, 5, 5},    // 'same'
                                           ConvCase{2, 3, 3, 1, 0, 5, 6},    // 'valid', non-square input
                                           ConvCase{2, 2, 3, 2, 1, 6, 5},    // stride 2 with padding
                                           ConvCase{3, 2, 2, 2, 0, 5, 5},    // even kernel, stride drops a row
                                           ConvCase{1, 2, 5, 1, 2, 4, 4},    // kernel wider than the input
                                           ConvCase{2, 1, 1, 1, 0, 3, 3}));  // 1×1

TEST(Conv2d, WithoutBias) {
  const Conv2d<double> conv({2, 3, 3, 1, 1, false});
  EXPECT_EQ(conv.num_parameters(), 3u * 2 * 9);
  expect_module_derivatives(conv, problem(conv, {2, 2, 4, 4}, 14));
}

TEST(Linear, Derivatives) {
  const Linear<double> fc(4, 3);
  expect_module_derivatives(fc, problem(fc, {5, 4}, 21));
  const Linear<double> no_bias({4, 3, false});
  expect_module_derivatives(no_bias, problem(no_bias, {2, 4}, 22));
}

TEST(Linear, Float32MatchesFloat64) {
  const Linear<double> fc(6, 5);
  expect_float32_matches_float64(Linear<float>(6, 5), fc, problem(fc, {4, 6}, 23));
}

TEST(Linear, ComputesXWTransposePlusB) {
  const Linear<double> fc(2, 3);
  const Tensor<double> w = {1, 2, 3, 4, 5, 6, 0.5, -1, 2};  // W = [[1,2],[3,4],[5,6]], b = (0.5, −1, 2)
  ad::Tape<double> tape;
  const Tensor<double> x = {{1.0, -1.0}};
  const Tensor<double> y = fc.forward(tape.constant(w), tape.constant(x)).value();
  const Tensor<double> expected = {{-0.5, -2.0, 1.0}};
  EXPECT_EQ(y, expected);
}

// Pooling inputs are spread out so that no finite-difference step crosses a tie.
Tensor<double> distinct_input(const Shape& shape, std::uint64_t seed) {
  Tensor<double> x = randn(shape, seed);
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] += 0.05 * static_cast<double>((i * 37) % 101);
  return x;
}

TEST(MaxPool2d, NonOverlappingAndOverlappingWindows) {
  for (const Pool2dOptions o : {Pool2dOptions{2, 2}, Pool2dOptions{3, 1}, Pool2dOptions{3, 2}}) {
    SCOPED_TRACE(MaxPool2d<double>(o).describe());
    const MaxPool2d<double> pool(o);
    expect_module_derivatives(pool, {Tensor<double>::from_shape({0}), distinct_input({2, 2, 7, 6}, 31)});
    expect_float32_matches_float64(MaxPool2d<float>(o), pool,
                                   {Tensor<double>::from_shape({0}), distinct_input({2, 2, 7, 6}, 32)});
  }
}

TEST(MaxPool2d, TiesChooseTheFirstMaximumInRowMajorOrder) {
  const Tensor<double> x = {{{{1, 3, 3, 0}, {3, 2, 0, 0}, {5, 5, 1, 1}, {5, 5, 1, 1}}}};
  ad::Tape<double> tape;
  const ad::Var<double> xv = tape.variable(x);
  const ad::Var<double> y = ops::max_pool2d(xv, {2, 2});
  EXPECT_EQ(y.value(), (Tensor<double>{{{{3, 3}, {5, 1}}}}));
  tape.backward(ad::sum(y));
  const Tensor<double> expected = {{{{0, 1, 1, 0}, {0, 0, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}}}};
  EXPECT_EQ(xv.grad(), expected);
}

TEST(MaxPool2d, Kernel2Stride2MatchesANestedLoopReferenceWithManyTies) {
  // Values in {0, 1, 2}: most windows tie. The reference picks the first
  // maximum in row-major window order, as the op documents.
  const std::size_t n = 3, c = 2, h = 6, w = 8;
  Tensor<double> x = Tensor<double>::from_shape({n, c, h, w});
  std::mt19937_64 rng(7);
  for (double& e : x) e = static_cast<double>(rng() % 3);
  ad::Tape<double> tape;
  const ad::Var<double> xv = tape.variable(x);
  const ad::Var<double> y = ops::max_pool2d(xv, {2, 2});
  Tensor<double> weights = Tensor<double>::from_shape(y.value().shape());
  for (std::size_t i = 0; i < weights.size(); ++i) weights.data()[i] = static_cast<double>(i + 1);
  tape.backward(ad::sum(y * tape.constant(weights)));
  Tensor<double> expected_grad = xt::zeros<double>(x.shape());
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < c; ++b)
      for (std::size_t oh = 0; oh < h / 2; ++oh)
        for (std::size_t ow = 0; ow < w / 2; ++ow) {
          std::size_t bi = 2 * oh, bj = 2 * ow;
          for (std::size_t i = 2 * oh; i < 2 * oh + 2; ++i)
            for (std::size_t j = 2 * ow; j < 2 * ow + 2; ++j)
              if (x(a, b, i, j) > x(a, b, bi, bj)) bi = i, bj = j;
          EXPECT_EQ(y.value()(a, b, oh, ow), x(a, b, bi, bj));
          expected_grad(a, b, bi, bj) += weights(a, b, oh, ow);
        }
  EXPECT_EQ(xv.grad(), expected_grad);
}

TEST(AvgPool2d, NonOverlappingAndOverlappingWindows) {
  for (const Pool2dOptions o : {Pool2dOptions{2, 2}, Pool2dOptions{3, 1}, Pool2dOptions{2, 3}}) {
    SCOPED_TRACE(AvgPool2d<double>(o).describe());
    const AvgPool2d<double> pool(o);
    expect_module_derivatives(pool, {Tensor<double>::from_shape({0}), randn({2, 2, 6, 7}, 41)});
    expect_float32_matches_float64(AvgPool2d<float>(o), pool,
                                   {Tensor<double>::from_shape({0}), randn({2, 2, 6, 7}, 42)});
  }
}

TEST(AvgPool2d, AveragesEachWindow) {
  const Tensor<double> x = {{{{1, 2, 3, 4}, {5, 6, 7, 8}}}};
  ad::Tape<double> tape;
  EXPECT_EQ(ops::avg_pool2d(tape.constant(x), {2, 2}).value(), (Tensor<double>{{{{3.5, 5.5}}}}));
}

TEST(Activations, TanhReLUSigmoidFlatten) {
  const Tensor<double> none = Tensor<double>::from_shape({0});
  expect_module_derivatives(Tanh<double>(), {none, randn({3, 4}, 51)});
  expect_module_derivatives(Sigmoid<double>(), {none, randn({3, 4}, 52)});
  expect_module_derivatives(ReLU<double>(), {none, distinct_input({3, 4}, 53)});
  expect_module_derivatives(Flatten<double>(), {none, randn({2, 3, 2, 2}, 54)});
  expect_float32_matches_float64(Tanh<float>(), Tanh<double>(), {none, randn({3, 4}, 55)});
  expect_float32_matches_float64(Sigmoid<float>(), Sigmoid<double>(), {none, randn({3, 4}, 56)});
}

TEST(Sequential, ConcatenatesNamedParametersInOrder) {
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{1, 2, 3, 1, 1});
  net.emplace<Tanh<double>>("act");
  net.emplace<AvgPool2d<double>>("pool", 2);
  net.emplace<Flatten<double>>("flat");
  net.emplace<Linear<double>>("fc", LinearOptions{2 * 2 * 2, 3});
  const std::vector<ParameterInfo> p = net.parameters();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].name, "conv.weight");
  EXPECT_EQ(p[1].name, "conv.bias");
  EXPECT_EQ(p[1].offset, 18u);
  EXPECT_EQ(p[2].name, "fc.weight");
  EXPECT_EQ(p[2].offset, 20u);
  EXPECT_EQ(p[2].shape, (Shape{3, 8}));
  EXPECT_EQ(p[3].offset, 44u);
  EXPECT_EQ(net.num_parameters(), 47u);
  expect_module_derivatives(net, problem(net, {2, 1, 4, 4}, 61));
}

TEST(Sequential, RejectsDuplicateAndDottedNames) {
  Sequential<double> net;
  net.emplace<Tanh<double>>("a");
  EXPECT_THROW(net.emplace<Tanh<double>>("a"), std::invalid_argument);
  EXPECT_THROW(net.emplace<Tanh<double>>("b.c"), std::invalid_argument);
}

TEST(ShapeErrors, NameTheLayerAndBothShapes) {
  const Sequential<double> net = models::mlp<double>({4, 3, 2});
  ad::Tape<double> tape;
  const ad::Var<double> w = tape.constant(net.initialize(1));
  const std::string msg = error_of([&] { net.forward(w, tape.constant(xt::zeros<double>({5, 6}))); });
  EXPECT_NE(msg.find("'fc1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Linear(4 -> 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(5, 6)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(batch, 4)"), std::string::npos) << msg;

  const Conv2d<double> conv({3, 4, 3});
  const std::string conv_msg = error_of(
      [&] { conv.forward(tape.constant(conv.initialize(1)), tape.constant(xt::zeros<double>({2, 1, 8, 8}))); });
  EXPECT_NE(conv_msg.find("Conv2d(3 -> 4"), std::string::npos) << conv_msg;
  EXPECT_NE(conv_msg.find("(2, 1, 8, 8)"), std::string::npos) << conv_msg;
  EXPECT_NE(conv_msg.find("(batch, 3, height, width)"), std::string::npos) << conv_msg;

  const std::string w_msg = error_of([&] { conv.forward(tape.constant(xt::zeros<double>({7})), tape.constant(xt::zeros<double>({2, 3, 8, 8}))); });
  EXPECT_NE(w_msg.find("7 elements"), std::string::npos) << w_msg;
  EXPECT_NE(w_msg.find(std::to_string(conv.num_parameters())), std::string::npos) << w_msg;

  const std::string pool_msg = error_of([&] {
    MaxPool2d<double>(3).forward(tape.constant(Tensor<double>::from_shape({0})), tape.constant(xt::zeros<double>({1, 1, 2, 2})));
  });
  EXPECT_NE(pool_msg.find("MaxPool2d(kernel 3"), std::string::npos) << pool_msg;
  EXPECT_NE(pool_msg.find("(1, 1, 2, 2)"), std::string::npos) << pool_msg;
}

TEST(Initialize, IsDeterministicAndFollowsEachScheme) {
  const Linear<double> fc(400, 300);
  const Tensor<double> a = fc.initialize(42), b = fc.initialize(42), c = fc.initialize(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const double bound = 1.0 / std::sqrt(400.0);
  EXPECT_LE(xt::amax(xt::abs(a))(), bound);
  EXPECT_GT(xt::amax(xt::abs(a))(), 0.99 * bound);

  auto weight_std = [&](Init scheme) {
    const Tensor<double> w = fc.parameter_value(fc.initialize(7, scheme), "weight");
    return std::sqrt(xt::mean(w * w)());
  };
  EXPECT_NEAR(weight_std(Init::glorot_normal), std::sqrt(2.0 / 700), 0.02 * std::sqrt(2.0 / 700));
  EXPECT_NEAR(weight_std(Init::he_normal), std::sqrt(2.0 / 400), 0.02 * std::sqrt(2.0 / 400));
  EXPECT_NEAR(weight_std(Init::glorot_uniform), std::sqrt(6.0 / 700) / std::sqrt(3.0), 0.02 * std::sqrt(2.0 / 700));
  EXPECT_NEAR(weight_std(Init::he_uniform), std::sqrt(6.0 / 400) / std::sqrt(3.0), 0.02 * std::sqrt(2.0 / 400));
  EXPECT_EQ(xt::amax(xt::abs(fc.parameter_value(fc.initialize(7, Init::he_normal), "bias")))(), 0.0);
  // float and double draw the same numbers.
  const Tensor<float> af = Linear<float>(400, 300).initialize(42);
  EXPECT_EQ(af, cast<float>(a));
}

TEST(Initialize, PerLayerSchemes) {
  Sequential<double> net;
  net.emplace<Linear<double>>("a", LinearOptions{10, 10, true, Init::zeros});
  net.emplace<Linear<double>>("b", LinearOptions{10, 10, true, Init::he_normal});
  const Tensor<double> w = net.initialize(3);
  EXPECT_EQ(xt::amax(xt::abs(net.parameter_value(w, "a.weight")))(), 0.0);
  EXPECT_GT(xt::amax(xt::abs(net.parameter_value(w, "b.weight")))(), 0.0);
  EXPECT_THROW(net.parameter("c.weight"), std::invalid_argument);
}

}  // namespace
