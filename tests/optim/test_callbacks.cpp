// Callbacks (callback.hpp, callbacks.hpp): every optimizer fires the events in
// order with the weights it holds; a callback can evaluate the objective, save
// the full state mid-run (and a resume from it is bit-identical), stop the
// run; EarlyStopping stops at the closed-form epoch and restores the best
// weights; CsvLogger, ProgressPrinter and Checkpointer write what they saw.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using namespace curv::optim;

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Records every event: its name, the epoch, the iteration, and whether the
// objective at the context's weights equals the record's loss (bit for bit).
struct Recorder : Callback<double> {
  std::vector<std::string> events;
  std::vector<std::size_t> epochs;
  std::size_t loss_matches = 0;
  std::size_t steps = 0;
  void on_begin(CallbackContext<double>& c) override { note("begin", c); }
  void on_step(CallbackContext<double>& c) override {
    ++steps;
    note("step", c);
    if (static_cast<double>(c.objective().value(c.w())) == c.info().loss) ++loss_matches;
  }
  void on_epoch(CallbackContext<double>& c) override { note("epoch", c); }
  void on_end(CallbackContext<double>& c, Result<double>& r) override {
    note("end", c);
    EXPECT_TRUE(same_bits(c.w(), r.x));
  }
  void note(const char* what, const CallbackContext<double>& c) {
    events.emplace_back(what);
    epochs.push_back(c.epoch());
  }
};

TEST(Callbacks, FullDatasetOptimizersFireBeginThenStepAndEpochPerIterationThenEnd) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  const Tensor<double> x0 = {-1.2, 1.0};
  auto check = [](const auto& r, const Recorder& rec, const char* who) {
    const std::size_t n = r.iterations;
    ASSERT_GT(n, 3u) << who;
    ASSERT_EQ(rec.events.size(), 2 * n + 2) << who;
    EXPECT_EQ(rec.events.front(), "begin") << who;
    EXPECT_EQ(rec.epochs.front(), 0u) << who;
    for (std::size_t k = 1; k <= n; ++k) {
      EXPECT_EQ(rec.events[2 * k - 1], "step") << who << " " << k;
      EXPECT_EQ(rec.events[2 * k], "epoch") << who << " " << k;
      EXPECT_EQ(rec.epochs[2 * k], k) << who << ": an iteration is an epoch";
    }
    EXPECT_EQ(rec.events.back(), "end") << who;
    // The context's weights are the iterate whose loss the record holds.
    EXPECT_EQ(rec.loss_matches, n) << who;
  };
  {
    Recorder rec;
    check(SCG<double>().minimize(obj, x0, {&rec}), rec, "SCG");
  }
  {
    Recorder rec;
    check(LBFGS<double>().minimize(obj, x0, {&rec}), rec, "LBFGS");
  }
  {
    Recorder rec;
    check(NonlinearCG<double>().minimize(obj, x0, {&rec}), rec, "NonlinearCG");
  }
}

// Four minibatches of ½cᵦ|w − aᵦ|² (b = 0…3): the epoch's mean loss is a
// known function of the step losses.
struct FourBatches {
  std::size_t dim() const { return 2; }
  std::size_t num_batches() const { return 4; }
  void begin_epoch(std::size_t) {}
  static double c(std::size_t b) { return 1.0 + 0.25 * static_cast<double>(b); }
  double batch_value_and_grad(std::size_t b, const Tensor<double>& w, Tensor<double>& g) {
    const double a = static_cast<double>(b) - 1.5;
    g = c(b) * (w - a);
    return 0.5 * c(b) * ((w(0) - a) * (w(0) - a) + (w(1) - a) * (w(1) - a));
  }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) {
    Tensor<double> gb;
    g = Tensor<double>::from_shape({2});
    g.fill(0);
    double f = 0;
    for (std::size_t b = 0; b < 4; ++b) {
      f += batch_value_and_grad(b, w, gb);
      g += gb;
    }
    g /= 4.0;
    return f / 4;
  }
  double value(const Tensor<double>& w) {
    Tensor<double> g;
    return value_and_grad(w, g);
  }
};

