// NLLLoss, BCEWithLogits, HuberLoss and SoftmaxCrossEntropy's label
// smoothing and class weights: values against slow references in plain
// loops (and PyTorch's formulas on hand-computed cases), derivatives against
// finite differences, float32 against float64, output Hessian products
// against the tape's own H·v and the references' Hessians, Gauss–Newton
// products through a model, and refused input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "harness.hpp"

namespace {

using namespace curv;
using namespace curv::nn;
using namespace curv::nn::testing;

const double ln2 = std::log(2.0);

// ---- slow references, plain loops in double ------------------------------

// Per-sample cross-entropy −Σ_c aₙ[c] log softmax(zₙ)[c] with
// aₙ = (1 − ε) w[yₙ] onehot + (ε/C) w, summed over the batch.
double reference_cross_entropy(const Tensor<double>& z, const Tensor<double>& y, double eps,
                               const std::vector<double>& weight) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double denom = 0;
    for (std::size_t c = 0; c < k; ++c) denom += std::exp(z(i, c));
    for (std::size_t c = 0; c < k; ++c) {
      const double w = weight.empty() ? 1.0 : weight[c];
      const double a = (c == static_cast<std::size_t>(y(i)) ? (1 - eps) * w : 0.0) + eps / static_cast<double>(k) * w;
      total -= a * std::log(std::exp(z(i, c)) / denom);
    }
  }
  return total;
}

// Its Hessian in z applied to u: per sample Aₙ (diag p − p pᵀ) uₙ.
Tensor<double> reference_cross_entropy_hessian(const Tensor<double>& z, const Tensor<double>& y, double eps,
                                               const std::vector<double>& weight, const Tensor<double>& u) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  Tensor<double> hu = xt::zeros<double>({n, k});
  for (std::size_t i = 0; i < n; ++i) {
    double denom = 0, wsum = 0;
    for (std::size_t c = 0; c < k; ++c) {
      denom += std::exp(z(i, c));
      wsum += weight.empty() ? 1.0 : weight[c];
    }
    const double wy = weight.empty() ? 1.0 : weight[static_cast<std::size_t>(y(i))];
    const double a_total = (1 - eps) * wy + eps / static_cast<double>(k) * wsum;
    for (std::size_t r = 0; r < k; ++r)
      for (std::size_t c = 0; c < k; ++c) {
        const double pr = std::exp(z(i, r)) / denom, pc = std::exp(z(i, c)) / denom;
        hu(i, r) += a_total * ((r == c ? pr : 0.0) - pr * pc) * u(i, c);
      }
  }
  return hu;
}

double reference_nll(const Tensor<double>& x, const Tensor<double>& y, const std::vector<double>& weight) {
  double total = 0;
  for (std::size_t i = 0; i < x.shape(0); ++i) {
    const auto c = static_cast<std::size_t>(y(i));
    total -= (weight.empty() ? 1.0 : weight[c]) * x(i, c);
  }
  return total;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// The textbook form −[p t log σ(x) + (1 − t) log(1 − σ(x))] (fine for moderate x).
double reference_bce(const Tensor<double>& x, const Tensor<double>& t, const std::vector<double>& pos_weight) {
  const std::size_t classes = x.shape(x.dimension() - 1);
  double total = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double p = pos_weight.empty() ? 1.0 : pos_weight[pos_weight.size() == 1 ? 0 : i % classes];
    const double s = sigmoid(x.data()[i]), ti = t.data()[i];
    total -= p * ti * std::log(s) + (1 - ti) * std::log(1 - s);
  }
  return total;
}

// d²ℓ/dx² = (p t + 1 − t) σ(x)(1 − σ(x)), applied elementwise to u.
Tensor<double> reference_bce_hessian(const Tensor<double>& x, const Tensor<double>& t,
                                     const std::vector<double>& pos_weight, const Tensor<double>& u) {
  const std::size_t classes = x.shape(x.dimension() - 1);
  Tensor<double> hu = Tensor<double>::from_shape(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double p = pos_weight.empty() ? 1.0 : pos_weight[pos_weight.size() == 1 ? 0 : i % classes];
    const double s = sigmoid(x.data()[i]), ti = t.data()[i];
    hu.data()[i] = (p * ti + 1 - ti) * s * (1 - s) * u.data()[i];
  }
  return hu;
}

double reference_huber(const Tensor<double>& y, const Tensor<double>& t, double delta) {
  double total = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double d = std::abs(y.data()[i] - t.data()[i]);
    total += d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
  }
  return total;
}

// ---- helpers ---------------------------------------------------------------

template <class T>
Tensor<T> as(const Tensor<double>& x) {
  return cast<T>(x);
}

// A loss's value at `output` on a fresh tape.
template <class T>
double value_of(const Loss<T>& loss, const Tensor<T>& output, const Tensor<T>& targets, Reduction r) {
  ad::Tape<T> tape;
  return static_cast<double>(loss.forward(tape.constant(output), targets, r).value()());
}

