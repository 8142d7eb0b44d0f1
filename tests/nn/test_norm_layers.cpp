// LayerNorm, GroupNorm, Embedding, AdaptiveAvgPool2d and GlobalAvgPool2d:
// derivatives through the test kit (float64 against finite differences,
// float32 against float64), values against plain-loop references and
// PyTorch's numbers, per-example statistics (batch-size invariance),
// parameters and their initialization, and refused shapes and options.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace curv::nn::testing {
namespace {

// The output of m at parameters w for input x, on a fresh tape.
Tensor<double> run(const Module<double>& m, const Tensor<double>& w, const Tensor<double>& x) {
  ad::Tape<double> tape;
  return m.forward(tape.constant(w), tape.constant(x)).value();
}

// Linear(4 -> n), the layer, Linear(n -> 2): the layer meets input tangents
// and a nonzero ȳ̇ from both sides.
template <class T>
std::shared_ptr<Sequential<T>> around(std::shared_ptr<const Module<T>> layer, std::size_t n) {
  auto net = std::make_shared<Sequential<T>>();
  net->template emplace<Linear<T>>("fc1", LinearOptions{4, n});
  net->add("layer", std::move(layer));
  net->template emplace<Linear<T>>("fc2", LinearOptions{n, 2});
  return net;
}

// Random parameters (not the ones/zeros start, so that the scale and shift
// take part in every derivative).
Problem random_problem(const Module<double>& m, const Shape& x_shape, std::uint64_t seed) {
  return {randn({m.num_parameters()}, seed), randn(x_shape, seed + 1, 1.5)};
}

void expect_message(const std::string& found, const std::string& expected) {
  EXPECT_NE(found.find(expected), std::string::npos) << "message: " << found << "\nexpected to contain: " << expected;
}

// ---------------------------------------------------------------------------
// Plain-loop references: two-pass mean and biased variance, nothing shared
// with the layers' code.

// LayerNorm over rows of k consecutive elements; weight/bias per position in
// the row (empty: no affine).
Tensor<double> layer_norm_reference(const Tensor<double>& x, std::size_t k, double eps,
                                    const std::vector<double>& weight, const std::vector<double>& bias) {
  Tensor<double> y = Tensor<double>::from_shape(x.shape());
  for (std::size_t r = 0; r < x.size() / k; ++r) {
    const double* in = x.data() + r * k;
    double mean = 0, variance = 0;
    for (std::size_t i = 0; i < k; ++i) mean += in[i];
    mean /= static_cast<double>(k);
    for (std::size_t i = 0; i < k; ++i) variance += (in[i] - mean) * (in[i] - mean);
    variance /= static_cast<double>(k);
    for (std::size_t i = 0; i < k; ++i) {
      double v = (in[i] - mean) / std::sqrt(variance + eps);
      if (!weight.empty()) v = v * weight[i] + (bias.empty() ? 0.0 : bias[i]);
      y.data()[r * k + i] = v;
    }
  }
  return y;
}

// GroupNorm of x (N, C, S) flattened: groups of C / G channels, all S positions.
Tensor<double> group_norm_reference(const Tensor<double>& x, std::size_t groups, double eps,
                                    const std::vector<double>& weight, const std::vector<double>& bias) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], s = x.size() / (n * c), per = c / groups;
  Tensor<double> y = Tensor<double>::from_shape(x.shape());
  auto at = [&](std::size_t b, std::size_t ch, std::size_t p) { return (b * c + ch) * s + p; };
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t g = 0; g < groups; ++g) {
      double mean = 0, variance = 0;
      for (std::size_t ch = g * per; ch < (g + 1) * per; ++ch)
        for (std::size_t p = 0; p < s; ++p) mean += x.data()[at(b, ch, p)];
      mean /= static_cast<double>(per * s);
      for (std::size_t ch = g * per; ch < (g + 1) * per; ++ch)
        for (std::size_t p = 0; p < s; ++p) variance += std::pow(x.data()[at(b, ch, p)] - mean, 2);
      variance /= static_cast<double>(per * s);
      for (std::size_t ch = g * per; ch < (g + 1) * per; ++ch)
        for (std::size_t p = 0; p < s; ++p) {
          double v = (x.data()[at(b, ch, p)] - mean) / std::sqrt(variance + eps);
          if (!weight.empty()) v = v * weight[ch] + bias[ch];
          y.data()[at(b, ch, p)] = v;
        }
    }
  return y;
}

