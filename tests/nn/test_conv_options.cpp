// Conv2d's and the pools' PyTorch options: rectangular kernels, per-axis
// stride and padding, dilation and groups (depthwise included), ceil_mode and
// count_include_pad. Values against direct nested-loop references written
// here from the definitions; gradient, JVP and H·v against finite
// differences in float64 and float32 against float64 (the test kit); the
// fused Conv2d → MaxPool2d path with the new options against the unfused
// layers, and a model that cannot be fused left as it is; errors that say
// what was expected and what was found.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

// The signed input position of output o's tap t along one axis.
long tap(std::size_t o, std::size_t stride, std::size_t t, std::size_t dilation, std::size_t pad) {
  return static_cast<long>(o * stride + t * dilation) - static_cast<long>(pad);
}

// y[n, o, i, j] = b[o] + Σ_{c in o's group, a, b} W[o, c, a, b] x[n, g·C/G + c, i·sh − ph + a·dh, j·sw − pw + b·dw],
// zero outside x: seven nested loops, nothing shared with the op.
Tensor<double> reference_conv(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b,
                              const Conv2dOptions& opt) {
  const std::size_t n = x.shape(0), h = x.shape(2), wd = x.shape(3);
  const std::size_t o = w.shape(0), cg = w.shape(1), kh = w.shape(2), kw = w.shape(3);
  const std::size_t og = o / opt.groups;
  const std::size_t eh = opt.dilation.h * (kh - 1) + 1, ew = opt.dilation.w * (kw - 1) + 1;
  const std::size_t oh = (h + 2 * opt.padding.h - eh) / opt.stride.h + 1;
  const std::size_t ow = (wd + 2 * opt.padding.w - ew) / opt.stride.w + 1;
  Tensor<double> y = xt::zeros<double>({n, o, oh, ow});
  for (std::size_t in = 0; in < n; ++in)
    for (std::size_t io = 0; io < o; ++io)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          double acc = b ? (*b)(io) : 0.0;
          for (std::size_t ic = 0; ic < cg; ++ic)
            for (std::size_t a = 0; a < kh; ++a)
              for (std::size_t bb = 0; bb < kw; ++bb) {
                const long r = tap(i, opt.stride.h, a, opt.dilation.h, opt.padding.h);
                const long q = tap(j, opt.stride.w, bb, opt.dilation.w, opt.padding.w);
                if (r < 0 || q < 0 || r >= static_cast<long>(h) || q >= static_cast<long>(wd)) continue;
                const std::size_t channel = io / og * cg + ic;
                acc += w(io, ic, a, bb) * x(in, channel, static_cast<std::size_t>(r), static_cast<std::size_t>(q));
              }
          y(in, io, i, j) = acc;
        }
  return y;
}

struct ConvCase {
  const char* name;
  Conv2dOptions options;
  std::size_t h, w;
};

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

class ConvOptionCases : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvOptionCases, MatchesSevenLoopReference) {
  const ConvCase& cc = GetParam();
  const Conv2d<double> conv(cc.options);
  SCOPED_TRACE(conv.describe());
  const Problem pr = problem(conv, {2, cc.options.in_channels, cc.h, cc.w}, 11);
  ad::Tape<double> tape;
  const Tensor<double> y = conv.forward(tape.constant(pr.w), tape.constant(pr.x)).value();
  const Tensor<double> weight = conv.parameter_value(pr.w, "weight");
  const Tensor<double> bias = cc.options.bias ? conv.parameter_value(pr.w, "bias") : Tensor<double>();
  const Tensor<double> ref = reference_conv(pr.x, weight, cc.options.bias ? &bias : nullptr, cc.options);
  ASSERT_EQ(y.shape(), ref.shape());
  EXPECT_LT(relative_error(y, ref), 1e-13);
  const Shape expected_shape{2, cc.options.out_channels, ref.shape(2), ref.shape(3)};
  EXPECT_EQ(conv.output_shape({2, cc.options.in_channels, cc.h, cc.w}), expected_shape);
}