// Gradient, JVP and H·v against finite differences (float64) and float32
// against float64, of tanh(loss) · 3 so that the loss's adjoint-tangent rule
// meets a nonzero ȳ and ȳ̇. make<T>() builds the loss.
template <class Make>
void expect_loss_derivatives(const Make& make, const Tensor<double>& output, const Tensor<double>& targets,
                             std::uint64_t seed) {
  for (Reduction r : {Reduction::sum, Reduction::mean}) {
    SCOPED_TRACE(r == Reduction::sum ? "sum" : "mean");
    const auto f = [&]<class T>(const ad::Var<T>& y) {
      return ad::tanh(make.template operator()<T>().forward(y, as<T>(targets), r) * T(0.3)) * T(3);
    };
    curv::testing::CheckOptions o;
    o.atol = 1e-7;
    o.seed = seed;
    const auto report = curv::testing::check_function(f, output, o);
    EXPECT_TRUE(report.ok()) << report.message();
  }
}

// output_hessian_product against the tape's H·v of the batch-summed loss
// and against a reference Hessian product.
void expect_output_hessian(const Loss<double>& loss, const Tensor<double>& output, const Tensor<double>& targets,
                           const Tensor<double>& u, const Tensor<double>& reference, double tolerance = 1e-14) {
  const Tensor<double> hu = loss.output_hessian_product(output, targets, u);
  const auto tape_hv =
      ad::hvp([&](const ad::Var<double>& y) { return loss.forward(y, targets, Reduction::sum); }, output, u).hv;
  EXPECT_LT(relative_error(hu, tape_hv), tolerance);
  EXPECT_LT(relative_error(hu, reference), 1e-12);
}

// The exact bits of a loss's value, gradient and H·v (sum reduction).
struct Bits {
  double value;
  Tensor<double> grad, hv;
};
Bits bits(const Loss<double>& loss, const Tensor<double>& z, const Tensor<double>& t, const Tensor<double>& v,
          Reduction r) {
  const auto h = ad::hvp([&](const ad::Var<double>& y) { return loss.forward(y, t, r); }, z, v);
  return {h.value, h.grad, h.hv};
}
void expect_same_bits(const Bits& a, const Bits& b) {
  EXPECT_EQ(a.value, b.value);
  EXPECT_TRUE(a.grad == b.grad);
  EXPECT_TRUE(a.hv == b.hv);
}

// ---- NLLLoss ----------------------------------------------------------------

const Tensor<double> labels = {2, 0, 1, 2, 1};

Tensor<double> log_probabilities(const Tensor<double>& z) {
  Tensor<double> x = z;
  for (std::size_t i = 0; i < z.shape(0); ++i) {
    double denom = 0;
    for (std::size_t c = 0; c < z.shape(1); ++c) denom += std::exp(z(i, c));
    for (std::size_t c = 0; c < z.shape(1); ++c) x(i, c) = z(i, c) - std::log(denom);
  }
  return x;
}

TEST(NLLLoss, MatchesPyTorchOnAHandComputedCase) {
  const Tensor<double> x = {{-1.0, -2.0, -3.0}, {-0.5, -1.5, -2.5}}, y = {2, 0};
  EXPECT_DOUBLE_EQ(value_of(NLLLoss<double>(), x, y, Reduction::sum), 3.5);
  EXPECT_DOUBLE_EQ(value_of(NLLLoss<double>(), x, y, Reduction::mean), 1.75);  // = PyTorch's mean
  const NLLLoss<double> weighted(NLLLossOptions{{1.0, 2.0, 3.0}});
  EXPECT_DOUBLE_EQ(value_of(weighted, x, y, Reduction::sum), 3 * 3.0 + 1 * 0.5);
  // PyTorch's mean would be 9.5 / (w[2] + w[0]) = 2.375; curv's divides by the batch size.
  EXPECT_DOUBLE_EQ(value_of(weighted, x, y, Reduction::mean), 9.5 / 2);
}

TEST(NLLLoss, ValueMatchesASlowReference) {
  const Tensor<double> x = log_probabilities(randn({5, 3}, 1));
  for (const std::vector<double>& w : {std::vector<double>{}, std::vector<double>{0.5, 2.0, 0.0}}) {
    const NLLLoss<double> loss(NLLLossOptions{w});
    EXPECT_NEAR(value_of(loss, x, labels, Reduction::sum), reference_nll(x, labels, w), 1e-14);
    EXPECT_NEAR(value_of(loss, x, labels, Reduction::mean), reference_nll(x, labels, w) / 5, 1e-14);
  }
}

TEST(NLLLoss, MeanOverABatchIsTheDatasetMeanOfItsPartsSums) {
  // What batch-size invariance needs: (sum of part 1 + sum of part 2) / N = mean of the whole.
  const NLLLoss<double> loss(NLLLossOptions{{0.5, 2.0, 3.0}});
  const Tensor<double> x = log_probabilities(randn({5, 3}, 2));
  const Tensor<double> x1 = xt::view(x, xt::range(0, 2), xt::all()), x2 = xt::view(x, xt::range(2, 5), xt::all());
  const Tensor<double> y1 = {2, 0}, y2 = {1, 2, 1};
  const double parts = value_of(loss, x1, y1, Reduction::sum) + value_of(loss, x2, y2, Reduction::sum);
  EXPECT_NEAR(parts / 5, value_of(loss, x, labels, Reduction::mean), 1e-14);
}

