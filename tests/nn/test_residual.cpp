// nn::Residual: y = body(x) + x, or + shortcut(x): its value against the
// children run alone, its derivatives through the test kit (also with a
// Dropout inside, in a training context), its parameter names and offsets,
// and the refused shapes.
#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace curv::nn::testing {
namespace {

template <class T>
std::shared_ptr<Sequential<T>> body(std::size_t in, std::size_t out, double p = 0) {
  auto f = std::make_shared<Sequential<T>>();
  f->template emplace<Linear<T>>("fc1", LinearOptions{in, 5});
  f->template emplace<GELU<T>>("act");
  if (p > 0) f->template emplace<Dropout<T>>("drop", p);
  f->template emplace<Linear<T>>("fc2", LinearOptions{5, out});
  return f;
}

Tensor<double> run(const Module<double>& m, const Tensor<double>& w, const Tensor<double>& x) {
  ad::Tape<double> tape;
  return m.forward(tape.constant(w), tape.constant(x)).value();
}

TEST(Residual, AddsTheBodyToTheInputOrToTheShortcutsOutput) {
  const auto f = body<double>(4, 4);
  const Residual<double> identity(f);
  const Tensor<double> w = randn({identity.num_parameters()}, 1), x = randn({3, 4}, 2);
  EXPECT_LT(relative_error(run(identity, w, x), Tensor<double>(run(*f, w, x) + x)), 1e-15);

  const auto g = body<double>(4, 3);
  const auto projection = std::make_shared<const Linear<double>>(LinearOptions{4, 3, false});
  const Residual<double> projected(g, projection);
  ASSERT_TRUE(projected.has_shortcut());
  ASSERT_EQ(projected.num_parameters(), g->num_parameters() + 12);
  const Tensor<double> v = randn({projected.num_parameters()}, 3);
  const Tensor<double> wg = xt::view(v, xt::range(0, g->num_parameters()));
  const Tensor<double> ws = xt::view(v, xt::range(g->num_parameters(), v.size()));
  EXPECT_LT(relative_error(run(projected, v, x), Tensor<double>(run(*g, wg, x) + run(*projection, ws, x))), 1e-15);
  EXPECT_EQ(projected.parameter("shortcut.weight").offset, g->num_parameters());
  EXPECT_EQ(projected.parameter("body.fc2.bias").offset, g->num_parameters() - 3);
}

TEST(Residual, DerivativesAreExactAlsoWithADropoutInsideInTraining) {
  ForwardContext training;
  training.mode = Mode::train;
  training.seed = 4;
  for (const double p : {0.0, 0.3}) {
    const Residual<double> m64(body<double>(4, 3, p), std::make_shared<const Linear<double>>(LinearOptions{4, 3}));
    const Residual<float> m32(body<float>(4, 3, p), std::make_shared<const Linear<float>>(LinearOptions{4, 3}));
    const Problem pr{randn({m64.num_parameters()}, 5), randn({6, 4}, 6)};
    expect_derivatives_in(training, m64, m32, pr);
  }
  const Residual<double> plain(body<double>(4, 4));
  expect_module_derivatives(plain, {randn({plain.num_parameters()}, 7), randn({2, 4}, 8)});
}

TEST(Residual, RefusesShapesThatDoNotAddAndANullBody) {
  const Residual<double> wrong(body<double>(4, 3));
  const std::string e = error_of([&] { run(wrong, randn({wrong.num_parameters()}, 1), randn({2, 4}, 2)); });
  EXPECT_NE(e.find("the body's output has shape (2, 3) but the input has shape (2, 4)"), std::string::npos) << e;
  EXPECT_NE(error_of([] { Residual<double>(nullptr); }).find("null module"), std::string::npos);
}

}  // namespace
}  // namespace curv::nn::testing
