// The article's CNN and the MLP factory; H·v of the whole CNN against finite
// differences of its gradient; Gauss–Newton products against Jᵀ H J v built
// the slow way, and their positive semi-definiteness.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

TEST(ArticleCnn, HasTheArticlesLayersAndParameterCount) {
  const Sequential<double> net = models::article_cnn<double>();
  EXPECT_EQ(net.num_parameters(), 628630u);  // 32·9 + 32 + 6272·100 + 100 + 100·10 + 10
  const std::vector<ParameterInfo> p = net.parameters();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].name, "conv1.weight");
  EXPECT_EQ(p[0].shape, (Shape{32, 1, 3, 3}));
  EXPECT_EQ(p[2].name, "fc1.weight");
  EXPECT_EQ(p[2].shape, (Shape{100, 6272}));
  EXPECT_EQ(p[5].name, "fc2.bias");
  EXPECT_EQ(models::article_cnn<float>(5).num_parameters(), 628630u + 32u * 16);
  EXPECT_THROW(models::article_cnn<double>(4), std::invalid_argument);

  ad::Tape<double> tape;
  const ad::Var<double> y =
      net.forward(tape.constant(net.initialize(1)), tape.constant(randn({2, 1, 28, 28}, 2)));
  EXPECT_EQ(y.value().shape(), (xt::svector<std::size_t>{2, 10}));
}

