// What nn::fuse does. A Conv2d followed by a MaxPool2d (and a Tanh or ReLU)
// becomes one module running one op (ops::conv2d_max_pool2d): the same
// values and derivatives as the separate layers (to rounding: sums run in
// another order), derivatives against finite differences, results that do
// not depend on the thread count, and a tape without the convolution's
// output; the pass keeps names and parameters, recurses into nested
// Sequentials and leaves everything else alone. A Flatten followed by a
// Linear needs no fusion: the flattened input is a view, read in place.
#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <ostream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "../../nn/src/window_runs.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

struct FusedCase {
  std::size_t n, in, out, h, w;  // input (n, in, h, w); output channels
  std::size_t k, stride, padding;
  Pool2dOptions pool;
  bool bias = true;
  ops::PooledActivation activation = ops::PooledActivation::identity;  // a layer after the pooling
  Conv2dOptions conv() const { return Conv2dOptions{in, out, k, stride, padding, bias}; }
};

const char* activation_name(ops::PooledActivation a) {
  switch (a) {
    case ops::PooledActivation::tanh: return "tanh";
    case ops::PooledActivation::relu: return "relu";
    default: return "";
  }
}

std::string describe(const FusedCase& c) {
  const std::string a = activation_name(c.activation);
  return Conv2d<double>(c.conv()).describe() + " then " + MaxPool2d<double>(c.pool).describe() +
         (a.empty() ? "" : " then " + a) + " on (" + std::to_string(c.n) + ", " + std::to_string(c.in) + ", " +
         std::to_string(c.h) + ", " + std::to_string(c.w) + ")";
}

void PrintTo(const FusedCase& c, std::ostream* os) { *os << describe(c); }

template <class T>
Sequential<T> conv_then_pool(const FusedCase& c) {
  Sequential<T> net;
  net.template emplace<Conv2d<T>>("conv", c.conv());
  net.template emplace<MaxPool2d<T>>("pool", c.pool);
  if (c.activation == ops::PooledActivation::tanh) net.template emplace<Tanh<T>>("act");
  if (c.activation == ops::PooledActivation::relu) net.template emplace<ReLU<T>>("act");
  return net;
}

// net after nn::fuse.
template <class T>
std::shared_ptr<const Module<T>> fused(const Sequential<T>& net) {
  return nn::fuse<T>(std::make_shared<const Sequential<T>>(net));
}

// The layers as separate ops, as the unfused Sequential runs them.
template <class T>
ad::Var<T> unfused(const Sequential<T>& net, const ad::Var<T>& w, const ad::Var<T>& x) {
  const ad::Var<T> none = w.tape().constant(Tensor<T>::from_shape({0}));
  ad::Var<T> y = net.child(1).forward(none, net.child(0).forward(w, x));
  if (net.size() > 2) y = net.child(2).forward(none, y);
  return y;
}

std::string fused_op_name(const FusedCase& c) {
  const std::string a = activation_name(c.activation);
  return a.empty() ? "conv2d_max_pool2d" : "conv2d_max_pool2d_" + a;
}

class FusedCases : public ::testing::TestWithParam<FusedCase> {};

// Where 2×2 windows tile the convolution's output the fused op hands the
// gemm the output positions in window order (a block of planes at a time),
// and BLAS kernels may round a column differently by where it sits: equal to
// rounding. Otherwise it runs conv2d's very gemm: bit-identical.
bool tiled(const FusedCase& c) {
  const std::size_t oh = (c.h + 2 * c.padding - c.k) / c.stride + 1, ow = (c.w + 2 * c.padding - c.k) / c.stride + 1;
  return c.pool.kernel_size == 2 && (c.pool.stride == 0 || c.pool.stride == 2) && oh % 2 == 0 && ow % 2 == 0;
}

