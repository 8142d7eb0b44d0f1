// SGD and Adam/AdamW against hand-computed PyTorch updates, and their
// minibatch loop over a StochasticObjective.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using namespace curv::optim;

// f(w) = ½(w₀² + 3w₁²), so ∇f(w) = (w₀, 3w₁); w starts at (1, −2).
auto golden_objective() {
  return make_objective<double>(
      [](const Var<double>& w) { return curv::ad::sum(0.5 * (Tensor<double>{1.0, 3.0} * (w * w))); }, 2);
}
const Tensor<double> golden_start = {1.0, -2.0};

using Steps = std::vector<std::vector<double>>;

void expect_steps(const Steps& expected, const std::vector<Tensor<double>>& got) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t t = 0; t < expected.size(); ++t)
    for (std::size_t i = 0; i < 2; ++i)
      EXPECT_NEAR(got[t](i), expected[t][i], 1e-14 * std::abs(expected[t][i]) + 1e-15) << "step " << t + 1;
}

std::vector<Tensor<double>> sgd_path(const SgdOptions& opt) {
  auto obj = golden_objective();
  const SGD<double> sgd(opt);
  SgdState<double> st = sgd.start(golden_start);
  std::vector<Tensor<double>> path;
  for (int t = 0; t < 3; ++t) {
    sgd.step(obj, st);
    path.push_back(st.w);
  }
  return path;
}

std::vector<Tensor<double>> adam_path(const Adam<double>& adam) {
  auto obj = golden_objective();
  AdamState<double> st = adam.start(golden_start);
  std::vector<Tensor<double>> path;
  for (int t = 0; t < 3; ++t) {
    adam.step(obj, st);
    path.push_back(st.w);
  }
  return path;
}

// torch.optim.SGD(lr=0.1): w ← w − 0.1g.
//   step 1: g = (1, −6)        → w = (0.9, −1.4)
//   step 2: g = (0.9, −4.2)    → w = (0.81, −0.98)
//   step 3: g = (0.81, −2.94)  → w = (0.729, −0.686)
TEST(Sgd, PlainMatchesPyTorch) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  expect_steps({{0.9, -1.4}, {0.81, -0.98}, {0.729, -0.686}}, sgd_path(opt));
}

// momentum 0.9, dampening 0.1: b₁ = g₁; bₜ = 0.9bₜ₋₁ + 0.9gₜ; w ← w − 0.1b.
//   step 1: b = (1, −6)                         → w = (0.9, −1.4)
//   step 2: g = (0.9, −4.2), b = (1.71, −9.18)  → w = (0.729, −0.482)
//   step 3: g = (0.729, −1.446), b = (2.1951, −9.5634) → w = (0.50949, 0.47434)
TEST(Sgd, MomentumWithDampeningMatchesPyTorch) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.momentum = 0.9;
  opt.dampening = 0.1;
  expect_steps({{0.9, -1.4}, {0.729, -0.482}, {0.50949, 0.47434}}, sgd_path(opt));
}

// Nesterov, momentum 0.9: b₁ = g₁, bₜ = 0.9bₜ₋₁ + gₜ; w ← w − 0.1(g + 0.9b).
//   step 1: b = (1, −6), d = (1.9, −11.4)            → w = (0.81, −0.86)
//   step 2: g = (0.81, −2.58), b = (1.71, −7.98), d = (2.349, −9.762) → w = (0.5751, 0.1162)
//   step 3: g = (0.5751, 0.3486), b = (2.1141, −6.8334), d = (2.47779, −5.80146) → w = (0.327321, 0.696346)
TEST(Sgd, NesterovMatchesPyTorch) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.momentum = 0.9;
  opt.nesterov = true;
  expect_steps({{0.81, -0.86}, {0.5751, 0.1162}, {0.327321, 0.696346}}, sgd_path(opt));
}