TEST(ArticleCnn, HessianVectorProductMatchesFiniteDifferencesOfTheGradient) {
  const Sequential<double> net = models::article_cnn<double>();
  const Tensor<double> x = randn({4, 1, 28, 28}, 3);
  const Tensor<double> t = {3, 1, 4, 1};
  const SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = net.initialize(4);
  auto f = [&](const ad::Var<double>& wv) { return loss(net.forward(wv, wv.tape().constant(x)), t); };
  for (std::uint64_t seed : {5, 6, 7}) {
    // A unit direction keeps the finite-difference steps of single weights
    // small (≈ 1e-8), far from the max-pool kinks.
    Tensor<double> v = randn({w.size()}, seed);
    v /= std::sqrt(xt::sum(v * v)());
    ad::GradcheckOptions o;
    o.rtol = 1e-5;
    o.atol = 1e-10;
    const auto r = ad::check_hvp(f, w, v, o);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(ArticleCnn, PoolingBeforeTanhIsTheArticlesConvTanhPoolToRounding) {
  // The factory pools first (tanh is increasing, so the two commute); the
  // article's order, built by hand, must give the same loss, gradient and H·v.
  Sequential<double> article;
  article.emplace<Conv2d<double>>("conv1", Conv2dOptions{1, 32, 3, 1, 1});
  article.emplace<Tanh<double>>("tanh1");
  article.emplace<MaxPool2d<double>>("pool1", 2);
  article.emplace<Flatten<double>>("flatten");
  article.emplace<Linear<double>>("fc1", LinearOptions{6272, 100});
  article.emplace<Tanh<double>>("tanh2");
  article.emplace<Linear<double>>("fc2", LinearOptions{100, 10});
  const Sequential<double> net = models::article_cnn<double>();
  ASSERT_EQ(article.num_parameters(), net.num_parameters());
  const Tensor<double> x = randn({3, 1, 28, 28}, 8), t = {2, 0, 9};
  const Tensor<double> w = net.initialize(9), v = randn({net.num_parameters()}, 10);
  const SoftmaxCrossEntropy<double> loss;
  const auto ours = ad::hvp([&](const ad::Var<double>& p) { return loss(net.forward(p, p.tape().constant(x)), t); }, w, v);
  const auto theirs =
      ad::hvp([&](const ad::Var<double>& p) { return loss(article.forward(p, p.tape().constant(x)), t); }, w, v);
  EXPECT_NEAR(ours.value, theirs.value, 1e-14 * std::abs(theirs.value));
  EXPECT_LT(relative_error(ours.grad, theirs.grad), 1e-13);
  EXPECT_LT(relative_error(ours.hv, theirs.hv), 1e-13);
}

TEST(Mlp, BuildsLinearLayersWithActivationsBetween) {
  const Sequential<double> net = models::mlp<double>({784, 256, 10}, models::Activation::relu);
  EXPECT_EQ(net.num_parameters(), 784u * 256 + 256 + 256 * 10 + 10);
  ASSERT_EQ(net.size(), 3u);
  EXPECT_EQ(net.name(0), "fc1");
  EXPECT_EQ(net.child(1).describe(), "ReLU");
  EXPECT_EQ(net.name(2), "fc2");
  EXPECT_THROW(models::mlp<double>({3}), std::invalid_argument);
  const Sequential<double> small = models::mlp<double>({3, 4, 2}, models::Activation::sigmoid);
  expect_module_derivatives(small, {small.initialize(1), randn({5, 3}, 2)});
}

// J (outputs × parameters), column by column from tangent-carrying forward passes.
Tensor<double> jacobian(const Module<double>& m, const Tensor<double>& w, const Tensor<double>& x) {
  std::size_t outputs = 0;
  Tensor<double> j;
  for (std::size_t i = 0; i < w.size(); ++i) {
    Tensor<double> e = xt::zeros<double>(w.shape());
    e(i) = 1;
    ad::Tape<double> tape;
    const ad::Var<double> y = m.forward(tape.variable(w, e), tape.constant(x));
    if (i == 0) {
      outputs = y.size();
      j = xt::zeros<double>({outputs, w.size()});
    }
    for (std::size_t r = 0; r < outputs; ++r) j(r, i) = y.tangent().data()[r];
  }
  return j;
}

// Gv against Jᵀ H (J v) with J built column by column and H·(Jv) from the
// loss's own tape (an hvp of the batch-summed loss in the output), plus the
// loss value and gradient against value_and_grad.
void expect_gauss_newton_matches_slow_way(const Module<double>& m, const Loss<double>& loss, const Tensor<double>& x,
                                          const Tensor<double>& t) {
  const Tensor<double> w = m.initialize(11) + randn({m.num_parameters()}, 12, 0.3);
  const Tensor<double> v = randn({m.num_parameters()}, 13);
  const GaussNewtonProduct<double> gn = gauss_newton_product(m, loss, w, x, t, v);

  const Tensor<double> j = jacobian(m, w, x);
  ad::Tape<double> tape;
  const Tensor<double> y = m.forward(tape.constant(w), tape.constant(x)).value();
  Tensor<double> jv = xt::zeros<double>({j.shape(0)});
  for (std::size_t r = 0; r < j.shape(0); ++r)
    for (std::size_t c = 0; c < j.shape(1); ++c) jv(r) += j(r, c) * v(c);
  jv.reshape(y.shape());
  const Tensor<double> hjv =
      ad::hvp([&](const ad::Var<double>& out) { return loss.forward(out, t, Reduction::sum); }, y, jv).hv;
  Tensor<double> slow = xt::zeros<double>({m.num_parameters()});
  for (std::size_t r = 0; r < j.shape(0); ++r)
    for (std::size_t c = 0; c < j.shape(1); ++c) slow(c) += j(r, c) * hjv.data()[r];
  EXPECT_LT(relative_error(gn.gv, slow), 1e-12);

  const auto vg = ad::value_and_grad(
      [&](const ad::Var<double>& wv) { return loss.forward(m.forward(wv, wv.tape().constant(x)), t, Reduction::sum); },
      w);
  EXPECT_NEAR(gn.loss, vg.value, 1e-12 * std::max(1.0, std::abs(vg.value)));
  EXPECT_LT(relative_error(gn.grad, vg.grad), 1e-12);
}

Sequential<double> tiny_cnn() {
  Sequential<double> net;
  net.emplace<Conv2d<double>>("conv", Conv2dOptions{1, 2, 3, 1, 1});
  net.emplace<Tanh<double>>("act");
  net.emplace<MaxPool2d<double>>("pool", 2);
  net.emplace<Flatten<double>>("flat");
  net.emplace<Linear<double>>("fc", LinearOptions{8, 3});
  return net;
}

TEST(GaussNewton, EqualsJTransposeHJvBuiltTheSlowWay) {
  {
    SCOPED_TRACE("MLP with softmax cross-entropy");
    const Sequential<double> net = models::mlp<double>({3, 4, 3});
    expect_gauss_newton_matches_slow_way(net, SoftmaxCrossEntropy<double>(), randn({5, 3}, 1), Tensor<double>{0, 2, 1, 1, 0});
  }
  {
    SCOPED_TRACE("small CNN with softmax cross-entropy");
    expect_gauss_newton_matches_slow_way(tiny_cnn(), SoftmaxCrossEntropy<double>(), randn({2, 1, 4, 4}, 2),
                                         Tensor<double>{2, 0});
  }
  {
    SCOPED_TRACE("MLP with mean squared error");
    const Sequential<double> net = models::mlp<double>({3, 4, 2}, models::Activation::sigmoid);
    expect_gauss_newton_matches_slow_way(net, MeanSquaredError<double>(), randn({4, 3}, 3), randn({4, 2}, 4));
  }
}

TEST(GaussNewton, IsSymmetricPositiveSemiDefinite) {
  const Sequential<double> net = tiny_cnn();
  const Tensor<double> x = randn({3, 1, 4, 4}, 5), t = {0, 1, 2};
  const Tensor<double> w = net.initialize(6);
  const SoftmaxCrossEntropy<double> loss;
  Tensor<double> previous_v, previous_gv;
  for (std::uint64_t seed = 20; seed < 30; ++seed) {
    const Tensor<double> v = randn({w.size()}, seed);
    const Tensor<double> gv = gauss_newton_product(net, loss, w, x, t, v).gv;
    const double vgv = xt::sum(v * gv)();
    EXPECT_GE(vgv, -1e-12) << "seed " << seed;
    if (previous_v.size() > 0) {
      const double a = xt::sum(previous_v * gv)(), b = xt::sum(v * previous_gv)();
      EXPECT_NEAR(a, b, 1e-10 * std::max(1.0, std::abs(a)));
    }
    previous_v = v;
    previous_gv = gv;
  }
}

TEST(GaussNewton, WorksInFloat32) {
  const Sequential<float> net32 = models::mlp<float>({3, 4, 3});
  const Sequential<double> net64 = models::mlp<double>({3, 4, 3});
  const Tensor<double> x = randn({5, 3}, 1), v = randn({net64.num_parameters()}, 2);
  const Tensor<double> t = {0, 2, 1, 1, 0};
  const auto g64 = gauss_newton_product(net64, SoftmaxCrossEntropy<double>(), net64.initialize(3), x, t, v);
  const auto g32 = gauss_newton_product(net32, SoftmaxCrossEntropy<float>(), net32.initialize(3), cast<float>(x),
                                        cast<float>(t), cast<float>(v));
  EXPECT_LT(relative_error(widen(g32.gv), g64.gv), 1e-5);
  EXPECT_LT(relative_error(widen(g32.grad), g64.grad), 1e-5);
}

TEST(GaussNewton, RejectsAMisshapenDirection) {
  const Sequential<double> net = models::mlp<double>({3, 2});
  EXPECT_THROW(gauss_newton_product(net, SoftmaxCrossEntropy<double>(), net.initialize(1), randn({2, 3}, 1),
                                    Tensor<double>{0, 1}, Tensor<double>(xt::zeros<double>({3}))),
               std::invalid_argument);
}

}  // namespace