TEST_P(FusedCases, ValuesMatchConvThenPool) {
  const FusedCase& c = GetParam();
  SCOPED_TRACE(describe(c));
  const Sequential<double> net = conv_then_pool<double>(c);
  ad::Tape<double> tape;
  const ad::Var<double> w = tape.variable(net.initialize(1));
  const ad::Var<double> x = tape.variable(randn({c.n, c.in, c.h, c.w}, 2));
  const ad::Var<double> fused_y = fused(net)->forward(w, x);
  EXPECT_EQ(tape.node_info(fused_y.index()).op, fused_op_name(c));
  const Tensor<double> reference = unfused(net, w, x).value();
  if (tiled(c))
    EXPECT_LT(relative_error(fused_y.value(), reference), 1e-15);
  else
    EXPECT_TRUE(fused_y.value() == reference);
}

TEST_P(FusedCases, GradientAndHvpMatchConvThenPool) {
  const FusedCase& c = GetParam();
  SCOPED_TRACE(describe(c));
  const Sequential<double> net = conv_then_pool<double>(c);
  const Shape x_shape{c.n, c.in, c.h, c.w};
  const Problem pr{net.initialize(3) + randn({net.num_parameters()}, 4, 0.1), randn(x_shape, 5)};
  const Tensor<double> z = joined(pr), v = randn({z.size()}, 6);
  const std::size_t p = net.num_parameters();
  auto split = [&](const ad::Var<double>& zv, auto forward) {
    const ad::Var<double> w = ad::slice(zv, 0, p);
    const ad::Var<double> x = ad::reshape(ad::slice(zv, p, zv.size()), x_shape);
    return readout(forward(w, x));
  };
  const auto f = fused(net);
  const auto a = ad::hvp([&](const auto& zv) { return split(zv, [&](auto w, auto x) { return f->forward(w, x); }); }, z, v);
  const auto b = ad::hvp([&](const auto& zv) { return split(zv, [&](auto w, auto x) { return unfused(net, w, x); }); }, z, v);
  if (tiled(c))
    EXPECT_NEAR(a.value, b.value, 1e-14 * std::abs(b.value));
  else
    EXPECT_EQ(a.value, b.value);
  EXPECT_LT(relative_error(a.grad, b.grad), 1e-14);
  EXPECT_LT(relative_error(a.hv, b.hv), 1e-14);
}

TEST_P(FusedCases, DerivativesMatchFiniteDifferences) {
  const FusedCase& c = GetParam();
  SCOPED_TRACE(describe(c));
  const Sequential<double> net = conv_then_pool<double>(c);
  expect_module_derivatives(*fused(net), {net.initialize(7) + randn({net.num_parameters()}, 8, 0.1),
                                          randn({c.n, c.in, c.h, c.w}, 9)});
}

TEST_P(FusedCases, Float32MatchesFloat64) {
  const FusedCase& c = GetParam();
  SCOPED_TRACE(describe(c));
  const Sequential<double> net = conv_then_pool<double>(c);
  expect_float32_matches_float64(*fused(conv_then_pool<float>(c)), *fused(net),
                                 {net.initialize(10), randn({c.n, c.in, c.h, c.w}, 11)});
}

