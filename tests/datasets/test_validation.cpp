// datasets::Validation as a callback of the optimizers: its val_loss and
// val_accuracy are those of datasets::evaluate on the held-out set, and with
// optim::EarlyStopping after it a run that overfits stops `patience` epochs
// after its best validation loss and hands back exactly that epoch's weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/optim.hpp"
#include "test_models.hpp"

namespace {

using curv::Tensor;
namespace ds = curv::datasets;
namespace opt = curv::optim;

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Every epoch's weights and metrics as the callbacks before it left them.
struct History : opt::Callback<double> {
  std::vector<Tensor<double>> weights;
  std::vector<double> val_loss, val_accuracy;
  void on_begin(opt::CallbackContext<double>& c) override { on_epoch(c); }
  void on_epoch(opt::CallbackContext<double>& c) override {
    weights.push_back(c.w());
    val_loss.push_back(c.metrics().at("val_loss"));
    val_accuracy.push_back(c.metrics().at("val_accuracy"));
  }
};

// A wide MLP on few examples with 20% random labels: it fits the noise, so
// its validation loss falls, then rises.
struct Overfitting {
  static constexpr std::size_t features = 5;
  curv::test::TinyMlp<double> model{features, 40, 3};
  curv::test::CrossEntropy<double> loss;
  ds::TensorDataset<double> train = curv::test::synthetic<double>(40, features, 11);
  ds::TensorDataset<double> val = curv::test::synthetic<double>(300, features, 12);
  Tensor<double> w0 = curv::test::uniform<double>({model.num_parameters()}, 13, 1.0);
};

TEST(Validation, ItsMetricsAreThoseOfEvaluateOnTheHeldOutSet) {
  Overfitting p;
  ds::ModelObjective<double> objective(p.model, p.loss, p.train, {-1, 1});
  ds::Validation<double> validation(p.model, p.loss, p.val, {.batch_size = 64, .threads = 2});
  History history;
  opt::ScgOptions o;
  o.max_iterations = 6;
  opt::SCG<double>(o).minimize(objective, p.w0, {&validation, &history});
  ASSERT_EQ(history.weights.size(), 7u) << "the start and six iterations";
  for (std::size_t e = 0; e < history.weights.size(); ++e) {
    const ds::Evaluation expected = ds::evaluate(p.model, p.loss, p.val, history.weights[e], {.batch_size = -1});
    EXPECT_NEAR(history.val_loss[e], expected.loss, 1e-13 * expected.loss) << "epoch " << e;
    EXPECT_EQ(history.val_accuracy[e], expected.accuracy) << "epoch " << e;
  }
  EXPECT_THROW(ds::Validation<double>(p.model, p.loss, p.val, {}, {.every = 0}), std::invalid_argument);
}

TEST(Validation, EarlyStoppingRestoresTheWeightsOfTheBestValidationLoss) {
  Overfitting p;
  ds::ModelObjective<double> objective(p.model, p.loss, p.train, {-1, 1});
  ds::Validation<double> validation(p.model, p.loss, p.val);
  opt::EarlyStopping<double> stop({.monitor = "val_loss", .patience = 4});
  History history;
  opt::ScgOptions o;
  o.max_iterations = 400;
  const auto r = opt::SCG<double>(o).minimize(objective, p.w0, {&validation, &stop, &history});

  ASSERT_EQ(r.stop_reason, opt::StopReason::callback) << r.message << " (the model did not overfit)";
  const auto best = std::min_element(history.val_loss.begin(), history.val_loss.end()) - history.val_loss.begin();
  ASSERT_GT(best, 2) << "the validation loss first falls";
  EXPECT_EQ(stop.best_epoch(), static_cast<std::size_t>(best));
  EXPECT_EQ(r.iterations, static_cast<std::size_t>(best) + 4);
  EXPECT_TRUE(same_bits(r.x, history.weights[best])) << "the best epoch's weights";
  EXPECT_FALSE(same_bits(r.state.w, r.x)) << "the state stays the last one";
  EXPECT_EQ(ds::evaluate(p.model, p.loss, p.val, r.x).loss, history.val_loss[best]);
  EXPECT_EQ(r.value, objective.value(r.x)) << "value is the training loss at the restored weights";
  EXPECT_LT(history.val_loss[best], history.val_loss.front());
  EXPECT_GT(history.val_loss.back(), history.val_loss[best]);
}

}  // namespace