TEST_P(ConvOptionCases, DerivativesMatchFiniteDifferences) {
  const ConvCase& cc = GetParam();
  const Conv2d<double> conv(cc.options);
  SCOPED_TRACE(conv.describe());
  expect_module_derivatives(conv, problem(conv, {2, cc.options.in_channels, cc.h, cc.w}, 12));
}

TEST_P(ConvOptionCases, Float32MatchesFloat64) {
  const ConvCase& cc = GetParam();
  const Conv2d<double> c64(cc.options);
  SCOPED_TRACE(c64.describe());
  expect_float32_matches_float64(Conv2d<float>(cc.options), c64,
                                 problem(c64, {2, cc.options.in_channels, cc.h, cc.w}, 13));
}

TEST_P(ConvOptionCases, WeightHasPyTorchsShape) {
  const Conv2dOptions& o = GetParam().options;
  const Conv2d<double> conv(o);
  const Shape weight{o.out_channels, o.in_channels / o.groups, o.kernel_size.h, o.kernel_size.w};
  EXPECT_EQ(conv.parameters()[0].shape, weight);
  EXPECT_EQ(conv.parameters()[0].fan_in, o.in_channels / o.groups * o.kernel_size.h * o.kernel_size.w);
  EXPECT_EQ(conv.num_parameters(), xt::compute_size(weight) + (o.bias ? o.out_channels : 0));
}

INSTANTIATE_TEST_SUITE_P(
    Options, ConvOptionCases,
    ::testing::Values(
        ConvCase{"rectangular kernel", {.in_channels = 2, .out_channels = 3, .kernel_size = {3, 5}}, 6, 7},
        ConvCase{"stride (2, 1), padding (1, 2)",
                 {.in_channels = 2, .out_channels = 2, .kernel_size = 3, .stride = {2, 1}, .padding = {1, 2}},
                 7,
                 5},
        ConvCase{"dilation 2", {.in_channels = 2, .out_channels = 3, .kernel_size = 3, .dilation = 2}, 7, 8},
        ConvCase{"dilation (1, 3), no bias",
                 {.in_channels = 1, .out_channels = 2, .kernel_size = {2, 3}, .padding = 1, .bias = false,
                  .dilation = {1, 3}},
                 5,
                 9},
        ConvCase{"groups 2", {.in_channels = 4, .out_channels = 6, .kernel_size = 3, .padding = 1, .groups = 2}, 5, 5},
        ConvCase{"all at once",
                 {.in_channels = 4,
                  .out_channels = 6,
                  .kernel_size = {3, 2},
                  .stride = {2, 1},
                  .padding = {1, 2},
                  .dilation = 2,
                  .groups = 2},
                 7,
                 6},
        ConvCase{"depthwise", {.in_channels = 3, .out_channels = 3, .kernel_size = 3, .padding = 1, .groups = 3}, 5, 6},
        ConvCase{"depthwise, multiplier 2, stride 2",
                 {.in_channels = 3, .out_channels = 6, .kernel_size = {3, 2}, .stride = 2, .groups = 3},
                 7,
                 6}),
    [](const ::testing::TestParamInfo<ConvCase>& info) {
      std::string name;
      for (const char* p = info.param.name; *p; ++p) name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      return name;
    });

TEST(Conv2dOptions, OneNumberMeansBothAxesAndOldPositionalInitializersKeepTheirMeaning) {
  const Conv2dOptions positional{2, 3, 3, 2, 1, false, Init::zeros};
  EXPECT_EQ(positional.kernel_size, Size2(3, 3));
  EXPECT_EQ(positional.stride, Size2(2, 2));
  EXPECT_EQ(positional.padding, Size2(1, 1));
  EXPECT_FALSE(positional.bias);
  EXPECT_EQ(positional.dilation, Size2(1));
  EXPECT_EQ(positional.groups, 1u);
}