std::vector<double> part(const Tensor<double>& w, std::size_t begin, std::size_t count) {
  return std::vector<double>(w.data() + begin, w.data() + begin + count);
}

// Each row of k elements of y: mean 0 and mean square σ²/(σ² + ε), σ² the
// biased variance of the same row of x (≈ 1: the normalized output).
void expect_rows_standardized(const Tensor<double>& x, const Tensor<double>& y, std::size_t k, double eps) {
  for (std::size_t r = 0; r < x.size() / k; ++r) {
    double mean_x = 0, mean_y = 0;
    for (std::size_t i = 0; i < k; ++i) {
      mean_x += x.data()[r * k + i];
      mean_y += y.data()[r * k + i];
    }
    mean_x /= static_cast<double>(k);
    mean_y /= static_cast<double>(k);
    double variance_x = 0, square_y = 0;
    for (std::size_t i = 0; i < k; ++i) {
      variance_x += std::pow(x.data()[r * k + i] - mean_x, 2);
      square_y += std::pow(y.data()[r * k + i], 2);
    }
    variance_x /= static_cast<double>(k);
    square_y /= static_cast<double>(k);
    EXPECT_NEAR(mean_y, 0.0, 1e-12) << "row " << r;
    EXPECT_NEAR(square_y, variance_x / (variance_x + eps), 1e-12) << "row " << r;  // biased, not k/(k − 1)
    EXPECT_NEAR(square_y, 1.0, 1e-4) << "row " << r;
  }
}

// ---------------------------------------------------------------------------
// LayerNorm

TEST(LayerNorm, DerivativesMatchFiniteDifferencesOverTheLastDimension) {
  const LayerNorm<double> ln64(5);
  const LayerNorm<float> ln32(5);
  const Problem pr = random_problem(ln64, {3, 5}, 1);
  expect_module_derivatives(ln64, pr);
  expect_float32_matches_float64(ln32, ln64, pr);
}

TEST(LayerNorm, DerivativesMatchFiniteDifferencesOverSeveralTrailingDimensions) {
  const LayerNormOptions o{{2, 3}, 1e-5, true, true};
  const LayerNorm<double> ln64(o);
  const Problem pr = random_problem(ln64, {2, 2, 2, 3}, 3);
  expect_module_derivatives(ln64, pr);
  expect_float32_matches_float64(LayerNorm<float>(o), ln64, pr);
}

TEST(LayerNorm, DerivativesMatchFiniteDifferencesWithoutBiasOrAffine) {
  for (const bool affine : {false, true}) {
    const LayerNormOptions o{{4}, 1e-3, affine, false};
    const LayerNorm<double> ln(o);
    const Problem pr = random_problem(ln, {3, 4}, 5);
    expect_module_derivatives(ln, pr);
    expect_float32_matches_float64(LayerNorm<float>(o), ln, pr);
  }
}

TEST(LayerNorm, DerivativesMatchFiniteDifferencesBetweenLinearLayers) {
  const auto net64 = around<double>(std::make_shared<const LayerNorm<double>>(6), 6);
  const auto net32 = around<float>(std::make_shared<const LayerNorm<float>>(6), 6);
  Problem pr = random_problem(*net64, {3, 4}, 7);
  expect_module_derivatives(*net64, pr);
  expect_float32_matches_float64(*net32, *net64, pr);
}