// Batches of 1, 5 and 9 samples: one block, a short last block (blocks are 4
// samples), several blocks. Outputs whose windows tile the convolution's
// output and ones that leave rows and columns out, overlapping windows,
// stride and padding, with and without bias, with the unfolded input kept
// from the forward pass (C·k·k ≤ O) and unfolded again; each without an
// activation, with a Tanh and with a ReLU after the pooling.
std::vector<FusedCase> fused_cases() {
  const FusedCase geometries[] = {
      FusedCase{9, 1, 4, 8, 8, 3, 1, 1, {2, 0}},         // the article's, small
      FusedCase{5, 2, 3, 7, 9, 3, 2, 1, {2, 2}},         // conv 4×5: a column unpooled
      FusedCase{1, 2, 3, 6, 7, 3, 1, 0, {3, 2}},         // overlapping 3×3 windows
      FusedCase{5, 1, 2, 5, 5, 2, 1, 0, {2, 1}},         // 2×2 windows, stride 1
      FusedCase{5, 2, 3, 6, 6, 3, 1, 1, {2, 2}, false},  // no bias
      FusedCase{2, 3, 2, 9, 9, 5, 1, 2, {3, 3}},         // 5×5 kernel, 3×3 pool
      // C·k·k ≤ O: the unfolded input is kept from the forward pass
      FusedCase{5, 1, 9, 8, 8, 3, 1, 1, {2, 0}},  // tiled
      FusedCase{3, 1, 6, 7, 7, 2, 1, 0, {3, 2}},  // not tiled
  };
  std::vector<FusedCase> all;
  for (const auto a : {ops::PooledActivation::identity, ops::PooledActivation::tanh, ops::PooledActivation::relu})
    for (FusedCase c : geometries) {
      c.activation = a;
      all.push_back(c);
    }
  return all;
}
INSTANTIATE_TEST_SUITE_P(Geometries, FusedCases, ::testing::ValuesIn(fused_cases()));

// A first layer's input is data (a constant): its tangent and weight adjoints
// then take the direct kernels when the windows tile and the convolution has
// few taps (C·k·k ≤ 32). Pooled planes of 36 and 25 positions: whole vectors
// and a tail in float and double. float32 against the float64 result.
TEST(FusedConvPool, FirstLayerDerivativesMatchTheSeparateOps) {
  using A = ops::PooledActivation;
  for (const FusedCase& c : {FusedCase{6, 1, 5, 12, 12, 3, 1, 1, {2, 0}, true, A::tanh},
                             FusedCase{5, 3, 4, 10, 10, 3, 1, 1, {2, 0}, true, A::relu},
                             FusedCase{3, 2, 3, 10, 10, 3, 1, 1, {2, 0}, false, A::identity}}) {
    SCOPED_TRACE(describe(c));
    const Sequential<double> net = conv_then_pool<double>(c);
    const std::size_t p = net.num_parameters();
    const Tensor<double> x = randn({c.n, c.in, c.h, c.w}, 1);
    const Tensor<double> w = net.initialize(2) + randn({p}, 3, 0.1), v = randn({p}, 4);
    const auto f = fused(net);
    const auto one_op = ad::hvp([&](const auto& q) { return readout(f->forward(q, q.tape().constant(x))); }, w, v);
    const auto separate =
        ad::hvp([&](const auto& q) { return readout(unfused(net, q, q.tape().constant(x))); }, w, v);
    EXPECT_NEAR(one_op.value, separate.value, 1e-14 * std::abs(separate.value));
    EXPECT_LT(relative_error(one_op.grad, separate.grad), 1e-14);
    EXPECT_LT(relative_error(one_op.hv, separate.hv), 1e-13);

    const auto net32 = fused(conv_then_pool<float>(c));
    const Tensor<float> x32 = cast<float>(x);
    const auto single =
        ad::hvp([&](const auto& q) { return readout(net32->forward(q, q.tape().constant(x32))); }, cast<float>(w),
                cast<float>(v));
    EXPECT_LT(relative_error(widen(single.grad), separate.grad), 2e-4);
    EXPECT_LT(relative_error(widen(single.hv), separate.hv), 2e-4);
  }
}