// weight decay 0.01, momentum 0.5: d = g + 0.01w; b₁ = d₁, bₜ = 0.5bₜ₋₁ + dₜ; w ← w − 0.1b.
//   step 1: d = (1.01, −6.02)                    → w = (0.899, −1.398)
//   step 2: d = (0.90799, −4.20798), b = (1.41299, −7.21798) → w = (0.757701, −0.676202)
//   step 3: d = (0.76527801, −2.03536802), b = (1.47177301, −5.64435802) → w = (0.6105237, −0.1117662)
TEST(Sgd, WeightDecayMatchesPyTorch) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.momentum = 0.5;
  opt.weight_decay = 0.01;
  expect_steps({{0.899, -1.398}, {0.757701, -0.676202}, {0.610523699, -0.111766198}}, sgd_path(opt));
}

// torch.optim.Adam(lr=0.1) (β = 0.9, 0.999, ε = 1e-8). Step 1: m = 0.1g,
// v = 0.001g², m̂ = g, v̂ = g², so w ← w − 0.1·g/(|g| + 1e-8) ≈ w − 0.1·sign(g):
//   w₁ = (1 − 0.1/(1 + 1e-8), −2 + 0.1·6/(6 + 1e-8)) = (0.900000001, −1.9000000001666…).
// Steps 2, 3 by the same formulas (m ← m + 0.1(g − m), v ← 0.999v + 0.001g²,
// w ← w − (0.1/(1 − 0.9ᵗ))·m/(√v/√(1 − 0.999ᵗ) + 1e-8)).
TEST(Adam, MatchesPyTorch) {
  AdamOptions opt;
  opt.learning_rate = 0.1;
  expect_steps({{0.90000000099999999, -1.9000000001666666},
                {0.80041222971233816, -1.800166485947237},
                {0.70158627450441502, -1.7006233917912488}},
               adam_path(Adam<double>(opt)));
}

// Adam's L2 weight decay 0.1: g ← g + 0.1w before the moments.
// Step 1: g = (1.1, −6.2) → w = (1 − 0.1·1.1/(1.1 + 1e-8), −2 + 0.1·6.2/(6.2 + 1e-8)).
TEST(Adam, L2WeightDecayMatchesPyTorch) {
  AdamOptions opt;
  opt.learning_rate = 0.1;
  opt.weight_decay = 0.1;
  expect_steps({{0.90000000090909094, -1.9000000001612904},
                {0.80041222952678448, -1.8001664859363686},
                {0.70158627422107234, -1.7006233917747835}},
               adam_path(Adam<double>(opt)));
}

// torch.optim.AdamW(lr=0.1, weight_decay=0.1): w ← w(1 − 0.01) first, then Adam.
// Step 1: w = (0.99, −1.98) − (0.1/(1 + 1e-8), −0.1·6/(6 + 1e-8)) = (0.890000001, −1.880000000166…).
TEST(Adam, AdamWMatchesPyTorch) {
  AdamWOptions opt;
  opt.learning_rate = 0.1;
  opt.weight_decay = 0.1;
  expect_steps({{0.89000000099999999, -1.8800000001666666},
                {0.78157185695416109, -1.7614089504165513},
                {0.67510122318920085, -1.6443686833067828}},
               adam_path(AdamW<double>(opt)));
}

// amsgrad with β₂ = 0.5: the denominator uses v̂ = max over steps of v.
TEST(Adam, AmsgradMatchesPyTorch) {
  AdamOptions opt;
  opt.learning_rate = 0.1;
  opt.beta2 = 0.5;
  opt.amsgrad = true;
  expect_steps({{0.90000000099999999, -1.9000000001666666},
                {0.79862546459718786, -1.7993039765002417},
                {0.69547226545008911, -1.6974448312854531}},
               adam_path(Adam<double>(opt)));
}

TEST(Adam, DefaultsArePyTorchs) {
  const AdamOptions adam;
  EXPECT_EQ(adam.learning_rate, 1e-3);
  EXPECT_EQ(adam.beta1, 0.9);
  EXPECT_EQ(adam.beta2, 0.999);
  EXPECT_EQ(adam.eps, 1e-8);
  EXPECT_EQ(adam.weight_decay, 0.0);
  EXPECT_FALSE(adam.amsgrad);
  const AdamWOptions adamw;
  EXPECT_EQ(adamw.weight_decay, 1e-2);
  EXPECT_TRUE(adamw.decoupled_weight_decay);
}