TEST(Conv2dOptions, DescribeShowsOnlyTheOptionsSet) {
  EXPECT_EQ(Conv2d<double>({3, 8, 3}).describe(), "Conv2d(3 -> 8, kernel 3, stride 1, padding 0)");
  const Conv2d<double> all({.in_channels = 4, .out_channels = 6, .kernel_size = {3, 5}, .stride = {2, 1},
                            .padding = {1, 2}, .bias = false, .dilation = 2, .groups = 2});
  EXPECT_EQ(all.describe(),
            "Conv2d(4 -> 6, kernel 3x5, stride 2x1, padding 1x2, dilation 2, groups 2, no bias)");
}

void expect_contains(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "missing '" << part << "' in: " << message;
}

TEST(Conv2dOptions, BadOptionsAreRefusedSayingWhatWasExpected) {
  const std::string channels = error_of([] { Conv2d<double>({.in_channels = 3, .out_channels = 4, .groups = 2}); });
  expect_contains(channels, "in_channels = 3, out_channels = 4, groups = 2");
  expect_contains(channels, "expected in_channels and out_channels divisible by groups");
  const std::string outputs = error_of([] { Conv2d<double>({.in_channels = 4, .out_channels = 3, .groups = 2}); });
  expect_contains(outputs, "out_channels = 3");
  expect_contains(error_of([] { Conv2d<double>({.in_channels = 1, .out_channels = 1, .dilation = {1, 0}}); }),
                  "dilation = 1x0, expected at least 1");
  expect_contains(error_of([] { Conv2d<double>({.in_channels = 1, .out_channels = 1, .groups = 0}); }),
                  "groups = 0, expected at least 1");
  expect_contains(error_of([] { Conv2d<double>({.in_channels = 1, .out_channels = 1, .kernel_size = {3, 0}}); }),
                  "kernel_size = 3x0");
}

TEST(Conv2dOptions, AnInputSmallerThanTheDilatedKernelIsRefused) {
  const Conv2d<double> conv({.in_channels = 1, .out_channels = 1, .kernel_size = {3, 2}, .padding = {0, 1},
                             .dilation = 2});
  ad::Tape<double> tape;
  // Extent 5 × 3: height 4 + 0 < 5.
  const std::string msg = error_of(
      [&] { conv.forward(tape.constant(conv.initialize(1)), tape.constant(xt::zeros<double>({1, 1, 4, 6}))); });
  expect_contains(msg, conv.describe());
  expect_contains(msg, "(1, 1, 4, 6)");
  expect_contains(msg, "height + 2 * 0 >= 5 and width + 2 * 1 >= 3");
}

TEST(Conv2dOp, ShapeErrorsSayWhatWasExpectedAndFound) {
  ad::Tape<double> tape;
  const ad::Var<double> x = tape.constant(xt::zeros<double>({1, 4, 5, 5}));
  const std::string per_group = error_of(
      [&] { ops::conv2d(x, tape.constant(xt::zeros<double>({6, 4, 3, 3})), ops::Conv2dGeometry{.groups = 2}); });
  expect_contains(per_group, "(1, 4, 5, 5)");
  expect_contains(per_group, "(6, 4, 3, 3)");
  expect_contains(per_group, "the weight has 4 input channels per group, expected 2 (input channels 4 / groups 2)");
  const std::string divisible = error_of(
      [&] { ops::conv2d(x, tape.constant(xt::zeros<double>({6, 1, 3, 3})), ops::Conv2dGeometry{.groups = 3}); });
  expect_contains(divisible, "input channels 4 are not divisible by groups 3");
  const std::string outputs = error_of(
      [&] { ops::conv2d(x, tape.constant(xt::zeros<double>({5, 2, 3, 3})), ops::Conv2dGeometry{.groups = 2}); });
  expect_contains(outputs, "output channels 5 (the weight's first dimension) are not divisible by groups 2");
  const std::string large = error_of([&] {
    ops::conv2d(x, tape.constant(xt::zeros<double>({1, 4, 3, 2})),
                ops::Conv2dGeometry{.padding = {0, 1}, .dilation = {3, 1}});
  });
  expect_contains(large, "dilation 3x1");
  expect_contains(large, "the kernel (7x2 with its dilation) is larger than the padded input (5x7)");
}