TEST(NLLLoss, DerivativesMatchFiniteDifferencesAndFloat32) {
  const std::vector<double> w = {0.5, 2.0, 1.5};
  expect_loss_derivatives([]<class T>() { return NLLLoss<T>(); }, randn({5, 3}, 3), labels, 4);
  expect_loss_derivatives([&]<class T>() { return NLLLoss<T>(NLLLossOptions{w}); }, randn({5, 3}, 3), labels, 5);
}

TEST(NLLLoss, OutputHessianIsZeroLikeTheTapes) {
  const NLLLoss<double> loss(NLLLossOptions{{0.5, 2.0, 1.5}});
  const Tensor<double> x = randn({5, 3}, 6), u = randn({5, 3}, 7);
  expect_output_hessian(loss, x, labels, u, xt::zeros<double>({5, 3}));
  EXPECT_TRUE(xt::all(xt::equal(loss.output_hessian_product(x, labels, u), 0.0)));
}

TEST(NLLLoss, UnitWeightsAreThePlainLossBitForBit) {
  const Tensor<double> x = randn({5, 3}, 8), v = randn({5, 3}, 9);
  for (Reduction r : {Reduction::sum, Reduction::mean})
    expect_same_bits(bits(NLLLoss<double>(), x, labels, v, r),
                     bits(NLLLoss<double>(NLLLossOptions{{1.0, 1.0, 1.0}}), x, labels, v, r));
}

TEST(NLLLoss, RefusesBadShapesIndicesAndWeights) {
  ad::Tape<double> tape;
  const ad::Var<double> x = tape.constant(xt::zeros<double>({3, 4}));
  const NLLLoss<double> loss;
  std::string msg = error_of([&] { loss(x, Tensor<double>{0, 4, 1}); });
  EXPECT_NE(msg.find("curv::nn::NLLLoss::forward"), std::string::npos) << msg;
  EXPECT_NE(msg.find("targets[1] = 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[0, 4)"), std::string::npos) << msg;
  msg = error_of([&] { loss(x, Tensor<double>{0, 0.5, 1}); });
  EXPECT_NE(msg.find("targets[1] = 0.5"), std::string::npos) << msg;
  msg = error_of([&] { loss(x, Tensor<double>{0, 1}); });
  EXPECT_NE(msg.find("(2,)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected (3,)"), std::string::npos) << msg;
  msg = error_of([&] { loss(tape.constant(xt::zeros<double>({3})), Tensor<double>{0, 1, 2}); });
  EXPECT_NE(msg.find("output has shape (3,)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(batch, classes)"), std::string::npos) << msg;
  msg = error_of([&] { NLLLoss<double>(NLLLossOptions{{1.0, 2.0}})(x, Tensor<double>{0, 1, 2}); });
  EXPECT_NE(msg.find("weight has 2 elements, expected one per class (4)"), std::string::npos) << msg;
  msg = error_of([&] { NLLLoss<double>(NLLLossOptions{{1.0, -2.0}}); });
  EXPECT_NE(msg.find("weight[1] = -2"), std::string::npos) << msg;
  msg = error_of([&] {
    loss.output_hessian_product(xt::zeros<double>({3, 4}), Tensor<double>{0, 1, 2}, xt::zeros<double>({3, 3}));
  });
  EXPECT_NE(msg.find("u has shape (3, 3)"), std::string::npos) << msg;
}

// ---- SoftmaxCrossEntropy: label smoothing and class weights ------------------

SoftmaxCrossEntropyOptions cross_entropy_options(double eps, std::vector<double> weight) {
  SoftmaxCrossEntropyOptions o;
  o.label_smoothing = eps;
  o.weight = std::move(weight);
  return o;
}

TEST(SoftmaxCrossEntropyOptions, MatchPyTorchOnAHandComputedCase) {
  // p = softmax(log [1, 2, 1]) = [¼, ½, ¼], target class 1, ε = 0.3:
  // −0.7 log ½ − 0.1 (log ¼ + log ½ + log ¼) = 1.2 ln 2.
  const Tensor<double> z = {{0.0, ln2, 0.0}}, y = {1};
  const SoftmaxCrossEntropy<double> smoothed(cross_entropy_options(0.3, {}));
  EXPECT_NEAR(value_of(smoothed, z, y, Reduction::sum), 1.2 * ln2, 1e-15);
  // with weights [1, 2, 3]: −0.7·2 log ½ − 0.1 (1 log ¼ + 2 log ½ + 3 log ¼) = 2.4 ln 2
  const SoftmaxCrossEntropy<double> weighted(cross_entropy_options(0.3, {1, 2, 3}));
  EXPECT_NEAR(value_of(weighted, z, y, Reduction::sum), 2.4 * ln2, 1e-15);
  // PyTorch's mean divides by w[y] = 2 (1.2 ln 2); curv's by the batch size, 1.
  EXPECT_NEAR(value_of(weighted, z, y, Reduction::mean), 2.4 * ln2, 1e-15);
  // weights alone: −w[y] log p[y] = 2 ln 2.
  EXPECT_NEAR(value_of(SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, 2, 3})), z, y, Reduction::sum),
              2 * ln2, 1e-15);
}