TEST(LayerNorm, MatchesALoopReferenceAndStandardizesEachExample) {
  const LayerNormOptions o{{2, 3}, 1e-5, true, true};
  const LayerNorm<double> ln(o);
  const Tensor<double> x = randn({4, 2, 3}, 9, 3.0) + 5.0, w = randn({12}, 10);
  const Tensor<double> y = run(ln, w, x);
  const Tensor<double> expected = layer_norm_reference(x, 6, 1e-5, part(w, 0, 6), part(w, 6, 6));
  EXPECT_LT(relative_error(y, expected), 1e-14);
  const LayerNorm<double> plain(LayerNormOptions{{2, 3}, 1e-5, false, true});
  expect_rows_standardized(x, run(plain, Tensor<double>::from_shape({0}), x), 6, 1e-5);
}

TEST(LayerNorm, GivesPyTorchsValuesWithTheBiasedVariance) {
  // torch.nn.functional.layer_norm(torch.tensor([[1., 2., 3., 4.]]), [4]):
  // mean 2.5, biased variance 1.25, y = (x − 2.5) / √(1.25 + 1e-5).
  const LayerNorm<double> ln(4);
  const Tensor<double> y = run(ln, ln.initialize(0), Tensor<double>{{1.0, 2.0, 3.0, 4.0}});
  EXPECT_NEAR(y(0, 0), -1.3416354199689269, 1e-14);
  EXPECT_NEAR(y(0, 1), -0.447211806656309, 1e-14);
  EXPECT_NEAR(y(0, 2), 0.447211806656309, 1e-14);
  EXPECT_NEAR(y(0, 3), 1.3416354199689269, 1e-14);
}

TEST(LayerNorm, IsPerExampleSoTheBatchDoesNotChangeAnExamplesOutput) {
  const LayerNorm<double> ln(5);
  const Tensor<double> x = randn({4, 5}, 11, 2.0), w = randn({10}, 12);
  const Tensor<double> batch = run(ln, w, x);
  for (std::size_t n = 0; n < 4; ++n) {
    const Tensor<double> one = run(ln, w, Tensor<double>(xt::view(x, xt::range(n, n + 1), xt::all())));
    for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(one(0, i), batch(n, i), 1e-15);
  }
}

TEST(LayerNorm, NamesCountsAndInitializesItsParameters) {
  const LayerNorm<double> ln(LayerNormOptions{{2, 3}, 1e-5, true, true});
  EXPECT_EQ(ln.num_parameters(), 12u);
  ASSERT_EQ(ln.parameters().size(), 2u);
  EXPECT_EQ(ln.parameters()[0].name, "weight");
  EXPECT_EQ(ln.parameters()[0].shape, (Shape{2, 3}));
  EXPECT_EQ(ln.parameters()[1].name, "bias");
  EXPECT_EQ(ln.parameters()[1].offset, 6u);
  EXPECT_EQ(ln.describe(), "LayerNorm((2, 3))");
  EXPECT_EQ(LayerNorm<double>(LayerNormOptions{{4}, 1e-5, true, false}).num_parameters(), 4u);
  EXPECT_EQ(LayerNorm<double>(LayerNormOptions{{4}, 1e-5, true, false}).describe(), "LayerNorm((4,), no bias)");
  EXPECT_EQ(LayerNorm<double>(LayerNormOptions{{4}, 0.01, false, true}).num_parameters(), 0u);
  EXPECT_EQ(LayerNorm<double>(LayerNormOptions{{4}, 0.01, false, true}).describe(),
            "LayerNorm((4,), eps=0.01, no affine)");
  // The scale starts at one and the shift at zero, under every scheme: the
  // layer starts as the plain normalization.
  for (const Tensor<double>& w : {ln.initialize(3), ln.initialize(3, Init::he_normal),
                                  ln.initialize(3, Init::pytorch_default), ln.initialize(3, Init::normal)}) {
    EXPECT_EQ(ln.parameter_value(w, "weight"), Tensor<double>(xt::ones<double>({2, 3})));
    EXPECT_EQ(ln.parameter_value(w, "bias"), Tensor<double>(xt::zeros<double>({2, 3})));
  }
  // In a model, the Linear layers are drawn and the LayerNorm is not.
  const auto net = around<double>(std::make_shared<const LayerNorm<double>>(6), 6);
  const Tensor<double> w = net->initialize(4, Init::he_normal);
  EXPECT_EQ(net->parameter_value(w, "layer.weight"), Tensor<double>(xt::ones<double>({6})));
  EXPECT_EQ(net->parameter_value(w, "layer.bias"), Tensor<double>(xt::zeros<double>({6})));
  EXPECT_GT(xt::amax(xt::abs(net->parameter_value(w, "fc1.weight")))(), 0.0);
}