// ---- pools -------------------------------------------------------------

// PyTorch's number of windows (pooling_output_shape), written out again.
std::size_t windows(std::size_t size, std::size_t k, std::size_t s, std::size_t p, bool ceil_mode) {
  const double exact = static_cast<double>(size + 2 * p - k) / static_cast<double>(s);
  std::size_t out = static_cast<std::size_t>(ceil_mode ? std::ceil(exact) : std::floor(exact)) + 1;
  if (ceil_mode && (out - 1) * s >= size + p) --out;
  return out;
}

// Direct max and average pooling: each window at (i·sh − ph, j·sw − pw),
// the padding −∞ for the maximum and zeros for the average, whose divisor
// is the window's part of the padded input or (count_include_pad false) of x.
Tensor<double> reference_pool(const Tensor<double>& x, const Pool2dOptions& o, bool average) {
  const std::size_t n = x.shape(0), c = x.shape(1), h = x.shape(2), w = x.shape(3);
  const Size2 k = o.kernel_size, p = o.padding;
  const Size2 s{o.stride.h ? o.stride.h : k.h, o.stride.w ? o.stride.w : k.w};
  const std::size_t oh = windows(h, k.h, s.h, p.h, o.ceil_mode), ow = windows(w, k.w, s.w, p.w, o.ceil_mode);
  Tensor<double> y = xt::zeros<double>({n, c, oh, ow});
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < c; ++b)
      for (std::size_t i = 0; i < oh; ++i)
        for (std::size_t j = 0; j < ow; ++j) {
          double max = -std::numeric_limits<double>::infinity(), sum = 0;
          std::size_t inside = 0, padded = 0;
          for (std::size_t u = 0; u < k.h; ++u)
            for (std::size_t v = 0; v < k.w; ++v) {
              const long r = tap(i, s.h, u, 1, p.h), q = tap(j, s.w, v, 1, p.w);
              if (r >= static_cast<long>(h + p.h) || q >= static_cast<long>(w + p.w)) continue;  // past the padding
              ++padded;
              if (r < 0 || q < 0 || r >= static_cast<long>(h) || q >= static_cast<long>(w)) continue;
              const double e = x(a, b, static_cast<std::size_t>(r), static_cast<std::size_t>(q));
              max = std::max(max, e);
              sum += e;
              ++inside;
            }
          y(a, b, i, j) = average ? sum / static_cast<double>(o.count_include_pad ? padded : inside) : max;
        }
  return y;
}

// Pooling inputs spread out so that no finite-difference step crosses a tie.
Tensor<double> distinct_input(const Shape& shape, std::uint64_t seed) {
  Tensor<double> x = randn(shape, seed);
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] += 0.05 * static_cast<double>((i * 37) % 101);
  return x;
}

struct PoolCase {
  const char* name;
  Pool2dOptions options;
  std::size_t h, w;
};

void PrintTo(const PoolCase& c, std::ostream* os) { *os << c.name; }

class PoolOptionCases : public ::testing::TestWithParam<PoolCase> {};