TEST(SoftmaxCrossEntropyOptions, ValueMatchesASlowReference) {
  const Tensor<double> z = randn({5, 3}, 10, 2.0);
  for (double eps : {0.0, 0.1, 1.0})
    for (const std::vector<double>& w : {std::vector<double>{}, std::vector<double>{0.5, 2.0, 0.0}}) {
      SCOPED_TRACE("eps " + std::to_string(eps) + ", " + std::to_string(w.size()) + " weights");
      const SoftmaxCrossEntropy<double> loss(cross_entropy_options(eps, w));
      const double expected = reference_cross_entropy(z, labels, eps, w);
      EXPECT_NEAR(value_of(loss, z, labels, Reduction::sum), expected, 1e-13);
      EXPECT_NEAR(value_of(loss, z, labels, Reduction::mean), expected / 5, 1e-13);
    }
}

TEST(SoftmaxCrossEntropyOptions, MeanOverABatchIsTheDatasetMeanOfItsPartsSums) {
  // (sum of part 1 + sum of part 2) / N = mean of the whole, which PyTorch's
  // weighted mean (divided by the targets' weights) is not.
  const SoftmaxCrossEntropy<double> loss(cross_entropy_options(0.2, {0.5, 2.0, 3.0}));
  const Tensor<double> z = randn({5, 3}, 18);
  const Tensor<double> z1 = xt::view(z, xt::range(0, 3), xt::all()), z2 = xt::view(z, xt::range(3, 5), xt::all());
  const Tensor<double> y1 = {2, 0, 1}, y2 = {2, 1};
  const double parts = value_of(loss, z1, y1, Reduction::sum) + value_of(loss, z2, y2, Reduction::sum);
  EXPECT_NEAR(parts / 5, value_of(loss, z, labels, Reduction::mean), 1e-14);
}

TEST(SoftmaxCrossEntropyOptions, ZeroSmoothingAndUnitWeightsAreThePlainLossBitForBit) {
  const Tensor<double> z = randn({5, 3}, 11, 3.0), v = randn({5, 3}, 12);
  const SoftmaxCrossEntropy<double> plain;
  for (Reduction r : {Reduction::sum, Reduction::mean}) {
    const Bits expected = bits(plain, z, labels, v, r);
    expect_same_bits(bits(SoftmaxCrossEntropy<double>(SoftmaxCrossEntropyOptions{}), z, labels, v, r), expected);
    expect_same_bits(bits(SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, 1, 1})), z, labels, v, r),
                     expected);
  }
  EXPECT_TRUE(plain.output_hessian_product(z, labels, v) ==
              SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, 1, 1})).output_hessian_product(z, labels, v));
  // and it is the op's plain overload, bit for bit
  ad::Tape<double> tape;
  EXPECT_EQ(ops::softmax_cross_entropy(tape.constant(z), labels, false).value()(),
            plain.forward(tape.constant(z), labels, Reduction::sum).value()());
}

TEST(SoftmaxCrossEntropyOptions, SmoothingChangesTheLoss) {
  // Guards the tests above against options that are silently ignored.
  const Tensor<double> z = randn({5, 3}, 13);
  const double plain = value_of(SoftmaxCrossEntropy<double>(), z, labels, Reduction::sum);
  EXPECT_GT(std::abs(value_of(SoftmaxCrossEntropy<double>(cross_entropy_options(0.1, {})), z, labels,
                              Reduction::sum) - plain), 1e-3);
  EXPECT_GT(std::abs(value_of(SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, 2, 1})), z, labels,
                              Reduction::sum) - plain), 1e-3);
}

TEST(SoftmaxCrossEntropyOptions, DerivativesMatchFiniteDifferencesAndFloat32) {
  for (double eps : {0.0, 0.2})
    for (const std::vector<double>& w : {std::vector<double>{}, std::vector<double>{0.5, 2.0, 1.5}}) {
      SCOPED_TRACE("eps " + std::to_string(eps) + ", " + std::to_string(w.size()) + " weights");
      const SoftmaxCrossEntropyOptions o = cross_entropy_options(eps, w);
      expect_loss_derivatives([&]<class T>() { return SoftmaxCrossEntropy<T>(o); }, randn({5, 3}, 14), labels, 15);
    }
}

