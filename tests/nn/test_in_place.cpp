// Layers read their weights in place from the flat parameter vector: no
// parameter-sized copy on a tape, and the same numbers as reading copies.
// Ops that write a whole input adjoint skip its zero fill when they are its
// first contributor: the numbers equal accumulating into zeros.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

TEST(InPlaceParameters, ArticleCnnTapeHoldsNoParameterSizedTensorButWAndItsAdjoint) {
  const Sequential<float> net = models::article_cnn<float>();
  const std::size_t fc1 = net.parameter("fc1.weight").size();  // 627,200 of the 628,630
  ad::Tape<float> tape;
  const ad::Var<float> w = tape.variable(net.initialize(1));
  Tensor<float> x = Tensor<float>::from_shape({2, 1, 28, 28});
  x.fill(0.5f);
  const Tensor<float> labels = {3.0f, 7.0f};
  const ad::Var<float> loss = SoftmaxCrossEntropy<float>()(net.forward(w, tape.constant(x)), labels);
  tape.backward(loss);
  for (std::size_t i = 0; i < tape.size(); ++i) {
    if (i == w.index()) continue;
    const ad::Tape<float>::NodeInfo n = tape.node_info(i);
    EXPECT_LT(n.value_size, fc1) << "node " << i << (n.op.empty() ? " (leaf)" : " (" + std::string(n.op) + ")");
    EXPECT_LT(n.adjoint_size, fc1) << "adjoint of node " << i;
  }
  EXPECT_EQ(w.grad().size(), net.num_parameters());
}

// The same network evaluated with every child reading a sliced copy of its
// parameters (the path a user module without forward_at takes).
template <class T>
ad::Var<T> forward_through_copies(const Sequential<T>& net, const ad::Var<T>& w, ad::Var<T> x) {
  for (std::size_t i = 0; i < net.size(); ++i) {
    const Module<T>& m = net.child(i);
    const std::size_t n = m.num_parameters();
    const ad::Var<T> wi = n == 0 ? w.tape().constant(Tensor<T>::from_shape({0}))
                                 : ad::slice(w, net.offset(i), net.offset(i) + n);
    x = m.forward(wi, x);
  }
  return x;
}

TEST(InPlaceParameters, GradientAndHvpAreBitIdenticalToReadingCopies) {
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{2, 3, 3, 2, 1});
  net.emplace<Tanh<double>>("act");
  net.emplace<Flatten<double>>("flat");
  net.emplace<Linear<double>>("fc", LinearOptions{3 * 3 * 3, 4});
  const Tensor<double> x = randn({5, 2, 6, 6}, 1), t = randn({5, 4}, 2);
  const MeanSquaredError<double> loss;
  const Tensor<double> w = net.initialize(3), v = randn({net.num_parameters()}, 4);
  auto in_place = [&](const ad::Var<double>& p) { return loss(net.forward(p, p.tape().constant(x)), t); };
  auto copies = [&](const ad::Var<double>& p) { return loss(forward_through_copies(net, p, p.tape().constant(x)), t); };
  const auto a = ad::hvp(in_place, w, v);
  const auto b = ad::hvp(copies, w, v);
  EXPECT_EQ(a.value, b.value);
  EXPECT_TRUE(a.grad == b.grad);
  EXPECT_TRUE(a.hv == b.hv);
}

// x feeds op twice: the later op's adjoint is written fresh, the earlier one's
// accumulated, so the gradient and H·v must be twice those of one use (to
// rounding: where an element receives several terms they are added in
// another order). A fresh adjoint left partly unwritten would be garbage.
void expect_fresh_and_accumulated_adjoints_agree(const std::function<ad::Var<double>(const ad::Var<double>&)>& op,
                                                 const Tensor<double>& x, const std::string& what) {
  const Tensor<double> v = randn(Shape(x.shape().begin(), x.shape().end()), 99);
  auto once = [&](const ad::Var<double>& p) { return ad::sum(ad::square(op(p))); };
  auto twice = [&](const ad::Var<double>& p) { return ad::sum(ad::square(op(p))) + ad::sum(ad::square(op(p))); };
  const auto a = ad::hvp(once, x, v);
  const auto b = ad::hvp(twice, x, v);
  EXPECT_LT(relative_error(b.grad, Tensor<double>(2.0 * a.grad)), 1e-14) << what;
  EXPECT_LT(relative_error(b.hv, Tensor<double>(2.0 * a.hv)), 1e-14) << what;
}

TEST(FreshAdjoints, WritingAFreshAdjointEqualsAccumulatingIntoZeros) {
  const Tensor<double> img = randn({2, 3, 6, 8}, 1);
  expect_fresh_and_accumulated_adjoints_agree([](const auto& p) { return ad::tanh(p); }, img, "tanh");
  expect_fresh_and_accumulated_adjoints_agree([](const auto& p) { return ops::max_pool2d(p, {2, 2}); }, img,
                                              "max_pool2d 2x2");
  expect_fresh_and_accumulated_adjoints_agree([](const auto& p) { return ops::max_pool2d(p, {3, 1}); }, img,
                                              "max_pool2d 3x3 stride 1");
  expect_fresh_and_accumulated_adjoints_agree([](const auto& p) { return ops::max_pool2d(p, {2, 2}); },
                                              randn({1, 2, 5, 7}, 2), "max_pool2d 2x2 on odd sizes");
  const Tensor<double> weights = randn({4, 5}, 3);
  expect_fresh_and_accumulated_adjoints_agree(
      [&](const ad::Var<double>& p) { return ops::linear(ad::tanh(p), p.tape().constant(weights)); },
      randn({3, 5}, 4), "linear");
}

TEST(InPlaceParameters, RangesOutsideTheFlatVectorAreRefusedNamingThem) {
  ad::Tape<double> tape;
  const ad::Var<double> flat = tape.variable(Tensor<double>::from_shape({10}));
  const ad::Var<double> x = tape.constant(Tensor<double>::from_shape({2, 3}));
  EXPECT_NE(error_of([&] { ops::linear(x, flat, 3, 2, std::nullopt); }).find("[2, 11)"), std::string::npos)
      << error_of([&] { ops::linear(x, flat, 3, 2, std::nullopt); });
  EXPECT_NE(error_of([&] { ops::linear(x, flat, 3, 0, std::size_t{8}); }).find("the bias needs elements [8, 11)"),
            std::string::npos);
  const ad::Var<double> img = tape.constant(Tensor<double>::from_shape({1, 1, 4, 4}));
  EXPECT_NE(error_of([&] { ops::conv2d(img, flat, Shape{2, 1, 3, 3}, 0, std::nullopt); }).find("[0, 18)"),
            std::string::npos);
  const Linear<double> fc(3, 2);  // 8 parameters
  EXPECT_NE(error_of([&] { fc.forward_at(flat, 4, x); }).find("[4, 12) lie outside w of shape (10,)"),
            std::string::npos)
      << error_of([&] { fc.forward_at(flat, 4, x); });
}

}  // namespace