template <class Pool>
void check_pool(const PoolCase& pc, bool average) {
  const Pool pool(pc.options);
  SCOPED_TRACE(pool.describe());
  const Tensor<double> none = Tensor<double>::from_shape({0});
  const Tensor<double> x = distinct_input({2, 3, pc.h, pc.w}, 31);
  ad::Tape<double> tape;
  const Tensor<double> y = pool.forward(tape.constant(none), tape.constant(x)).value();
  const Tensor<double> ref = reference_pool(x, pc.options, average);
  ASSERT_EQ(y.shape(), ref.shape());
  EXPECT_LT(relative_error(y, ref), 1e-15);
  expect_module_derivatives(pool, {none, x});
  using Pool32 = std::conditional_t<std::is_same_v<Pool, MaxPool2d<double>>, MaxPool2d<float>, AvgPool2d<float>>;
  expect_float32_matches_float64(Pool32(pc.options), pool, {none, distinct_input({2, 3, pc.h, pc.w}, 32)});
}

TEST_P(PoolOptionCases, MaxPoolMatchesDirectReferenceAndFiniteDifferences) {
  check_pool<MaxPool2d<double>>(GetParam(), false);
}

TEST_P(PoolOptionCases, AvgPoolMatchesDirectReferenceAndFiniteDifferences) {
  check_pool<AvgPool2d<double>>(GetParam(), true);
}

TEST_P(PoolOptionCases, AvgPoolWithoutPaddingCountMatchesDirectReference) {
  PoolCase pc = GetParam();
  pc.options.count_include_pad = false;
  check_pool<AvgPool2d<double>>(pc, true);
}

INSTANTIATE_TEST_SUITE_P(
    Options, PoolOptionCases,
    ::testing::Values(PoolCase{"rectangular", {.kernel_size = {3, 2}}, 7, 6},
                      PoolCase{"stride (2, 1), padding 1", {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = 1}, 7, 5},
                      PoolCase{"2x2, padding 1", {.kernel_size = 2, .padding = 1}, 5, 6},
                      PoolCase{"ceil_mode", {.kernel_size = 3, .stride = 2, .ceil_mode = true}, 6, 7},
                      PoolCase{"2x2 ceil_mode on odd sizes", {.kernel_size = 2, .ceil_mode = true}, 5, 7},
                      PoolCase{"ceil_mode with padding, last window dropped",
                               {.kernel_size = {3, 2}, .stride = 2, .padding = 1, .ceil_mode = true},
                               6,
                               5}),
    [](const ::testing::TestParamInfo<PoolCase>& info) { return "case" + std::to_string(info.index); });

TEST(AvgPool2dOptions, OnesAverageToTheirShareOfThePaddedWindowOrToOne) {
  // On x = 1: with count_include_pad the corner window (2×2 of a 3×3 window
  // inside x) averages to 4/9; without it every window averages to 1.
  const Tensor<double> none = Tensor<double>::from_shape({0});
  const Tensor<double> ones = xt::ones<double>({1, 1, 4, 4});
  ad::Tape<double> tape;
  const Pool2dOptions o{.kernel_size = 3, .stride = 1, .padding = 1};
  const Tensor<double> with = AvgPool2d<double>(o).forward(tape.constant(none), tape.constant(ones)).value();
  EXPECT_DOUBLE_EQ(with(0, 0, 0, 0), 4.0 / 9.0);
  EXPECT_DOUBLE_EQ(with(0, 0, 0, 1), 6.0 / 9.0);
  EXPECT_DOUBLE_EQ(with(0, 0, 1, 1), 1.0);
  Pool2dOptions without = o;
  without.count_include_pad = false;
  const Tensor<double> y = AvgPool2d<double>(without).forward(tape.constant(none), tape.constant(ones)).value();
  EXPECT_LT(relative_error(y, xt::ones<double>(y.shape())), 1e-15);
}