TEST(SoftmaxCrossEntropyOptions, OutputHessianProductIsTheTapesAndTheReferences) {
  const Tensor<double> z = randn({5, 3}, 16), u = randn({5, 3}, 17);
  for (double eps : {0.0, 0.2, 1.0})
    for (const std::vector<double>& w : {std::vector<double>{}, std::vector<double>{0.5, 2.0, 1.5}}) {
      SCOPED_TRACE("eps " + std::to_string(eps) + ", " + std::to_string(w.size()) + " weights");
      expect_output_hessian(SoftmaxCrossEntropy<double>(cross_entropy_options(eps, w)), z, labels, u,
                                    reference_cross_entropy_hessian(z, labels, eps, w, u));
    }
}

TEST(SoftmaxCrossEntropyOptions, RefusesBadOptionsAndWeightCounts) {
  std::string msg = error_of([] { SoftmaxCrossEntropy<double>(cross_entropy_options(-0.1, {})); });
  EXPECT_NE(msg.find("label_smoothing = -0.1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[0, 1]"), std::string::npos) << msg;
  msg = error_of([] { SoftmaxCrossEntropy<double>(cross_entropy_options(1.5, {})); });
  EXPECT_NE(msg.find("label_smoothing = 1.5"), std::string::npos) << msg;
  msg = error_of([] { SoftmaxCrossEntropy<double>(cross_entropy_options(std::nan(""), {})); });
  EXPECT_NE(msg.find("label_smoothing = nan"), std::string::npos) << msg;
  msg = error_of([] { SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, -1})); });
  EXPECT_NE(msg.find("weight[1] = -1"), std::string::npos) << msg;
  msg = error_of([] { SoftmaxCrossEntropy<double>(cross_entropy_options(0, {1, INFINITY})); });
  EXPECT_NE(msg.find("weight[1] = inf"), std::string::npos) << msg;
  ad::Tape<double> tape;
  const SoftmaxCrossEntropy<double> loss(cross_entropy_options(0.1, {1, 2}));
  msg = error_of([&] { loss(tape.constant(xt::zeros<double>({2, 3})), Tensor<double>{0, 1}); });
  EXPECT_NE(msg.find("weight has 2 elements, expected one per class (3)"), std::string::npos) << msg;
  msg = error_of([&] {
    loss.output_hessian_product(xt::zeros<double>({2, 3}), Tensor<double>{0, 1}, xt::zeros<double>({2, 3}));
  });
  EXPECT_NE(msg.find("output_hessian_product: weight has 2 elements"), std::string::npos) << msg;
  msg = error_of([&] {
    SoftmaxCrossEntropy<double>(cross_entropy_options(0.1, {1, 2, 3}))(tape.constant(xt::zeros<double>({2, 3})),
                                                                       Tensor<double>{0, 3});
  });
  EXPECT_NE(msg.find("targets[1] = 3"), std::string::npos) << msg;
}

// ---- BCEWithLogits ----------------------------------------------------------

BCEWithLogitsOptions pos_weight(std::vector<double> p) { return BCEWithLogitsOptions{std::move(p)}; }

TEST(BCEWithLogits, MatchesPyTorchOnHandComputedCases) {
  // x = 0: −log σ(0) = ln 2 whatever t; x = 2, t = ¼: max(2, 0) − 2·¼ + log(1 + e⁻²).
  const Tensor<double> x = {{0.0, 0.0, 2.0}}, t = {{1.0, 0.0, 0.25}};
  const double third = 2 - 0.5 + std::log1p(std::exp(-2.0));
  EXPECT_NEAR(value_of(BCEWithLogits<double>(), x, t, Reduction::sum), 2 * ln2 + third, 1e-15);
  EXPECT_NEAR(value_of(BCEWithLogits<double>(), x, t, Reduction::mean), (2 * ln2 + third) / 3, 1e-15);
  // pos_weight p scales the positive term: p t softplus(−x) + (1 − t) softplus(x).
  const BCEWithLogits<double> weighted(pos_weight({3, 5, 2}));
  const double third_weighted = 2 * 0.25 * std::log1p(std::exp(-2.0)) + 0.75 * (2 + std::log1p(std::exp(-2.0)));
  EXPECT_NEAR(value_of(weighted, x, t, Reduction::sum), 3 * ln2 + ln2 + third_weighted, 1e-15);
  // PyTorch's mean with pos_weight still divides by the number of elements.
  EXPECT_NEAR(value_of(weighted, x, t, Reduction::mean), (4 * ln2 + third_weighted) / 3, 1e-15);
}

TEST(BCEWithLogits, ValueMatchesASlowReference) {
  const Tensor<double> x = randn({4, 3}, 20, 2.0);
  Tensor<double> t = randn({4, 3}, 21);
  for (double& e : t) e = sigmoid(e);  // soft targets
  t(0, 0) = 0;
  t(1, 1) = 1;
  for (const std::vector<double>& p : {std::vector<double>{}, std::vector<double>{0.5, 3.0, 0.0},
                                       std::vector<double>{2.5}}) {
    SCOPED_TRACE(std::to_string(p.size()) + " pos_weights");
    const BCEWithLogits<double> loss(pos_weight(p));
    EXPECT_NEAR(value_of(loss, x, t, Reduction::sum), reference_bce(x, t, p), 1e-13);
    EXPECT_NEAR(value_of(loss, x, t, Reduction::mean), reference_bce(x, t, p) / 12, 1e-13);
  }
}