TEST(Callbacks, SgdEndsAnEpochAfterItsLastMinibatchWithTheMeanStepLoss) {
  FourBatches obj;
  SgdOptions o;
  o.learning_rate = 0.1;
  o.max_iterations = 10;  // two whole epochs and half of a third
  std::vector<std::size_t> epoch_at_step;
  std::vector<double> epoch_loss;
  OnEpoch<double> on_epoch([&](CallbackContext<double>& c) {
    epoch_at_step.push_back(c.info().iteration);
    epoch_loss.push_back(c.metrics().at("loss"));
  });
  Recorder rec;
  const auto r = SGD<double>(o).minimize(obj, Tensor<double>{3.0, -2.0}, {&rec, &on_epoch});
  ASSERT_EQ(r.trace.size(), 10u);
  EXPECT_EQ(rec.steps, 10u);
  ASSERT_EQ(epoch_at_step, (std::vector<std::size_t>{4, 8}));
  for (std::size_t e = 0; e < 2; ++e) {
    double mean = 0;
    for (std::size_t s = 4 * e; s < 4 * e + 4; ++s) mean += r.trace[s].loss;
    EXPECT_EQ(epoch_loss[e], mean / 4) << "epoch " << e + 1;
  }
  EXPECT_EQ(rec.events.front(), "begin");
  EXPECT_EQ(rec.events.back(), "end");
}

TEST(Callbacks, AStateSavedByACallbackResumesBitIdentically) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  const Tensor<double> x0 = {-1.2, 1.0};
  ScgOptions o;
  o.max_iterations = 12;
  MemoryState at_five;
  Checkpointer<double> save(5, [&](const CallbackContext<double>& c) {
    if (c.epoch() == 5) c.save_state(at_five);
  });
  const SCG<double> scg(o);
  const auto whole = scg.minimize(obj, x0, {&save});
  ASSERT_EQ(save.last_saved(), std::optional<std::size_t>(10));
  const auto resumed = scg.resume(obj, scg.load_state(at_five, 2));
  EXPECT_EQ(resumed.iterations, 12u);
  EXPECT_TRUE(same_bits(resumed.x, whole.x));
  EXPECT_EQ(resumed.value, whole.value);
}

TEST(Callbacks, ACallbackThatStopsAtTheStartEndsTheRunBeforeAnyIteration) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  struct Refuse : Callback<double> {
    void on_begin(CallbackContext<double>& c) override { c.stop("not today"); }
  } refuse;
  const auto r = LBFGS<double>().minimize(obj, Tensor<double>{-1.2, 1.0}, {&refuse});
  EXPECT_EQ(r.stop_reason, StopReason::callback);
  EXPECT_EQ(r.message, "not today");
  EXPECT_EQ(r.iterations, 0u);
}

TEST(Callbacks, AMetricNoCallbackSetIsAClearError) {
  auto obj = make_objective<double>(test::booth, 2);
  EarlyStopping<double> stop;  // watches val_loss, which nothing sets
  try {
    SCG<double>().minimize(obj, Tensor<double>{0.0, 0.0}, {&stop});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("no metric 'val_loss'"), std::string::npos) << m;
    EXPECT_NE(m.find("it has: loss"), std::string::npos) << m;
  }
  EXPECT_THROW(EarlyStopping<double>({.patience = 0}), std::invalid_argument);
  EXPECT_THROW(EarlyStopping<double>({.min_delta = -1}), std::invalid_argument);
  EXPECT_THROW(Checkpointer<double>(0, [](const CallbackContext<double>&) {}), std::invalid_argument);
}