// The mean of three per-batch losses ½cᵦ|w|², batch b weighing cᵦ = b + 1;
// it records which minibatches it was asked for.
struct ThreeBatches {
  std::vector<std::size_t> epochs_begun;
  std::vector<std::size_t> batches_seen;
  std::size_t dim() const { return 2; }
  std::size_t num_batches() const { return 3; }
  void begin_epoch(std::size_t e) { epochs_begun.push_back(e); }
  double batch_value_and_grad(std::size_t b, const Tensor<double>& w, Tensor<double>& g) {
    batches_seen.push_back(b);
    const double c = static_cast<double>(b + 1);
    g = c * w;
    return 0.5 * c * (w(0) * w(0) + w(1) * w(1));
  }
  double value(const Tensor<double>& w) { return (0.5 + 1.0 + 1.5) / 3 * (w(0) * w(0) + w(1) * w(1)); }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    g = 2.0 * w;
    return value(w);
  }
};
static_assert(StochasticObjective<ThreeBatches, double>);

TEST(Sgd, StepsOncePerMinibatchAndBeginsEachEpoch) {
  ThreeBatches obj;
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.max_iterations = 7;
  const auto r = SGD<double>(opt).minimize(obj, Tensor<double>{1.0, 1.0});
  EXPECT_EQ(r.iterations, 7u);
  EXPECT_EQ(obj.batches_seen, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(obj.epochs_begun, (std::vector<std::size_t>{0, 1, 2}));
  ASSERT_EQ(r.trace.size(), 7u);
  EXPECT_EQ(r.trace[4].epoch, 1u);
  EXPECT_EQ(r.trace[4].batch, 1u);
  EXPECT_NEAR(r.trace[2].passes, 1.0, 1e-12);
  EXPECT_NEAR(r.passes, 7.0 / 3 + 1, 1e-12);  // seven minibatches and the final full value
  // w after the steps: each multiplies w by (1 − 0.1cᵦ).
  const double factor = 0.9 * 0.8 * 0.7 * 0.9 * 0.8 * 0.7 * 0.9;
  EXPECT_NEAR(r.x(0), factor, 1e-14);
}

TEST(Adam, ResumedMidEpochContinuesIdentically) {
  ThreeBatches obj;
  AdamOptions opt;
  opt.learning_rate = 0.05;
  opt.max_iterations = 10;
  const auto whole = Adam<double>(opt).minimize(obj, Tensor<double>{1.0, -1.0});
  AdamOptions part_opt = opt;
  part_opt.max_iterations = 4;
  const auto part = Adam<double>(part_opt).minimize(obj, Tensor<double>{1.0, -1.0});
  ThreeBatches fresh;
  const auto rest = Adam<double>(opt).resume(fresh, part.state);
  EXPECT_EQ(fresh.epochs_begun.front(), 1u);  // re-entered epoch 1 at its second minibatch
  EXPECT_EQ(fresh.batches_seen.front(), 1u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(rest.x(i), whole.x(i));
}

TEST(Adam, PlainObjectiveTakesFullGradientSteps) {
  auto obj = make_objective<double>(test::booth, 2);
  AdamOptions opt;
  opt.learning_rate = 0.05;
  opt.max_iterations = 3000;
  const auto r = Adam<double>(opt).minimize(obj, Tensor<double>{0.0, 0.0});
  EXPECT_EQ(r.stop_reason, StopReason::max_iterations);
  EXPECT_EQ(obj.counts().gradient, 3000u);
  EXPECT_NEAR(r.x(0), 1.0, 1e-3);
  EXPECT_NEAR(r.x(1), 3.0, 1e-3);
}

TEST(Sgd, WorksInSinglePrecision) {
  auto obj = make_objective<float>([](const Var<float>& w) { return curv::ad::sum(w * w); }, 3);
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.momentum = 0.5;
  opt.max_iterations = 100;
  const auto r = SGD<float>(opt).minimize(obj, Tensor<float>{1.0f, -2.0f, 3.0f});
  EXPECT_LT(r.value, 1e-6);
  const auto a = Adam<float>(AdamOptions{}).minimize(obj, Tensor<float>{1.0f, -2.0f, 3.0f});
  EXPECT_LT(a.value, 14.0);
}

}  // namespace