TEST(LayerNorm, RefusesBadOptionsAndShapesSayingWhatWasExpected) {
  expect_message(error_of([] { LayerNorm<double>(LayerNormOptions{{}, 1e-5, true, true}); }),
                 "curv::nn::LayerNorm: normalized_shape = (), expected at least one dimension");
  expect_message(error_of([] { LayerNorm<double>(LayerNormOptions{{4, 0}, 1e-5, true, true}); }),
                 "curv::nn::LayerNorm: normalized_shape = (4, 0), expected every dimension at least 1");
  expect_message(error_of([] { LayerNorm<double>(LayerNormOptions{{4}, 0.0, true, true}); }),
                 "curv::nn::LayerNorm: eps = 0, expected a finite eps > 0");
  expect_message(error_of([] { LayerNorm<double>(LayerNormOptions{{4}, NAN, true, true}); }),
                 "curv::nn::LayerNorm: eps = nan, expected a finite eps > 0");
  const LayerNorm<double> ln(4);
  expect_message(error_of([&] { run(ln, ln.initialize(0), randn({3, 5}, 1)); }),
                 "curv::nn::LayerNorm((4,)): input has shape (3, 5), expected (…, 4): trailing dimensions equal to "
                 "normalized_shape (4,)");
  const LayerNorm<double> ln2(LayerNormOptions{{2, 3}, 1e-5, true, true});
  expect_message(error_of([&] { run(ln2, ln2.initialize(0), randn({3, 3, 2}, 1)); }),
                 "input has shape (3, 3, 2), expected (…, 2, 3)");
  expect_message(error_of([&] { run(ln, randn({7}, 1), randn({3, 4}, 1)); }),
                 "curv::nn::LayerNorm((4,))::forward: parameter vector w has 7 elements, expected num_parameters() = 8");
  const auto net = around<double>(std::make_shared<const LayerNorm<double>>(5), 6);
  expect_message(error_of([&] { run(*net, net->initialize(0), randn({3, 4}, 1)); }),
                 "layer 'layer' (LayerNorm((5,)), child 1): curv::nn::LayerNorm((5,)): input has shape (3, 6)");
}

// ---------------------------------------------------------------------------
// GroupNorm

TEST(GroupNorm, DerivativesMatchFiniteDifferencesOnImages) {
  const GroupNorm<double> gn64(3, 6);
  const Problem pr = random_problem(gn64, {2, 6, 2, 2}, 21);
  expect_module_derivatives(gn64, pr);
  expect_float32_matches_float64(GroupNorm<float>(3, 6), gn64, pr);
}

TEST(GroupNorm, DerivativesMatchFiniteDifferencesOnFeatureVectorsAndWithoutAffine) {
  for (const bool affine : {true, false}) {
    const GroupNormOptions o{2, 6, 1e-5, affine};
    const GroupNorm<double> gn(o);
    const Problem pr = random_problem(gn, {3, 6}, 23);
    expect_module_derivatives(gn, pr);
    expect_float32_matches_float64(GroupNorm<float>(o), gn, pr);
  }
}

TEST(GroupNorm, DerivativesMatchFiniteDifferencesBetweenLinearLayers) {
  const auto net64 = around<double>(std::make_shared<const GroupNorm<double>>(2, 6), 6);
  const auto net32 = around<float>(std::make_shared<const GroupNorm<float>>(2, 6), 6);
  const Problem pr = random_problem(*net64, {3, 4}, 25);
  expect_module_derivatives(*net64, pr);
  expect_float32_matches_float64(*net32, *net64, pr);
}