// The vector loops over window runs against their scalar definitions, bit
// for bit: ties between window elements (the first in order wins, as
// max_pool2d's choice), ±0, a bias or none; 37 positions per plane, so whole
// vectors and a tail in float (16 lanes) and double (8).
template <class T>
void expect_window_runs_match_their_definitions() {
  using ops::detail::Choice;
  const std::size_t planes = 3, q = 37;
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> level(-2, 2);  // few distinct values: many ties
  std::vector<T> z(planes * 4 * q), bias{T(0.5), T(-0.25), T(0)}, u(planes * q);
  for (T& e : z) e = static_cast<T>(level(rng)) / T(4);
  for (T& e : u) e = static_cast<T>(level(rng)) + T(0.5);
  z[0] = T(-0.0);  // −0 against +0 elsewhere in its window: equal, the first wins
  for (const T* b : {static_cast<const T*>(nullptr), static_cast<const T*>(bias.data())}) {
    std::vector<T> y(planes * q);
    std::vector<Choice> ch(planes * q);
    ops::detail::pool_window_runs(z.data(), b, planes, q, y.data(), ch.data());
    std::size_t mismatches = 0;
    for (std::size_t o = 0; o < planes; ++o)
      for (std::size_t k = 0; k < q; ++k) {
        T v[4];
        for (std::size_t e = 0; e < 4; ++e) v[e] = b ? z[o * 4 * q + e * q + k] + b[o] : z[o * 4 * q + e * q + k];
        const T max = std::max(std::max(v[0], v[1]), std::max(v[2], v[3]));
        const std::size_t first = static_cast<std::size_t>(std::find(v, v + 4, max) - v);
        mismatches += std::memcmp(&y[o * q + k], &max, sizeof(T)) != 0 || ch[o * q + k] != first;
      }
    EXPECT_EQ(mismatches, 0u) << (b ? "with" : "without") << " a bias";

    std::vector<T> zbar(z.size(), T(7)), back(u.size());
    ops::detail::scatter_window_runs(ch.data(), u.data(), planes, q, zbar.data());
    ops::detail::gather_window_runs(ch.data(), zbar.data(), planes, q, back.data());
    mismatches = 0;
    for (std::size_t o = 0; o < planes; ++o)
      for (std::size_t k = 0; k < q; ++k)
        for (std::size_t e = 0; e < 4; ++e)
          mismatches += zbar[o * 4 * q + e * q + k] != (ch[o * q + k] == e ? u[o * q + k] : T(0));
    EXPECT_EQ(mismatches, 0u);
    EXPECT_TRUE(back == u);
  }
}

TEST(FusedConvPool, WindowRunLoopsMatchTheirDefinitions) {
  expect_window_runs_match_their_definitions<float>();
  expect_window_runs_match_their_definitions<double>();
}

TEST(FusedConvPool, ResultsDoNotDependOnTheThreadCount) {
  const FusedCase c{13, 2, 8, 12, 12, 3, 1, 1, {2, 0}};
  const auto net = fused(conv_then_pool<double>(c));
  const Tensor<double> x = randn({c.n, c.in, c.h, c.w}, 1);
  const Tensor<double> w = net->initialize(2), v = randn({net->num_parameters()}, 3);
  auto f = [&](const ad::Var<double>& p) { return readout(net->forward(p, p.tape().constant(x))); };
  const auto many = ad::hvp(f, w, v);
  ad::Hvp<double> one;
  {
    const tbb::global_control only_one(tbb::global_control::max_allowed_parallelism, 1);
    one = ad::hvp(f, w, v);
  }
  EXPECT_EQ(many.value, one.value);
  EXPECT_TRUE(many.grad == one.grad);
  EXPECT_TRUE(many.hv == one.hv);
}

TEST(FusedConvPool, FusedArticleCnnTapeHoldsNoConvolutionOutput) {
  const auto net = fused(models::article_cnn<float>());
  ad::Tape<float> tape;
  const ad::Var<float> w = tape.variable(net->initialize(1));
  Tensor<float> x = Tensor<float>::from_shape({2, 1, 28, 28});
  x.fill(0.25f);
  const ad::Var<float> y = net->forward(w, tape.constant(x));
  // Nor the pooled output before its tanh: one node of 2×32×14×14 values.
  std::size_t fused = 0, pooled = 0;
  for (std::size_t i = 0; i < tape.size(); ++i) {
    if (i == w.index()) continue;
    const ad::Tape<float>::NodeInfo n = tape.node_info(i);
    EXPECT_LT(n.value_size, 2u * 32 * 28 * 28) << "node " << i;
    if (n.value_size == 2u * 32 * 14 * 14) ++pooled;
    if (n.op == "conv2d_max_pool2d_tanh") ++fused;
  }
  EXPECT_EQ(fused, 1u);
  EXPECT_EQ(pooled, 1u);
  EXPECT_EQ(y.shape(), (Shape{2, 10}));
}