TEST(MaxPool2dOptions, PaddingIsNeverChosenEvenWhenTheInputIsNegative) {
  const Tensor<double> none = Tensor<double>::from_shape({0});
  const Tensor<double> x = -1.0 - xt::abs(randn({1, 2, 4, 5}, 3));
  ad::Tape<double> tape;
  const Tensor<double> y =
      MaxPool2d<double>({.kernel_size = 2, .padding = 1}).forward(tape.constant(none), tape.constant(x)).value();
  EXPECT_LT(xt::amax(y)(), -1.0);  // a zero would win if the padding competed
  EXPECT_EQ(y(0, 0, 0, 0), x(0, 0, 0, 0));  // the corner window holds one element of x
}

TEST(Pool2dOptions, DescribeShowsOnlyTheOptionsSet) {
  EXPECT_EQ(MaxPool2d<double>(2).describe(), "MaxPool2d(kernel 2, stride 2)");
  EXPECT_EQ(MaxPool2d<double>({.kernel_size = {3, 2}, .stride = {2, 0}, .padding = {1, 0}, .ceil_mode = true})
                .describe(),
            "MaxPool2d(kernel 3x2, stride 2, padding 1x0, ceil_mode)");
  EXPECT_EQ(AvgPool2d<double>({.kernel_size = 3, .padding = 1, .count_include_pad = false}).describe(),
            "AvgPool2d(kernel 3, stride 3, padding 1, count_include_pad false)");
}

TEST(Pool2dOptions, BadOptionsAndInputsAreRefusedSayingWhatWasExpected) {
  const std::string pad = error_of([] { MaxPool2d<double>({.kernel_size = {3, 2}, .padding = 2}); });
  expect_contains(pad, "MaxPool2d: padding = 2, expected at most half of kernel_size = 3x2");
  expect_contains(error_of([] { AvgPool2d<double>({.kernel_size = {2, 0}}); }), "kernel_size = 2x0, expected at least 1");
  ad::Tape<double> tape;
  const std::string small = error_of([&] {
    AvgPool2d<double>({.kernel_size = {3, 4}, .padding = 1})
        .forward(tape.constant(Tensor<double>::from_shape({0})), tape.constant(xt::zeros<double>({1, 1, 2, 1})));
  });
  expect_contains(small, "(1, 1, 2, 1)");
  expect_contains(small, "height + 2 * 1 >= 3 and width + 2 * 1 >= 4");
  const std::string op = error_of([&] {
    ops::max_pool2d(tape.constant(xt::zeros<double>({1, 1, 5, 5})), ops::Pool2dGeometry{.kernel = 2, .padding = 2});
  });
  expect_contains(op, "padding must be at most half the kernel");
}

// ---- fusion --------------------------------------------------------------

struct FusedCase {
  const char* name;
  Conv2dOptions conv;
  Pool2dOptions pool;
  std::size_t h, w;
};

void PrintTo(const FusedCase& c, std::ostream* os) { *os << c.name; }

Sequential<double> conv_pool_tanh(const FusedCase& c) {
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", c.conv);
  net.emplace<MaxPool2d<double>>("pool", c.pool);
  net.emplace<Tanh<double>>("act");
  return net;
}

class FusedOptionCases : public ::testing::TestWithParam<FusedCase> {};

TEST_P(FusedOptionCases, FusedEqualsTheLayersAndFiniteDifferences) {
  const FusedCase& c = GetParam();
  const Sequential<double> net = conv_pool_tanh(c);
  const auto model = std::make_shared<const Sequential<double>>(net);
  const std::shared_ptr<const Module<double>> fused = nn::fuse<double>(model);
  ASSERT_NE(fused, model);
  SCOPED_TRACE(fused->describe());
  const Shape x_shape{2, c.conv.in_channels, c.h, c.w};
  const Problem pr = problem(net, x_shape, 41);
  ad::Tape<double> tape;
  const ad::Var<double> y = fused->forward(tape.constant(pr.w), tape.constant(pr.x));
  EXPECT_EQ(tape.node_info(y.index()).op, "conv2d_max_pool2d_tanh");
  EXPECT_LT(relative_error(y.value(), net.forward(tape.constant(pr.w), tape.constant(pr.x)).value()), 1e-14);
  // Gradient and H·v jointly in (w, x), fused against the layers.
  const Tensor<double> z = joined(pr), v = randn({z.size()}, 42);
  const std::size_t p = net.num_parameters();
  auto through = [&](const Module<double>& m) {
    return [&](const ad::Var<double>& zv) {
      return readout(m.forward(ad::slice(zv, 0, p), ad::reshape(ad::slice(zv, p, zv.size()), x_shape)));
    };
  };
  const auto a = ad::hvp(through(*fused), z, v), b = ad::hvp(through(net), z, v);
  EXPECT_NEAR(a.value, b.value, 1e-13 * std::abs(b.value));
  EXPECT_LT(relative_error(a.grad, b.grad), 1e-13);
  EXPECT_LT(relative_error(a.hv, b.hv), 1e-13);
  expect_module_derivatives(*fused, pr);
}

