// Dropout and the forward context: the mask as a pure function of (seed,
// epoch, the layer's place, the example's row, the element) — its rate and
// scale, its independence of the batch an example sits in, a new mask per
// epoch, seed and place, the same for a fused model —, evaluation mode as
// the identity, and the derivatives of a training pass through the test kit
// (float64 against finite differences, float32 against float64).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "harness.hpp"

namespace curv::nn::testing {
namespace {

ForwardContext training(std::uint64_t seed, std::uint64_t epoch, std::span<const std::size_t> rows = {}) {
  ForwardContext c;
  c.mode = Mode::train;
  c.seed = seed;
  c.epoch = epoch;
  c.rows = rows;
  return c;
}

Tensor<double> run(const Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                   const ForwardContext& context) {
  ad::Tape<double> tape;
  return m.forward(tape.constant(w), tape.constant(x), context).value();
}

Tensor<double> ones(const Shape& shape) { return xt::ones<double>(shape); }

TEST(Dropout, ZeroesAboutPOfTheElementsAndScalesTheRestByOneOverOneMinusP) {
  const Dropout<double> drop(0.3);
  const Tensor<double> y = run(drop, Tensor<double>::from_shape({0}), ones({200, 500}), training(7, 0));
  std::size_t zeros = 0;
  for (const double v : y) {
    if (v == 0) {
      ++zeros;
    } else {
      ASSERT_EQ(v, 1 / (1 - 0.3));
    }
  }
  // 100,000 independent draws: the standard error of the rate is 0.0014.
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(y.size()), 0.3, 0.006);
}

TEST(Dropout, EvaluationModeAndTheTwoArgumentFormAreTheIdentity) {
  const Dropout<double> drop(0.5);
  const Tensor<double> x = randn({4, 6}, 1);
  const Tensor<double> none = Tensor<double>::from_shape({0});
  EXPECT_EQ(run(drop, none, x, ForwardContext{}), x);
  ad::Tape<double> tape;
  EXPECT_EQ(drop.forward(tape.constant(none), tape.constant(x)).value(), x);
  EXPECT_EQ(run(Dropout<double>(0.0), none, x, training(1, 0)), x);
  EXPECT_EQ(run(Dropout<double>(1.0), none, x, training(1, 0)), Tensor<double>(xt::zeros<double>({4, 6})));
}

TEST(Dropout, AnExamplesMaskFollowsItsDatasetRowNotItsPlaceInTheBatch) {
  const Dropout<double> drop(0.5);
  const Tensor<double> none = Tensor<double>::from_shape({0});
  const std::vector<std::size_t> rows{5, 9, 2}, reversed{2, 9, 5}, alone{9};
  const Tensor<double> three = run(drop, none, ones({3, 40}), training(3, 4, rows));
  const Tensor<double> back = run(drop, none, ones({3, 40}), training(3, 4, reversed));
  const Tensor<double> one = run(drop, none, ones({1, 40}), training(3, 4, alone));
  for (std::size_t k = 0; k < 40; ++k) {
    EXPECT_EQ(three(0, k), back(2, k));
    EXPECT_EQ(three(1, k), back(1, k));
    EXPECT_EQ(three(1, k), one(0, k));
  }
  // Without rows the batch's positions stand in: row j is position j.
  const std::vector<std::size_t> positions{0, 1, 2};
  EXPECT_EQ(run(drop, none, ones({3, 40}), training(3, 4)), run(drop, none, ones({3, 40}), training(3, 4, positions)));
}

TEST(Dropout, EachEpochSeedAndPlaceInTheModelDrawsItsOwnMask) {
  const Tensor<double> none = Tensor<double>::from_shape({0});
  const Tensor<double> x = ones({8, 64});
  const Dropout<double> drop(0.5);
  const Tensor<double> base = run(drop, none, x, training(3, 4));
  EXPECT_EQ(run(drop, none, x, training(3, 4)), base);  // a pure function
  EXPECT_NE(run(drop, none, x, training(3, 5)), base);
  EXPECT_NE(run(drop, none, x, training(4, 4)), base);
  EXPECT_NE(run(drop, none, x, training(3, 4).child("drop")), base);

  // Two places of one shared Dropout in a Sequential: two masks, and the
  // second equals the layer run alone in its child's context.
  auto shared = std::make_shared<const Dropout<double>>(0.5);
  Sequential<double> twice;
  twice.add("a", shared).add("b", shared);
  const Tensor<double> y = run(twice, none, x, training(3, 4));
  const Tensor<double> a = run(*shared, none, x, training(3, 4).child("a"));
  const Tensor<double> b = run(*shared, none, x, training(3, 4).child("b"));
  EXPECT_NE(a, b);
  EXPECT_EQ(y, a * b);  // the product of the two masks on ones
}

TEST(Dropout, AFusedModelDrawsTheSameMasksAsTheModelAsGiven) {
  auto model = std::make_shared<Sequential<double>>();
  Sequential<double>& net = *model;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{1, 2, 3, 1, 1});
  net.emplace<MaxPool2d<double>>("pool", 2);
  net.emplace<Tanh<double>>("act");
  net.emplace<Flatten<double>>("flat");
  net.emplace<Dropout<double>>("drop", 0.4);
  net.emplace<Linear<double>>("fc", LinearOptions{32, 3});
  const std::shared_ptr<const Module<double>> fused = fuse<double>(model);
  ASSERT_NE(fused.get(), static_cast<const Module<double>*>(&net));
  const Tensor<double> w = net.initialize(1), x = randn({3, 1, 8, 8}, 2);
  const std::vector<std::size_t> rows{11, 4, 7};
  const Tensor<double> y = run(net, w, x, training(9, 2, rows));
  EXPECT_LT(relative_error(run(*fused, w, x, training(9, 2, rows)), y), 1e-13);
  EXPECT_GT(relative_error(run(net, w, x, ForwardContext{}), y), 1e-3);  // the masks did act
}