TEST(GroupNorm, MatchesALoopReferenceAndStandardizesEachGroup) {
  const GroupNorm<double> gn(3, 6);
  const Tensor<double> x = randn({2, 6, 3, 4}, 27, 2.0) - 4.0, w = randn({12}, 28);
  EXPECT_LT(relative_error(run(gn, w, x), group_norm_reference(x, 3, 1e-5, part(w, 0, 6), part(w, 6, 6))), 1e-14);
  // A group is 2 consecutive channels × 12 positions: 24 consecutive elements.
  const GroupNorm<double> plain(GroupNormOptions{3, 6, 1e-5, false});
  expect_rows_standardized(x, run(plain, Tensor<double>::from_shape({0}), x), 24, 1e-5);
  // (N, C) input: a group is C / G consecutive features.
  const Tensor<double> v = randn({4, 6}, 29, 3.0) + 1.0;
  EXPECT_LT(relative_error(run(gn, w, v), group_norm_reference(v, 3, 1e-5, part(w, 0, 6), part(w, 6, 6))), 1e-14);
}

TEST(GroupNorm, OneGroupIsLayerNormOverTheExampleWithAScalePerChannel) {
  // GroupNorm(1, C) on (N, C) normalizes like LayerNorm(C); with equal
  // per-channel scale and shift the outputs agree.
  const Tensor<double> x = randn({3, 5}, 31, 2.0), w = randn({10}, 32);
  EXPECT_LT(relative_error(run(GroupNorm<double>(1, 5), w, x), run(LayerNorm<double>(5), w, x)), 1e-15);
}

TEST(GroupNorm, IsPerExampleSoTheBatchDoesNotChangeAnExamplesOutput) {
  const GroupNorm<double> gn(2, 4);
  const Tensor<double> x = randn({3, 4, 2, 3}, 33), w = randn({8}, 34);
  const Tensor<double> batch = run(gn, w, x);
  for (std::size_t n = 0; n < 3; ++n) {
    const Tensor<double> one =
        run(gn, w, Tensor<double>(xt::view(x, xt::range(n, n + 1), xt::all(), xt::all(), xt::all())));
    EXPECT_LT(relative_error(one, Tensor<double>(xt::view(batch, xt::range(n, n + 1), xt::all(), xt::all(), xt::all()))),
              1e-15);
  }
}

TEST(GroupNorm, NamesCountsAndInitializesItsParameters) {
  const GroupNorm<double> gn(2, 6);
  EXPECT_EQ(gn.num_parameters(), 12u);
  EXPECT_EQ(gn.parameter("weight").shape, (Shape{6}));
  EXPECT_EQ(gn.parameter("bias").offset, 6u);
  EXPECT_EQ(gn.describe(), "GroupNorm(2 groups, 6 channels)");
  EXPECT_EQ(GroupNorm<double>(GroupNormOptions{2, 6, 1e-5, false}).num_parameters(), 0u);
  for (const Tensor<double>& w : {gn.initialize(5), gn.initialize(5, Init::glorot_uniform)}) {
    EXPECT_EQ(gn.parameter_value(w, "weight"), Tensor<double>(xt::ones<double>({6})));
    EXPECT_EQ(gn.parameter_value(w, "bias"), Tensor<double>(xt::zeros<double>({6})));
  }
}

TEST(GroupNorm, RefusesBadOptionsAndShapesSayingWhatWasExpected) {
  expect_message(error_of([] { GroupNorm<double>(4, 6); }),
                 "curv::nn::GroupNorm: num_groups = 4 and num_channels = 6, expected both at least 1 and "
                 "num_channels divisible by num_groups");
  expect_message(error_of([] { GroupNorm<double>(0, 6); }), "num_groups = 0 and num_channels = 6");
  expect_message(error_of([] { GroupNorm<double>(GroupNormOptions{2, 6, -1.0, true}); }),
                 "curv::nn::GroupNorm: eps = -1, expected a finite eps > 0");
  const GroupNorm<double> gn(2, 6);
  const std::string expected = ", expected (batch, 6, …): channels on axis 1 and no empty trailing axis";
  expect_message(error_of([&] { run(gn, gn.initialize(0), randn({2, 5, 3, 3}, 1)); }),
                 "curv::nn::GroupNorm(2 groups, 6 channels): input has shape (2, 5, 3, 3)" + expected);
  expect_message(error_of([&] { run(gn, gn.initialize(0), randn({6}, 1)); }), "input has shape (6,)" + expected);
  expect_message(error_of([&] { run(gn, gn.initialize(0), Tensor<double>::from_shape({2, 6, 0})); }),
                 "input has shape (2, 6, 0)" + expected);
}

