// Layers read their weights as views of the flat parameter vector: no
// parameter-sized copy on a tape, and the same numbers as reading copies.
// Views mix with ops that read them as tensors of their own.
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

// The same network evaluated with every child reading a copy of its
// parameters (w's range times 1, an op of its own).
template <class T>
ad::Var<T> forward_through_copies(const Sequential<T>& net, const ad::Var<T>& w, ad::Var<T> x) {
  for (std::size_t i = 0; i < net.size(); ++i) {
    const Module<T>& m = net.child(i);
    const std::size_t n = m.num_parameters();
    x = m.forward(ad::slice(w, net.offset(i), net.offset(i) + n) * T(1), x);
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
  // Through a view of the whole input (a reshape) the adjoint is its parent's, written fresh too.
  expect_fresh_and_accumulated_adjoints_agree(
      [&](const ad::Var<double>& p) {
        return ops::linear(ad::reshape(ad::tanh(p), {3, 5}), p.tape().constant(weights));
      },
      randn({15}, 5), "linear on a reshaped input");
}

// One vector read through overlapping views by ops that read in place
// (linear) and by ops that read a view as a tensor of its own (square,
// sum): gradient and H·v against finite differences, and equal to reading
// copies to rounding.
TEST(Views, InPlaceAndTensorReadersOfOverlappingViewsAgreeWithFiniteDifferences) {
  const Tensor<double> x = randn({4, 3}, 1);
  auto f = [&](const ad::Var<double>& p, bool copies) {
    auto take = [&](std::size_t offset, Shape shape) {
      const ad::Var<double> v = ad::view(p, offset, shape);
      return copies ? v * 1.0 : v;
    };
    const ad::Var<double> y = ops::linear(p.tape().constant(x), take(0, {2, 3}), take(6, {2}));
    return ad::sum(ad::tanh(y) * y) + ad::sum(ad::square(take(4, {2, 2}))) + ad::sum(ad::reshape(take(1, {6}), {2, 3}));
  };
  const Tensor<double> w = randn({8}, 2), v = randn({8}, 3);
  expect_checks([&](const ad::Var<double>& p) { return f(p, false); }, w, 4);
  const auto a = ad::hvp([&](const auto& p) { return f(p, false); }, w, v);
  const auto b = ad::hvp([&](const auto& p) { return f(p, true); }, w, v);
  EXPECT_EQ(a.value, b.value);
  EXPECT_LT(relative_error(a.grad, b.grad), 1e-15);
  EXPECT_LT(relative_error(a.hv, b.hv), 1e-15);
}

TEST(Views, AViewOfAViewReadsTheFirstParentAndStoresNothingUntilAsked) {
  ad::Tape<double> tape;
  const Tensor<double> x = randn({10}, 1), t = randn({10}, 2);
  const ad::Var<double> p = tape.variable(x, t);
  const ad::Var<double> a = ad::view(p, 2, {2, 3});
  const ad::Var<double> b = ad::slice(ad::reshape(a, {6}), 1, 5);
  EXPECT_TRUE(b.is_view());
  EXPECT_EQ(tape.node_info(b.index()).value_size, 0u);
  EXPECT_EQ(b.data(), p.data() + 3);  // in place
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b.value()(i), x(3 + i));
    EXPECT_EQ(b.tangent()(i), t(3 + i));
  }
  EXPECT_EQ(tape.node_info(b.index()).value_size, 4u);  // copied once asked for
  tape.backward(ad::sum(ad::square(b)));
  const Tensor<double> g = p.grad();
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(g(i), i >= 3 && i < 7 ? 2 * x(i) : 0.0) << i;
  const Tensor<double> gb = b.grad();
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(gb(i), 2 * x(3 + i));
}

TEST(Views, RangesOutsideTheParentAndWrongParameterCountsAreRefusedNamingThem) {
  ad::Tape<double> tape;
  const ad::Var<double> flat = tape.variable(Tensor<double>::from_shape({10}));
  const std::string range = error_of([&] { ad::view(flat, 4, {2, 4}); });
  EXPECT_NE(range.find("elements [4, 12) for shape (2, 4) do not fit in (10,) (10 elements)"), std::string::npos)
      << range;
  const std::string slice = error_of([&] { ad::slice(flat, 8, 11); });
  EXPECT_NE(slice.find("range [8, 11) does not fit shape (10,)"), std::string::npos) << slice;
  const ad::Var<double> x = tape.constant(Tensor<double>::from_shape({2, 3}));
  const Linear<double> fc(3, 2);  // 8 parameters
  const std::string count = error_of([&] { fc.forward(flat, x); });
  EXPECT_NE(count.find("parameter vector w has 10 elements, expected num_parameters() = 8"), std::string::npos)
      << count;
}

}  // namespace