TEST(Dropout, TrainingDerivativesAreExactInFloat64AndFloat32MatchesFloat64) {
  const ForwardContext context = training(5, 1);
  for (const double p : {0.2, 0.5}) {
    Sequential<double> m64;
    m64.emplace<Linear<double>>("fc1", LinearOptions{4, 6});
    m64.emplace<Tanh<double>>("act");
    m64.emplace<Dropout<double>>("drop", p);
    m64.emplace<Linear<double>>("fc2", LinearOptions{6, 2});
    Sequential<float> m32;
    m32.emplace<Linear<float>>("fc1", LinearOptions{4, 6});
    m32.emplace<Tanh<float>>("act");
    m32.emplace<Dropout<float>>("drop", p);
    m32.emplace<Linear<float>>("fc2", LinearOptions{6, 2});
    const Problem pr{randn({m64.num_parameters()}, 3), randn({5, 4}, 4)};
    expect_derivatives_in(context, m64, m32, pr);
    // The training pass differs from evaluation: the check above saw a mask.
    EXPECT_GT(relative_error(run(m64, pr.w, pr.x, context), run(m64, pr.w, pr.x, ForwardContext{})), 1e-3);
  }
}

TEST(Dropout, RefusesABadProbabilityAndRowsThatDoNotMatchTheBatch) {
  EXPECT_NE(error_of([] { Dropout<double>(1.5); }).find("p = 1.5, expected a probability in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Dropout<double>(-0.1); }).find("expected a probability in [0, 1]"), std::string::npos);
  const std::vector<std::size_t> rows{1, 2};
  const std::string e = error_of([&] {
    run(Dropout<double>(0.5), Tensor<double>::from_shape({0}), ones({3, 4}), training(1, 0, rows));
  });
  EXPECT_NE(e.find("names 2 dataset rows for a batch of 3 examples"), std::string::npos) << e;
  EXPECT_EQ(Dropout<double>(0.25).describe(), "Dropout(p=0.25)");
}

}  // namespace
}  // namespace curv::nn::testing