// ---------------------------------------------------------------------------
// Embedding

template <class T>
const Module<T>& pick(const Module<float>& m32, const Module<double>& m64) {
  if constexpr (std::is_same_v<T, float>)
    return m32;
  else
    return m64;
}

// The derivatives of readout(m(w, indices)) in w: the indices are not a
// differentiable input, so the kit's input and joint checks do not apply.
void expect_derivatives_in_parameters(const Module<float>& m32, const Module<double>& m64, const Tensor<double>& w,
                                      const Tensor<double>& indices) {
  curv::testing::CheckOptions o;
  o.atol = 1e-7;
  o.float32_rtol = o.float32_atol = 2e-4;
  const auto r = curv::testing::check_function(
      [&]<class T>(const ad::Var<T>& p) {
        return readout(pick<T>(m32, m64).forward(p, p.tape().constant(cast<T>(indices))));
      },
      w, o);
  EXPECT_TRUE(r.ok()) << r.message();
}

TEST(Embedding, DerivativesMatchFiniteDifferencesWithRepeatedIndices) {
  const Embedding<double> e64(6, 3);
  const Tensor<double> indices = {{0.0, 2.0, 2.0}, {5.0, 0.0, 3.0}};  // rows 0 and 2 read twice, 1 and 4 never
  expect_derivatives_in_parameters(Embedding<float>(6, 3), e64, e64.initialize(1), indices);
}

TEST(Embedding, DerivativesMatchFiniteDifferencesBeforeALinearLayer) {
  auto net = [](auto tag) {
    using T = decltype(tag);
    auto s = std::make_shared<Sequential<T>>();
    s->template emplace<Embedding<T>>("embed", EmbeddingOptions{6, 3, Init::normal});
    s->template emplace<Flatten<T>>("flat");
    s->template emplace<Linear<T>>("fc", LinearOptions{6, 2});
    return s;
  };
  const auto net64 = net(0.0);
  const Tensor<double> indices = {{1.0, 4.0}, {4.0, 4.0}, {0.0, 5.0}};
  expect_derivatives_in_parameters(*net(0.0f), *net64, net64->initialize(2), indices);
}

TEST(Embedding, ReadsTheRowOfEachIndexAndGivesZeroDerivativeInTheIndices) {
  const Embedding<double> e(5, 4);
  const Tensor<double> w = e.initialize(3), indices = {{4.0, 0.0}, {2.0, 4.0}, {1.0, 1.0}};
  const Tensor<double> y = run(e, w, indices);
  ASSERT_EQ(Shape(y.shape().begin(), y.shape().end()), (Shape{3, 2, 4}));
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t l = 0; l < 2; ++l)
      for (std::size_t j = 0; j < 4; ++j)
        EXPECT_EQ(y(n, l, j), w(static_cast<std::size_t>(indices(n, l)) * 4 + j));
  // A 1-D batch of indices gives (batch, embedding_dim).
  const Tensor<double> flat = run(e, w, Tensor<double>{3.0});
  EXPECT_EQ(Shape(flat.shape().begin(), flat.shape().end()), (Shape{1, 4}));
  EXPECT_EQ(flat(0, 2), w(14));
  const auto g = ad::value_and_grad(
      [&](const ad::Var<double>& x) { return readout(e.forward(x.tape().constant(w), x)); }, indices);
  EXPECT_EQ(g.grad, Tensor<double>(xt::zeros<double>({3, 2})));
}