INSTANTIATE_TEST_SUITE_P(
    Options, FusedOptionCases,
    ::testing::Values(
        // 8×8 convolution output, 2×2 windows: the window-ordered (tiled) path, stride 1.
        FusedCase{"tiled, rectangular dilated kernel",
                  {.in_channels = 2, .out_channels = 3, .kernel_size = {3, 5}, .padding = {1, 2}, .dilation = {2, 1}},
                  {},
                  10,
                  8},
        // 4×4 output with stride 2 and dilation 2: tiled, strided.
        FusedCase{"tiled, stride 2 and dilation 2",
                  {.in_channels = 2, .out_channels = 2, .kernel_size = 3, .stride = 2, .padding = 2, .dilation = 2},
                  {},
                  8,
                  8},
        // 5×6 output, pooling with padding and ceil_mode: the general path.
        FusedCase{"general, pooling padded with ceil_mode",
                  {.in_channels = 1, .out_channels = 2, .kernel_size = 3, .stride = {2, 1}, .padding = 1, .dilation = 2},
                  {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = 1, .ceil_mode = true},
                  11,
                  8}),
    [](const ::testing::TestParamInfo<FusedCase>& info) { return "case" + std::to_string(info.index); });

TEST(FusedOptions, AGroupedConvolutionIsLeftUnfusedAndStillEqualsItself) {
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = 3,
                                                    .padding = 1, .groups = 2});
  net.emplace<MaxPool2d<double>>("pool", 2);
  net.emplace<ReLU<double>>("act");
  const auto model = std::make_shared<const Sequential<double>>(net);
  const std::shared_ptr<const Module<double>> after = nn::fuse<double>(model);
  EXPECT_EQ(after, model);  // nothing to fuse: the very same model
  EXPECT_EQ(after->describe(), model->describe());
  const Problem pr = problem(net, {2, 4, 6, 6}, 51);
  ad::Tape<double> tape;
  const ad::Var<double> y = after->forward(tape.constant(pr.w), tape.constant(pr.x));
  EXPECT_TRUE(y.value() == net.forward(tape.constant(pr.w), tape.constant(pr.x)).value());
  for (std::size_t i = 0; i < tape.size(); ++i)
    EXPECT_EQ(tape.node_info(i).op.find("conv2d_max_pool2d"), std::string::npos) << tape.node_info(i).op;

  expect_contains(error_of([] {
                    Conv2dMaxPool2d<double>({.in_channels = 4, .out_channels = 4, .groups = 2}, Pool2dOptions{});
                  }),
                  "groups = 2, expected 1");
  expect_contains(error_of([&] {
                    ops::conv2d_max_pool2d(tape.constant(xt::zeros<double>({1, 4, 6, 6})),
                                           tape.constant(xt::zeros<double>({4, 2, 3, 3})),
                                           ops::Conv2dGeometry{.groups = 2});
                  }),
                  "conv2d_max_pool2d: groups = 2, expected 1");
}

}  // namespace