TEST(BCEWithLogits, IsStableForHugeLogits) {
  const Tensor<float> x = {{1e4f, -1e4f, 100.0f, -100.0f}}, t = {{1.0f, 1.0f, 0.0f, 0.5f}};
  const auto r = ad::value_and_grad(
      [&](const ad::Var<float>& y) { return BCEWithLogits<float>().forward(y, t, Reduction::sum); }, x);
  EXPECT_TRUE(std::isfinite(r.value));
  EXPECT_NEAR(r.value, 0.0f + 1e4f + 100.0f + 50.0f, 1e-2f);
  EXPECT_TRUE(xt::all(xt::isfinite(r.grad)));
  // ℓ′ = σ(x) − t
  EXPECT_EQ(r.grad(0, 0), 0.0f);
  EXPECT_EQ(r.grad(0, 1), -1.0f);
  EXPECT_EQ(r.grad(0, 2), 1.0f);
  EXPECT_EQ(r.grad(0, 3), -0.5f);
}

TEST(BCEWithLogits, GradientAtZeroLogitsIsOneHalfMinusTheTarget) {
  // x = 0 is where |x| and max(x, 0) have kinks: the fused op must not inherit them.
  const Tensor<double> x = xt::zeros<double>({2, 2}), t = {{0.0, 1.0}, {0.25, 1.0}};
  const auto r = ad::value_and_grad(
      [&](const ad::Var<double>& y) { return BCEWithLogits<double>().forward(y, t, Reduction::sum); }, x);
  EXPECT_TRUE(r.grad == Tensor<double>({{0.5, -0.5}, {0.25, -0.5}}));
  const auto h = ad::hvp(
      [&](const ad::Var<double>& y) { return BCEWithLogits<double>().forward(y, t, Reduction::sum); }, x,
      Tensor<double>(xt::ones<double>({2, 2})));
  EXPECT_TRUE(h.hv == Tensor<double>(xt::full_like(x, 0.25)));
}

TEST(BCEWithLogits, DerivativesMatchFiniteDifferencesAndFloat32) {
  Tensor<double> t = randn({4, 3}, 22);
  for (double& e : t) e = sigmoid(e);
  for (const std::vector<double>& p : {std::vector<double>{}, std::vector<double>{0.5, 3.0, 1.0}}) {
    SCOPED_TRACE(std::to_string(p.size()) + " pos_weights");
    expect_loss_derivatives([&]<class T>() { return BCEWithLogits<T>(pos_weight(p)); }, randn({4, 3}, 23), t, 24);
  }
}

TEST(BCEWithLogits, OutputHessianProductIsTheTapesAndTheReferences) {
  const Tensor<double> x = randn({4, 3}, 25, 2.0), u = randn({4, 3}, 26);
  Tensor<double> t = randn({4, 3}, 27);
  for (double& e : t) e = sigmoid(e);
  for (const std::vector<double>& p : {std::vector<double>{}, std::vector<double>{0.5, 3.0, 0.0}}) {
    SCOPED_TRACE(std::to_string(p.size()) + " pos_weights");
    expect_output_hessian(BCEWithLogits<double>(pos_weight(p)), x, t, u, reference_bce_hessian(x, t, p, u));
  }
}

TEST(BCEWithLogits, UnitPosWeightIsThePlainLossBitForBit) {
  const Tensor<double> x = randn({4, 3}, 28), v = randn({4, 3}, 29);
  Tensor<double> t = randn({4, 3}, 30);
  for (double& e : t) e = sigmoid(e);
  for (Reduction r : {Reduction::sum, Reduction::mean})
    expect_same_bits(bits(BCEWithLogits<double>(), x, t, v, r),
                     bits(BCEWithLogits<double>(pos_weight({1, 1, 1})), x, t, v, r));
}

TEST(BCEWithLogits, RefusesBadShapesTargetsAndWeights) {
  ad::Tape<double> tape;
  const ad::Var<double> x = tape.constant(xt::zeros<double>({2, 3}));
  const BCEWithLogits<double> loss;
  std::string msg = error_of([&] { loss(x, Tensor<double>{0, 1}); });
  EXPECT_NE(msg.find("targets have shape (2,), expected the logits' shape (2, 3)"), std::string::npos) << msg;
  msg = error_of([&] { loss(x, Tensor<double>{{0, 1, 0}, {1, 1.5, 0}}); });
  EXPECT_NE(msg.find("targets[4] (row-major) = 1.5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[0, 1]"), std::string::npos) << msg;
  msg = error_of([&] { loss(x, Tensor<double>{{0, 1, 0}, {1, std::nan(""), 0}}); });
  EXPECT_NE(msg.find("targets[4] (row-major) = nan"), std::string::npos) << msg;
  msg = error_of([&] { BCEWithLogits<double>(pos_weight({1, 2}))(x, Tensor<double>(xt::zeros<double>({2, 3}))); });
  EXPECT_NE(msg.find("pos_weight has 2 elements, expected one per class along the last axis (3)"),
            std::string::npos) << msg;
  msg = error_of([&] { BCEWithLogits<double>(pos_weight({1, -2})); });
  EXPECT_NE(msg.find("pos_weight[1] = -2"), std::string::npos) << msg;
  msg = error_of([&] {
    loss.output_hessian_product(xt::zeros<double>({2, 3}), xt::zeros<double>({2, 3}), xt::zeros<double>({3, 2}));
  });
  EXPECT_NE(msg.find("u has shape (3, 2)"), std::string::npos) << msg;
}