TEST(Embedding, NamesCountsAndDrawsItsWeightFromAStandardNormal) {
  const Embedding<double> e(100, 50);
  EXPECT_EQ(e.num_parameters(), 5000u);
  ASSERT_EQ(e.parameters().size(), 1u);
  EXPECT_EQ(e.parameters()[0].name, "weight");
  EXPECT_EQ(e.parameters()[0].shape, (Shape{100, 50}));
  EXPECT_EQ(e.describe(), "Embedding(100, 50)");
  const Tensor<double> w = e.initialize(7);
  EXPECT_NEAR(xt::mean(w)(), 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(xt::mean(w * w)()), 1.0, 0.03);  // N(0, 1), as torch.nn.Embedding
  EXPECT_EQ(to_string(Init::normal), "normal");
  EXPECT_EQ(to_string(Init::ones), "ones");
  // Another scheme through the options.
  const Embedding<double> small(EmbeddingOptions{100, 50, Init::glorot_uniform});
  EXPECT_LE(xt::amax(xt::abs(small.initialize(7)))(), std::sqrt(6.0 / 150));
}

TEST(Embedding, RefusesIndicesOutOfRangeNamingThePositionAndTheValue) {
  const Embedding<double> e(6, 3);
  const Tensor<double> w = e.initialize(0);
  expect_message(error_of([&] { run(e, w, Tensor<double>{{0.0, 2.0}, {7.0, 1.0}}); }),
                 "curv::nn::Embedding(6, 3): input[1, 0] = 7, expected an integer index in [0, 6): a row of the weight");
  expect_message(error_of([&] { run(e, w, Tensor<double>{{0.0, 6.0}}); }), "input[0, 1] = 6, expected");
  expect_message(error_of([&] { run(e, w, Tensor<double>{1.0, -1.0}); }), "input[1] = -1, expected");
  expect_message(error_of([&] { run(e, w, Tensor<double>{2.5}); }), "input[0] = 2.5, expected an integer index");
  expect_message(error_of([&] { run(e, w, Tensor<double>{NAN}); }), "input[0] = nan, expected");
  expect_message(error_of([] { Embedding<double>(0, 3); }),
                 "curv::nn::Embedding: num_embeddings = 0 and embedding_dim = 3, expected both at least 1");
  expect_message(error_of([&] { run(e, w, Tensor<double>(2.0)); }),
                 "curv::nn::Embedding(6, 3): input has shape (), expected indices with at least one (batch) axis");
}

// ---------------------------------------------------------------------------
// AdaptiveAvgPool2d and GlobalAvgPool2d

// PyTorch's adaptive average pooling in plain loops: output (i, j) averages
// rows [⌊iH/oh⌋, ⌈(i+1)H/oh⌉) and columns likewise.
Tensor<double> adaptive_avg_pool_reference(const Tensor<double>& x, std::size_t oh, std::size_t ow) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  Tensor<double> y = Tensor<double>::from_shape({n, c, oh, ow});
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          const auto r0 = static_cast<std::size_t>(std::floor(double(i * h) / double(oh)));
          const auto r1 = static_cast<std::size_t>(std::ceil(double((i + 1) * h) / double(oh)));
          const auto c0 = static_cast<std::size_t>(std::floor(double(j * wd) / double(ow)));
          const auto c1 = static_cast<std::size_t>(std::ceil(double((j + 1) * wd) / double(ow)));
          double total = 0;
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t q = c0; q < c1; ++q) total += x(b, ch, r, q);
          y(b, ch, i, j) = total / double((r1 - r0) * (c1 - c0));
        }
  return y;
}

Tensor<double> no_parameters() { return Tensor<double>::from_shape({0}); }

TEST(AdaptiveAvgPool2d, DerivativesMatchFiniteDifferences) {
  for (const AdaptiveAvgPool2dOptions o : {AdaptiveAvgPool2dOptions{2, 3}, AdaptiveAvgPool2dOptions{1, 1}}) {
    const AdaptiveAvgPool2d<double> pool(o);
    const Problem pr{no_parameters(), randn({2, 2, 5, 7}, 41)};
    expect_module_derivatives(pool, pr);
    expect_float32_matches_float64(AdaptiveAvgPool2d<float>(o), pool, pr);
  }
}