TEST(FusedConvPool, AnInputThePoolCannotTakeIsReportedWithTheConvolutionsOutput) {
  // The convolution's output (1, 1, 2, 2) is smaller than the 3×3 window:
  // unfused, the pooling layer's check names it; fused, the fused module
  // (in the convolution's place, under its name) names the pooling's input.
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{1, 1, 1});
  net.emplace<MaxPool2d<double>>("pool", 3);
  ad::Tape<double> tape;
  const ad::Var<double> w = tape.constant(net.initialize(1)), x = tape.constant(xt::zeros<double>({1, 1, 2, 2}));
  const std::string plain = error_of([&] { net.forward(w, x); });
  EXPECT_NE(plain.find("layer 'pool'"), std::string::npos) << plain;
  EXPECT_NE(plain.find("(1, 1, 2, 2)"), std::string::npos) << plain;
  const std::string one_op = error_of([&] { fused(net)->forward(w, x); });
  EXPECT_NE(one_op.find("layer 'conv' (Conv2dMaxPool2d("), std::string::npos) << one_op;
  EXPECT_NE(one_op.find("the convolution's output has shape (1, 1, 2, 2), expected height, width >= 3"),
            std::string::npos)
      << one_op;
}

// A layer fuse() does not know (here a user's identity module) between the
// convolution and the pooling keeps them apart; a nested Sequential is fused
// inside; a model with nothing to fuse comes back as the same object; names,
// parameters and what describe() says follow.
class Identity final : public Module<double> {
 public:
  std::size_t num_parameters() const override { return 0; }
  ad::Var<double> forward(const ad::Var<double>&, const ad::Var<double>& x) const override { return x; }
};

TEST(Fuse, RewritesOnlyTheRunsItKnowsKeepingNamesAndParameters) {
  auto inner = std::make_shared<Sequential<double>>();
  inner->emplace<Conv2d<double>>("c", Conv2dOptions{2, 3, 3, 1, 1});
  inner->emplace<MaxPool2d<double>>("p", 2);
  inner->emplace<ReLU<double>>("a");
  auto outer = std::make_shared<Sequential<double>>();
  outer->emplace<Conv2d<double>>("conv", Conv2dOptions{1, 2, 3, 1, 1});
  outer->emplace<Identity>("mine");
  outer->emplace<MaxPool2d<double>>("pool", 2);
  outer->add("block", inner);
  outer->emplace<Flatten<double>>("flat");
  outer->emplace<Linear<double>>("fc", LinearOptions{3 * 2 * 2, 4});
  const std::shared_ptr<const Module<double>> f = nn::fuse<double>(outer);
  EXPECT_EQ(f->describe(), "Sequential(conv, mine, pool, block, flat, fc)");
  const auto& fs = dynamic_cast<const Sequential<double>&>(*f);
  EXPECT_EQ(&fs.child(0), &outer->child(0));  // not fused: the identity stands between
  EXPECT_EQ(fs.child(3).describe(), "Sequential(c)");
  const auto& block = dynamic_cast<const Sequential<double>&>(fs.child(3));
  EXPECT_EQ(block.child(0).describe(),
            "Conv2dMaxPool2d(" + inner->child(0).describe() + ", " + inner->child(1).describe() + ", ReLU)");
  const std::vector<ParameterInfo> a = outer->parameters(), b = f->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].offset, b[i].offset);
    EXPECT_EQ(a[i].shape, b[i].shape);
  }
  EXPECT_TRUE(outer->initialize(5) == f->initialize(5));
  const Tensor<double> x = randn({2, 1, 8, 8}, 1), w = outer->initialize(2), v = randn({outer->num_parameters()}, 3);
  const auto plain = ad::hvp([&](const auto& q) { return readout(outer->forward(q, q.tape().constant(x))); }, w, v);
  const auto one_op = ad::hvp([&](const auto& q) { return readout(f->forward(q, q.tape().constant(x))); }, w, v);
  EXPECT_NEAR(one_op.value, plain.value, 1e-14 * std::abs(plain.value));
  EXPECT_LT(relative_error(one_op.grad, plain.grad), 1e-14);
  EXPECT_LT(relative_error(one_op.hv, plain.hv), 1e-13);

  auto nothing = std::make_shared<const Sequential<double>>(
      std::vector<Sequential<double>::Child>{{"fc", std::make_shared<const Linear<double>>(3, 2)}});
  EXPECT_EQ(nn::fuse<double>(nothing), nothing);
  const std::shared_ptr<const Module<double>> conv = std::make_shared<const Conv2d<double>>(Conv2dOptions{1, 1, 3});
  EXPECT_EQ(nn::fuse<double>(conv), conv);
}

