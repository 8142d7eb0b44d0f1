// Curvature on a subsample (ModelObjective::sampled_hvp / sampled_gnvp over
// a SubsetView): the product is the exact product of the chosen examples,
// computed independently on a copied subset; a sample number always names
// the same subset, different numbers different ones; value and gradient stay
// full-dataset; Hessian-free and TR-NCG train on it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <set>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/datasets/subset.hpp"
#include "curv/optim.hpp"
#include "test_models.hpp"

namespace {

using curv::Tensor;
using curv::datasets::Accumulator;
using curv::datasets::ModelObjective;
using curv::datasets::SubsetView;
using curv::datasets::TensorDataset;
using curv::test::CrossEntropy;
using curv::test::TinyMlp;

constexpr std::size_t n_examples = 100;
constexpr std::size_t features = 5;

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

struct Fixture {
  TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 21);
  TinyMlp<double> model{features, 4, 3};
  CrossEntropy<double> loss;
};

TEST(SubsampledCurvature, IsTheExactProductOfTheChosenExamplesComputedIndependently) {
  Fixture fx;
  ModelObjective<double> f(fx.model, fx.loss, fx.data,
                           {.batch_size = 16, .threads = 2, .curvature_fraction = 0.3, .curvature_seed = 9});
  EXPECT_DOUBLE_EQ(f.curvature_fraction(), 0.3);
  const Tensor<double> w = curv::test::uniform<double>({f.dim()}, 3, 0.8);
  const Tensor<double> v = curv::test::uniform<double>({f.dim()}, 4);
  for (std::size_t sample : {1u, 2u, 7u}) {
    const std::vector<std::size_t> chosen = f.curvature_sample(sample);
    ASSERT_EQ(chosen.size(), 30u);
    ASSERT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));
    ASSERT_EQ(std::set<std::size_t>(chosen.begin(), chosen.end()).size(), 30u);
    // The reference: an Accumulator over a copy of exactly those examples.
    const TensorDataset<double> copy = curv::datasets::subset(fx.data, chosen);
    const Accumulator<double> ref(fx.model, fx.loss, copy, {.batch_size = 16, .threads = 1});
    Tensor<double> g, hv_ref, gv_ref, hv, gv;
    ref.hvp(w, v, g, hv_ref);
    ref.gnvp(w, v, g, gv_ref);
    f.sampled_hvp(sample, w, v, hv);
    f.sampled_gnvp(sample, w, v, gv);
    // Same examples, same batches, same order: the same numbers bit for bit.
    EXPECT_TRUE(same_bits(hv, hv_ref)) << "sample " << sample;
    EXPECT_TRUE(same_bits(gv, gv_ref)) << "sample " << sample;
  }
}

TEST(SubsampledCurvature, ASampleNumberAlwaysNamesTheSameSubsetAndOthersDiffer) {
  Fixture fx;
  ModelObjective<double> f(fx.model, fx.loss, fx.data, {.batch_size = 16, .curvature_fraction = 0.1});
  ModelObjective<double> g(fx.model, fx.loss, fx.data, {.batch_size = 16, .curvature_fraction = 0.1});
  EXPECT_EQ(f.curvature_sample(4), g.curvature_sample(4));
  EXPECT_EQ(f.curvature_sample(4), f.curvature_sample(4));
  std::set<std::vector<std::size_t>> seen;
  for (std::size_t s = 0; s < 20; ++s) seen.insert(f.curvature_sample(s));
  EXPECT_EQ(seen.size(), 20u);
  ModelObjective<double> other_seed(fx.model, fx.loss, fx.data,
                                    {.batch_size = 16, .curvature_fraction = 0.1, .curvature_seed = 1});
  EXPECT_NE(other_seed.curvature_sample(4), f.curvature_sample(4));

  // Asking for another sample in between does not change a sample's product.
  const Tensor<double> w = curv::test::uniform<double>({f.dim()}, 5, 0.8);
  const Tensor<double> v = curv::test::uniform<double>({f.dim()}, 6);
  Tensor<double> first, between, again;
  f.sampled_gnvp(3, w, v, first);
  f.sampled_gnvp(8, w, v, between);
  f.sampled_gnvp(3, w, v, again);
  EXPECT_TRUE(same_bits(first, again));
  EXPECT_FALSE(same_bits(first, between));
}

TEST(SubsampledCurvature, LeavesValueGradientAndTheFullProductsUntouched) {
  Fixture fx;
  ModelObjective<double> full(fx.model, fx.loss, fx.data, {.batch_size = 16});
  ModelObjective<double> sampled(fx.model, fx.loss, fx.data, {.batch_size = 16, .curvature_fraction = 0.2});
  const Tensor<double> w = curv::test::uniform<double>({full.dim()}, 7, 0.8);
  const Tensor<double> v = curv::test::uniform<double>({full.dim()}, 8);
  Tensor<double> g1, g2, h1, h2, s;
  EXPECT_EQ(full.value_and_grad(w, g1), sampled.value_and_grad(w, g2));
  EXPECT_TRUE(same_bits(g1, g2));
  sampled.sampled_hvp(1, w, v, s);
  full.hvp(w, v, g1, h1);
  sampled.hvp(w, v, g2, h2);  // what SCG calls: still the whole dataset
  EXPECT_TRUE(same_bits(h1, h2));
  EXPECT_FALSE(same_bits(h1, s));
  // With curvature_fraction = 1 the sampled product is the full one.
  Tensor<double> s_full;
  full.sampled_hvp(1, w, v, s_full);
  EXPECT_EQ(full.curvature_fraction(), 1.0);
  EXPECT_TRUE(same_bits(s_full, h1));
}

TEST(SubsampledCurvature, ABadFractionIsRefusedNamingIt) {
  Fixture fx;
  try {
    ModelObjective<double> f(fx.model, fx.loss, fx.data, {.curvature_fraction = 1.5});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "curv::datasets::ModelObjective: curvature_fraction = 1.500000, expected a share of the examples "
                 "in (0, 1]");
  }
  const SubsetView<double> view(fx.data, {0, 5});
  EXPECT_THROW(SubsetView<double>(fx.data, {0, n_examples}), std::invalid_argument);
}

TEST(SubsampledCurvature, SecondOrderOptimizersTrainOnItAndCountItsCost) {
  Fixture fx;
  ModelObjective<double> f(fx.model, fx.loss, fx.data, {.batch_size = 32, .curvature_fraction = 0.25});
  const Tensor<double> w0 = curv::test::uniform<double>({f.dim()}, 11, 0.5);
  const double loss0 = f.value(w0);
  curv::optim::HessianFreeOptions ho;
  ho.max_iterations = 10;
  ho.warm_start_decay = 0;  // else a warm start's residual is one product more than the CG iterations
  const auto h = curv::optim::HessianFree<double>(ho).minimize(f, w0);
  EXPECT_LT(h.value, 0.9 * loss0);
  double products = 0, evaluations = h.passes - 1;
  for (const auto& i : h.trace) products += i.cg_iterations;
  evaluations -= 0.25 * products;  // the rest are whole passes: value, value_and_grad
  EXPECT_NEAR(evaluations, std::round(evaluations), 1e-9);
  curv::optim::TrustRegionOptions to;
  to.max_iterations = 10;
  const auto t = curv::optim::TrustRegionNewtonCG<double>(to).minimize(f, w0);
  EXPECT_LT(t.value, 0.9 * loss0);
}

}  // namespace