TEST(AdaptiveAvgPool2d, MatchesALoopReferenceForShrinkingAndGrowingOutputs) {
  const Tensor<double> x = randn({2, 3, 5, 7}, 43);
  for (const auto& [oh, ow] : std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {2, 3}, {3, 2}, {5, 7}, {4, 9}}) {
    const Tensor<double> y = run(AdaptiveAvgPool2d<double>(AdaptiveAvgPool2dOptions{oh, ow}), no_parameters(), x);
    EXPECT_LT(relative_error(y, adaptive_avg_pool_reference(x, oh, ow)), 1e-15) << oh << " x " << ow;
  }
  // Output equal to the input's size is the identity.
  EXPECT_LT(relative_error(run(AdaptiveAvgPool2d<double>(AdaptiveAvgPool2dOptions{5, 7}), no_parameters(), x), x),
            1e-15);
}

TEST(AdaptiveAvgPool2d, UsesPyTorchsOverlappingWindows) {
  // H = 5 into 3 rows: windows [0, 2), [1, 4), [3, 5), as torch's
  // adaptive_avg_pool2d; a column of values 0..4 averages to 0.5, 2, 3.5.
  Tensor<double> x = Tensor<double>::from_shape({1, 1, 5, 1});
  for (std::size_t r = 0; r < 5; ++r) x(0, 0, r, 0) = static_cast<double>(r);
  const Tensor<double> y = run(AdaptiveAvgPool2d<double>(AdaptiveAvgPool2dOptions{3, 1}), no_parameters(), x);
  EXPECT_DOUBLE_EQ(y(0, 0, 0, 0), 0.5);
  EXPECT_DOUBLE_EQ(y(0, 0, 1, 0), 2.0);
  EXPECT_DOUBLE_EQ(y(0, 0, 2, 0), 3.5);
}

TEST(GlobalAvgPool2d, IsAdaptiveAvgPoolToOneByOneWithoutTheUnitAxes) {
  const Tensor<double> x = randn({3, 4, 5, 6}, 45);
  const Tensor<double> global = run(GlobalAvgPool2d<double>(), no_parameters(), x);
  ASSERT_EQ(Shape(global.shape().begin(), global.shape().end()), (Shape{3, 4}));
  const Tensor<double> adaptive = run(AdaptiveAvgPool2d<double>(), no_parameters(), x);
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t c = 0; c < 4; ++c) {
      EXPECT_NEAR(global(n, c), adaptive(n, c, 0, 0), 1e-15);
      EXPECT_NEAR(global(n, c), xt::mean(xt::view(x, n, c, xt::all(), xt::all()))(), 1e-15);
    }
  const Problem pr{no_parameters(), randn({2, 3, 3, 4}, 46)};
  expect_module_derivatives(GlobalAvgPool2d<double>(), pr);
  expect_float32_matches_float64(GlobalAvgPool2d<float>(), GlobalAvgPool2d<double>(), pr);
}

TEST(AdaptiveAvgPool2d, RefusesBadOptionsAndShapesSayingWhatWasExpected) {
  expect_message(error_of([] { AdaptiveAvgPool2d<double>(AdaptiveAvgPool2dOptions{0, 2}); }),
                 "curv::nn::AdaptiveAvgPool2d: output size (0, 2), expected both at least 1");
  expect_message(error_of([] { run(AdaptiveAvgPool2d<double>(AdaptiveAvgPool2dOptions{2, 3}), no_parameters(),
                                   randn({2, 5, 7}, 1)); }),
                 "curv::nn::AdaptiveAvgPool2d(2, 3): input has shape (2, 5, 7), expected (batch, channels, height, "
                 "width) with height, width >= 1");
  expect_message(error_of([] { run(GlobalAvgPool2d<double>(), no_parameters(), Tensor<double>::from_shape({2, 3, 0, 4})); }),
                 "curv::nn::GlobalAvgPool2d: input has shape (2, 3, 0, 4), expected (batch, channels, height, width)");
  expect_message(error_of([] { run(GlobalAvgPool2d<double>(), randn({1}, 1), randn({1, 1, 2, 2}, 1)); }),
                 "parameter vector w has 1 elements, expected num_parameters() = 0");
}

}  // namespace
}  // namespace curv::nn::testing