// Gradient descent on f(w) = ½|w − a|² moves along the segment from w₀ to a:
// w_t = a + (1 − η)^t (w₀ − a). A "validation loss" |w − b|² with b on that
// segment falls until w_t passes b, then rises: its best epoch and the epoch
// early stopping ends at have closed forms.
struct Segment {
  Tensor<double> a = {1.0, 2.0}, w0 = {-3.0, -6.0}, b = {0.0, 0.0};
  double eta = 0.2;
  Segment() { b = a + 0.3 * (w0 - a); }  // (1 − η)^t = 0.3 between t = 5 and 6
  double val(const Tensor<double>& w) const {
    const Tensor<double> d = w - b;
    return d(0) * d(0) + d(1) * d(1);
  }
  std::size_t best_epoch() const {
    std::size_t best = 0;
    double best_val = INFINITY;
    for (std::size_t t = 0; t < 40; ++t) {
      const double v = val(a + std::pow(1 - eta, static_cast<double>(t)) * (w0 - a));
      if (v < best_val) best_val = v, best = t;
    }
    return best;
  }
};

TEST(EarlyStopping, StopsPatienceEpochsAfterTheBestAndRestoresItsWeights) {
  const Segment s;
  struct HalfSquare {  // ½|w − a|²
    Tensor<double> a;
    std::size_t dim() const { return 2; }
    double value(const Tensor<double>& w) const {
      const Tensor<double> d = w - a;
      return 0.5 * (d(0) * d(0) + d(1) * d(1));
    }
    double value_and_grad(const Tensor<double>& w, Tensor<double>& g) const {
      g = w - a;
      return value(w);
    }
  } obj{s.a};
  SgdOptions o;
  o.learning_rate = s.eta;
  o.max_iterations = 100;
  std::vector<Tensor<double>> weights;  // by epoch, from 0
  struct Val : Callback<double> {
    const Segment* s;
    std::vector<Tensor<double>>* weights;
    void on_begin(CallbackContext<double>& c) override { on_epoch(c); }
    void on_epoch(CallbackContext<double>& c) override {
      weights->push_back(c.w());
      c.metrics().set("val_loss", s->val(c.w()));
    }
  } val;
  val.s = &s;
  val.weights = &weights;
  EarlyStopping<double> stop({.monitor = "val_loss", .patience = 3});
  const auto r = SGD<double>(o).minimize(obj, s.w0, {&val, &stop});

  const std::size_t best = s.best_epoch();
  ASSERT_EQ(best, 5u);
  EXPECT_EQ(stop.best_epoch(), best);
  EXPECT_EQ(r.stop_reason, StopReason::callback);
  EXPECT_EQ(r.iterations, best + 3) << r.message;
  EXPECT_NE(r.message.find("early stopping: val_loss"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("restored the weights of epoch 5"), std::string::npos) << r.message;
  ASSERT_EQ(weights.size(), best + 4);
  EXPECT_TRUE(same_bits(r.x, weights[best]));
  EXPECT_TRUE(same_bits(r.state.w, weights.back())) << "the state stays the last one, for resuming";
  EXPECT_EQ(r.value, obj.value(weights[best])) << "value is E at the restored x";
}

TEST(EarlyStopping, MinDeltaAndNanCountAsNoImprovementAndItsMemoryRoundTrips) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  const std::vector<double> vals = {5, 4, 3.95, NAN, 3.9, 1, 0.5};  // epochs 1, 2, …
  OnEpoch<double> val([&](CallbackContext<double>& c) { c.metrics().set("val_loss", vals[c.epoch() - 1]); });
  EarlyStopping<double> stop({.patience = 3, .min_delta = 0.2});
  MemoryState memory;
  OnEpoch<double> keep([&](CallbackContext<double>&) { stop.save(memory); });
  ScgOptions o;
  o.gradient_tolerance = 0;
  o.max_iterations = 7;
  // SCG needs dozens of iterations on Rosenbrock: only the callback stops it.
  const auto r = SCG<double>(o).minimize(obj, Tensor<double>{-1.2, 1.0}, {&val, &stop, &keep});
  // 4 at epoch 2 is the best; 3.95 and 3.9 improve by less than 0.2, NaN not at all.
  EXPECT_EQ(stop.best_epoch(), 2u);
  EXPECT_EQ(stop.best(), 4);
  EXPECT_EQ(r.iterations, 5u) << r.message;
  EarlyStopping<double> loaded({.patience = 3, .min_delta = 0.2});
  loaded.load(memory, 2);
  EXPECT_EQ(loaded.best(), 4);
  EXPECT_EQ(loaded.best_epoch(), 2u);
  EXPECT_EQ(loaded.bad_epochs(), 3u);
  EXPECT_TRUE(same_bits(loaded.best_weights(), stop.best_weights()));
  EarlyStopping<double> impatient({.patience = 2});
  EXPECT_THROW(impatient.load(memory, 2), std::invalid_argument) << "3 bad epochs exceed a patience of 2";
}