// ---- HuberLoss --------------------------------------------------------------

HuberLoss<double> huber(double delta) { return HuberLoss<double>(HuberLossOptions{delta}); }

TEST(HuberLoss, MatchesPyTorchOnHandComputedCases) {
  // δ = 1, d = [0.5, −2, 1, 3]: ½·¼, 1·(2 − ½), ½ (|d| = δ is quadratic), 3 − ½.
  const Tensor<double> y = {{1.5, -2.0}, {1.0, 4.0}}, t = {{1.0, 0.0}, {0.0, 1.0}};
  EXPECT_DOUBLE_EQ(value_of(HuberLoss<double>(), y, t, Reduction::sum), 0.125 + 1.5 + 0.5 + 2.5);
  EXPECT_DOUBLE_EQ(value_of(HuberLoss<double>(), y, t, Reduction::mean), 4.625 / 4);
  // δ = 2: 0.125, 2 (|d| = δ), 0.5, 2·(3 − 1)
  EXPECT_DOUBLE_EQ(value_of(huber(2), y, t, Reduction::sum), 0.125 + 2 + 0.5 + 4);
}

TEST(HuberLoss, ValueMatchesASlowReference) {
  const Tensor<double> y = randn({4, 3}, 31, 2.0), t = randn({4, 3}, 32);
  for (double delta : {0.3, 1.0, 10.0}) {
    EXPECT_NEAR(value_of(huber(delta), y, t, Reduction::sum), reference_huber(y, t, delta), 1e-13);
    EXPECT_NEAR(value_of(huber(delta), y, t, Reduction::mean), reference_huber(y, t, delta) / 12, 1e-13);
  }
}

// y = t + d with every |d| at least 0.1 away from δ = 1 (and from 0), so that
// finite differences never straddle a kink of ℓ″.
Tensor<double> huber_point(const Tensor<double>& t) {
  const Tensor<double> d = {{0.3, -0.5, 1.7}, {-2.4, 0.9 - 0.05, -1.2}, {0.15, 3.0, -0.7}};
  return t + d;
}

TEST(HuberLoss, DerivativesMatchFiniteDifferencesAndFloat32) {
  const Tensor<double> t = randn({3, 3}, 33);
  expect_loss_derivatives([]<class T>() { return HuberLoss<T>(); }, huber_point(t), t, 34);
  expect_loss_derivatives([]<class T>() { return HuberLoss<T>(HuberLossOptions{0.6}); }, huber_point(t), t, 35);
}

TEST(HuberLoss, OutputHessianIsOneInsideDeltaZeroOutside) {
  const Tensor<double> t = randn({3, 3}, 36), y = huber_point(t), u = randn({3, 3}, 37);
  Tensor<double> expected = u;
  for (std::size_t i = 0; i < y.size(); ++i)
    if (std::abs(y.data()[i] - t.data()[i]) > 1.0) expected.data()[i] = 0;
  expect_output_hessian(HuberLoss<double>(), y, t, u, expected);
  // at |d| = δ exactly it is 1 (the quadratic piece, as the forward pass takes it)
  const Tensor<double> edge = {{1.0, -1.0}}, zero = {{0.0, 0.0}}, ones = {{1.0, 1.0}};
  EXPECT_TRUE(HuberLoss<double>().output_hessian_product(edge, zero, ones) == ones);
  expect_output_hessian(HuberLoss<double>(), edge, zero, ones, ones);
}

TEST(HuberLoss, NaNStaysNaN) {
  const Tensor<double> y = {{std::nan(""), 0.5}}, t = {{0.0, 0.0}}, u = {{1.0, 1.0}};
  EXPECT_TRUE(std::isnan(value_of(HuberLoss<double>(), y, t, Reduction::sum)));
  const Tensor<double> hu = HuberLoss<double>().output_hessian_product(y, t, u);
  EXPECT_TRUE(std::isnan(hu(0, 0)));
  EXPECT_EQ(hu(0, 1), 1.0);
}