TEST(FusedConvPool, ShapeErrorsNameTheOpAndTheShapes) {
  ad::Tape<double> tape;
  const ad::Var<double> x = tape.constant(xt::zeros<double>({1, 2, 5, 5}));
  const ad::Var<double> w = tape.constant(xt::zeros<double>({3, 1, 3, 3}));
  const std::string channels = error_of([&] { ops::conv2d_max_pool2d(x, w); });
  EXPECT_NE(channels.find("input channels 2 differ from the weight's 1"), std::string::npos) << channels;
}

// Flatten returns a view of its input: Linear reads the unflattened input
// in place and writes x̄ straight into the input's adjoint, bit-identical to
// reading a flattened copy, with nothing input-sized stored for the view.
TEST(FlattenLinear, AViewOfTheInputBitIdenticalToACopyAndStoringNothing) {
  Sequential<double> net;
  net.emplace<Flatten<double>>("flatten");
  net.emplace<Linear<double>>("fc", LinearOptions{2 * 3 * 4, 5});
  const Tensor<double> x = randn({6, 2, 3, 4}, 1), v = randn({net.num_parameters()}, 2);
  const Tensor<double> w = net.initialize(3);
  auto in_place = [&](const ad::Var<double>& p) { return readout(net.forward(p, p.tape().constant(x))); };
  auto copy = [&](const ad::Var<double>& p) {
    const ad::Var<double> flat = p.tape().constant(Tensor<double>(xt::reshape_view(x, {6, 24})));
    return readout(net.child(1).forward(p, flat));
  };
  const auto a = ad::hvp(in_place, w, v), b = ad::hvp(copy, w, v);
  EXPECT_EQ(a.value, b.value);
  EXPECT_TRUE(a.grad == b.grad);
  EXPECT_TRUE(a.hv == b.hv);
  ad::Tape<double> tape;
  const ad::Var<double> xv = tape.variable(x);
  tape.backward(ad::sum(net.forward(tape.constant(w), xv)));
  for (std::size_t i = 0; i < tape.size(); ++i)
    if (tape.node_info(i).op == "view" && tape.node_info(i).value_size == x.size()) ADD_FAILURE() << "node " << i;
  EXPECT_EQ(xv.grad().shape(), x.shape());
  // With respect to the input too: x̄ comes back in x's 4-D shape.
  expect_module_derivatives(net, {w, x});
}

TEST(FlattenLinear, AnInputOfTheWrongSizeIsReportedByTheLinearLayer) {
  Sequential<double> net;
  net.emplace<Flatten<double>>("flatten");
  net.emplace<Linear<double>>("fc", LinearOptions{7, 2});
  ad::Tape<double> tape;
  const std::string msg = error_of(
      [&] { net.forward(tape.constant(net.initialize(1)), tape.constant(xt::zeros<double>({3, 2, 3}))); });
  EXPECT_NE(msg.find("layer 'fc'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 6)"), std::string::npos) << msg;
}

}  // namespace