TEST(CsvLogger, WritesARowPerEpochWithTheMetricsAndContinuesInAppendMode) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "curv_test_csv_logger";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto log = dir / "log.csv";
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions o;
  o.max_iterations = 4;
  OnEpoch<double> extra([](CallbackContext<double>& c) { c.metrics().set("twice", 2 * c.info().loss); });
  CsvLogger<double> csv(log);
  const SCG<double> scg(o);
  const auto r = scg.minimize(obj, Tensor<double>{-1.2, 1.0}, {&extra, &csv});
  CsvContent c = read_csv(log);
  ASSERT_EQ(c.header, (std::vector<std::string>{"epoch", "passes", "seconds", "loss"}))
      << "the columns of the first row (epoch 0 has no 'twice')";
  ASSERT_EQ(c.rows.size(), 5u);
  for (std::size_t k = 1; k <= 4; ++k) {
    EXPECT_EQ(c.rows[k][0], std::to_string(k));
    EXPECT_EQ(std::stod(c.rows[k][1]), r.trace[k - 1].passes);
    EXPECT_EQ(std::stod(c.rows[k][3]), r.trace[k - 1].loss) << "written to round-trip";
  }
  // Explicit columns, appending: a resumed run continues the file.
  o.max_iterations = 6;
  CsvLogger<double> more(log, {.columns = {"epoch", "passes", "seconds", "loss"}, .mode = CsvLog::Mode::append});
  SCG<double>(o).resume(obj, r.state, {&more});
  c = read_csv(log);
  ASSERT_EQ(c.rows.size(), 7u);
  EXPECT_EQ(c.rows[6][0], "6");
  CsvLogger<double> other(log, {.columns = {"epoch", "twice"}, .mode = CsvLog::Mode::append});
  EXPECT_THROW(SCG<double>(o).resume(obj, r.state, {&extra, &other}), std::runtime_error) << "another header";
  std::filesystem::remove_all(dir);
}

TEST(ProgressPrinter, PrintsALinePerEpochWithTheMetricsAndAnEta) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions o;
  o.max_iterations = 3;
  std::vector<std::string> lines;
  ProgressPrinter<double> progress({.epochs = 3,
                                    .write = [&](const std::string& l) { lines.push_back(l); },
                                    .suffix = [](const CallbackContext<double>& c) {
                                      return "lambda " + std::to_string(c.info().lambda);
                                    },
                                    .metrics = {}});
  SCG<double>(o).minimize(obj, Tensor<double>{-1.2, 1.0}, {&progress});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("epoch 0/3  passes 1", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("loss 24.2"), std::string::npos) << lines[0] << " (E(-1.2, 1) = 24.2)";
  EXPECT_EQ(lines[1].rfind("epoch 1/3", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("lambda"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("eta "), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].find("eta "), std::string::npos) << "no ETA at the last epoch: " << lines[3];
}

}  // namespace