TEST(HuberLoss, RefusesBadShapesAndDelta) {
  ad::Tape<double> tape;
  std::string msg = error_of([&] { HuberLoss<double>()(tape.constant(xt::zeros<double>({2, 3})), Tensor<double>{1, 2}); });
  EXPECT_NE(msg.find("output has shape (2, 3) but targets has shape (2,)"), std::string::npos) << msg;
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    msg = error_of([&] { huber(bad); });
    EXPECT_NE(msg.find("delta = "), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected a finite delta > 0"), std::string::npos) << msg;
  }
  msg = error_of([&] {
    HuberLoss<double>().output_hessian_product(xt::zeros<double>({2}), xt::zeros<double>({2}), xt::zeros<double>({3}));
  });
  EXPECT_NE(msg.find("but u has shape (3,)"), std::string::npos) << msg;
}

// ---- Gauss–Newton products through a model -----------------------------------

// G v = Jᵀ H (J v) with J v from a tangent-carrying forward pass, H (J v)
// from `hessian` (a slow reference, not the loss's own product) and Jᵀ from
// the gradient of ⟨H J v, y(w)⟩.
template <class Hessian>
void expect_gauss_newton(const Module<double>& m, const Loss<double>& loss, const Tensor<double>& x,
                         const Tensor<double>& t, const Hessian& hessian) {
  const Tensor<double> w = m.initialize(11) + randn({m.num_parameters()}, 12, 0.3);
  const Tensor<double> v = randn({m.num_parameters()}, 13);
  const GaussNewtonProduct<double> gn = gauss_newton_product(m, loss, w, x, t, v);

  ad::Tape<double> tape;
  const ad::Var<double> y = m.forward(tape.borrowed_variable(w, v), tape.constant(x));
  const Tensor<double> y_value = y.value(), jv = y.tangent();
  const Tensor<double> hjv = hessian(y_value, jv);
  const Tensor<double> slow = ad::value_and_grad(
      [&](const ad::Var<double>& wv) { return ad::sum(m.forward(wv, wv.tape().constant(x)) * hjv); }, w).grad;
  EXPECT_LT(relative_error(gn.gv, slow), 1e-12);
  const auto vg = ad::value_and_grad(
      [&](const ad::Var<double>& wv) { return loss.forward(m.forward(wv, wv.tape().constant(x)), t, Reduction::sum); },
      w);
  EXPECT_NEAR(gn.loss, vg.value, 1e-12 * std::max(1.0, std::abs(vg.value)));
  EXPECT_LT(relative_error(gn.grad, vg.grad), 1e-12);
}

TEST(GaussNewtonWithNewLosses, EqualsJTransposeHJvWithTheReferenceHessians) {
  const Tensor<double> x = randn({5, 3}, 40);
  const Sequential<double> net = models::mlp<double>({3, 4, 3});
  {
    SCOPED_TRACE("softmax cross-entropy with smoothing and weights");
    const std::vector<double> w = {0.5, 2.0, 1.5};
    expect_gauss_newton(net, SoftmaxCrossEntropy<double>(cross_entropy_options(0.2, w)), x, labels,
                        [&](const Tensor<double>& y, const Tensor<double>& u) {
                          return reference_cross_entropy_hessian(y, labels, 0.2, w, u);
                        });
  }
  {
    SCOPED_TRACE("binary cross-entropy with pos_weight");
    Tensor<double> t = randn({5, 3}, 41);
    for (double& e : t) e = sigmoid(e);
    const std::vector<double> p = {0.5, 3.0, 1.0};
    expect_gauss_newton(net, BCEWithLogits<double>(pos_weight(p)), x, t,
                        [&](const Tensor<double>& y, const Tensor<double>& u) {
                          return reference_bce_hessian(y, t, p, u);
                        });
  }
  {
    SCOPED_TRACE("Huber");
    const Tensor<double> t = randn({5, 3}, 42, 1.5);
    expect_gauss_newton(net, huber(0.5), x, t, [&](const Tensor<double>& y, const Tensor<double>& u) {
      Tensor<double> hu = u;
      for (std::size_t i = 0; i < y.size(); ++i)
        if (std::abs(y.data()[i] - t.data()[i]) > 0.5) hu.data()[i] = 0;
      return hu;
    });
  }
  {
    SCOPED_TRACE("NLL: linear in the output, so G = 0");
    expect_gauss_newton(net, NLLLoss<double>(NLLLossOptions{{0.5, 2.0, 1.5}}), x, labels,
                        [](const Tensor<double>& y, const Tensor<double>&) { return Tensor<double>(xt::zeros_like(y)); });
  }
}

TEST(GaussNewtonWithNewLosses, HuberOutputsInsideAndOutsideDeltaBothOccur) {
  // Guards the Huber case above against a point where the mask is all 1 or all 0.
  const Sequential<double> net = models::mlp<double>({3, 4, 3});
  const Tensor<double> w = net.initialize(11) + randn({net.num_parameters()}, 12, 0.3);
  ad::Tape<double> tape;
  const Tensor<double> y = net.forward(tape.constant(w), tape.constant(randn({5, 3}, 40))).value();
  const Tensor<double> d = xt::abs(y - randn({5, 3}, 42, 1.5));
  EXPECT_TRUE(xt::any(d <= 0.5));
  EXPECT_TRUE(xt::any(d > 0.5));
}

}  // namespace
