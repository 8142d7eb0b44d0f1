// Learning-rate schedules against their closed forms (recomputed here, the
// PyTorch way: recursively where torch.optim.lr_scheduler steps
// recursively), reduce-on-plateau's patience, threshold and cooldown, a
// scheduled run stopped and resumed through the state archive, max_epochs,
// accumulate = k against a k-times batch, and the refusal of bad options.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using namespace curv::optim;
namespace sch = curv::optim::schedule;

constexpr double kBase = 0.1;

// The rates of `s` at positions 0 … n − 1 (no metric reported).
std::vector<double> rates(const Schedule& s, std::size_t n, double base = kBase) {
  const ScheduleState st = s.start(base);
  std::vector<double> r;
  for (std::size_t t = 0; t < n; ++t) r.push_back(s.learning_rate(base, t, st));
  return r;
}

void expect_rates(const std::vector<double>& expected, const std::vector<double>& got) {
  ASSERT_EQ(expected.size(), got.size());
  for (std::size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 1e-15 * std::abs(expected[t]) + 1e-18) << "position " << t;
}

double cosine(double from, double to, double fraction) {
  return to + (from - to) * (1 + std::cos(std::numbers::pi * fraction)) / 2;
}

TEST(Schedule, ConstantKeepsTheBaseRate) { expect_rates(std::vector<double>(7, kBase), rates(Schedule(), 7)); }

// PyTorch's StepLR steps recursively: lr ← lr·γ when t is a multiple of step_size.
TEST(Schedule, StepMultipliesByGammaEveryStepSize) {
  std::vector<double> expected;
  double lr = kBase;
  for (std::size_t t = 0; t < 14; ++t) {
    if (t > 0 && t % 4 == 0) lr *= 0.5;
    expected.push_back(lr);
  }
  expect_rates(expected, rates(Schedule(sch::Step{.step_size = 4, .gamma = 0.5}), 14));
}

TEST(Schedule, MultiStepMultipliesAtEachMilestone) {
  const std::vector<std::size_t> milestones = {2, 5, 9};
  std::vector<double> expected;
  double lr = kBase;
  for (std::size_t t = 0; t < 12; ++t) {
    for (std::size_t m : milestones)
      if (t == m) lr *= 0.1;
    expected.push_back(lr);
  }
  expect_rates(expected, rates(Schedule(sch::MultiStep{.milestones = milestones, .gamma = 0.1}), 12));
}

TEST(Schedule, ExponentialMultipliesEveryPosition) {
  std::vector<double> expected;
  double lr = kBase;
  for (std::size_t t = 0; t < 30; ++t, lr *= 0.9) expected.push_back(lr);
  const auto got = rates(Schedule(sch::Exponential{.gamma = 0.9}), 30);
  for (std::size_t t = 0; t < 30; ++t) EXPECT_NEAR(got[t], expected[t], 1e-14 * expected[t]) << t;
}

// SGDR with cycles of 3, 6, 12 positions (t_mult 2): the restarts at 3 and 9
// go back to the base rate, and each cycle falls towards eta_min.
TEST(Schedule, CosineRestartsFollowsEachCycleAndRestartsAtTheBaseRate) {
  const double eta_min = 0.01;
  std::vector<double> expected;
  for (std::size_t cycle : {3u, 6u, 12u})
    for (std::size_t cur = 0; cur < cycle; ++cur)
      expected.push_back(eta_min + (kBase - eta_min) * (1 + std::cos(std::numbers::pi * cur / cycle)) / 2);
  const auto got = rates(Schedule(sch::CosineRestarts{.t0 = 3, .t_mult = 2, .eta_min = eta_min}), 21);
  expect_rates(expected, got);
  EXPECT_DOUBLE_EQ(got[3], kBase);
  EXPECT_DOUBLE_EQ(got[9], kBase);
  EXPECT_LT(got[8], got[7]);
}

TEST(Schedule, CosineRestartsWithoutGrowthRepeatsItsCycle) {
  const auto got = rates(Schedule(sch::CosineRestarts{.t0 = 5}), 20);
  for (std::size_t t = 0; t < 20; ++t) EXPECT_DOUBLE_EQ(got[t], kBase * (1 + std::cos(std::numbers::pi * (t % 5) / 5)) / 2);
}

// Warm-up (PyTorch LinearLR(start_factor = 0.25, total_iters = 4) then SequentialLR):
// 0.025, 0.04375, 0.0625, 0.08125, then the cosine from its own position 0.
TEST(Schedule, LinearWarmupThenCosine) {
  const Schedule s(sch::LinearWarmup{.steps = 4, .start_factor = 0.25}, sch::CosineRestarts{.t0 = 10});
  std::vector<double> expected = {0.025, 0.04375, 0.0625, 0.08125};
  for (std::size_t cur = 0; cur < 10; ++cur) expected.push_back(cosine(kBase, 0, cur / 10.0));
  expected.push_back(kBase);  // the restart
  expect_rates(expected, rates(s, 15));
}

// OneCycleLR(max_lr = 1, total_steps = 20, pct_start = 0.25): up from 1/25
// over positions 0…4, down to 1/(25·1e4) at 19, and held there after.
TEST(Schedule, OneCycleRisesToMaxLrThenAnnealsToItsMinimum) {
  const Schedule s(sch::OneCycle{.max_lr = 1, .total_steps = 20, .pct_start = 0.25});
  const double initial = 1.0 / 25, minimum = initial / 1e4;
  std::vector<double> expected;
  for (std::size_t t = 0; t <= 4; ++t) expected.push_back(cosine(initial, 1, t / 4.0));
  for (std::size_t t = 5; t < 20; ++t) expected.push_back(cosine(1, minimum, (t - 4) / 15.0));
  expected.push_back(minimum);
  expected.push_back(minimum);
  const auto got = rates(s, 22, /*base ignored*/ 123.0);
  expect_rates(expected, got);
  EXPECT_EQ(got[4], 1.0);
}

TEST(Schedule, OneCycleThreePhasesComesBackToTheInitialRateBeforeAnnealing) {
  const Schedule s(sch::OneCycle{.max_lr = 2, .total_steps = 20, .pct_start = 0.25, .three_phase = true});
  const double initial = 2.0 / 25;
  const auto got = rates(s, 20);
  EXPECT_NEAR(got[0], initial, 1e-15);
  EXPECT_DOUBLE_EQ(got[4], 2);
  EXPECT_DOUBLE_EQ(got[6], cosine(2, initial, 2 / 4.0));
  EXPECT_NEAR(got[8], initial, 1e-15);
  EXPECT_DOUBLE_EQ(got[13], cosine(initial, initial / 1e4, 5 / 11.0));
}

// ReduceLROnPlateau(patience 2, factor 0.5, threshold 0.1 relative, cooldown 1):
// the lr after each report, traced by hand from PyTorch's rules.
TEST(Schedule, PlateauReducesAfterPatienceAndWaitsOutItsCooldown) {
  const Schedule s(sch::ReduceOnPlateau{.factor = 0.5, .patience = 2, .threshold = 0.1, .cooldown = 1});
  ScheduleState st = s.start(1.0);
  const std::vector<double> metric = {10, 9.5, 9.2, 9.1, 9.0, 8.95, 8.9, 8.0, 7.9, 7.9, 7.9, 7.9, 7.9, 7.9};
  //  10: best; 9.5, 9.2, 9.1 are not below 10·0.9 = 9: the third bad one (> patience) halves;
  //  9.0: bad, but the cooldown zeroes it; 8.95, 8.9 bad (2, not > 2); 8.0 < 9·… best;
  //  7.9 ×3: the third halves again; the cooldown swallows the next; then two more bad ones.
  const std::vector<double> expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25};
  for (std::size_t i = 0; i < metric.size(); ++i) {
    s.report(metric[i], st);
    EXPECT_EQ(s.learning_rate(1.0, 100, st), expected[i]) << "after report " << i << " of " << metric[i];
  }
  EXPECT_EQ(st.best, 8.0);
  EXPECT_EQ(st.num_bad_epochs, 2u);
}

TEST(Schedule, PlateauHonoursAbsoluteThresholdModeMaxAndMinLr) {
  const Schedule s(sch::ReduceOnPlateau{.mode = sch::ReduceOnPlateau::Mode::max, .factor = 0.5, .patience = 0,
                                        .threshold = 0.05, .relative_threshold = false, .min_lr = 0.3});
  ScheduleState st = s.start(1.0);
  EXPECT_EQ(st.best, -std::numeric_limits<double>::infinity());
  s.report(0.90, st);  // best
  EXPECT_EQ(st.lr, 1.0);
  s.report(0.94, st);  // not above 0.90 + 0.05: reduced at once (patience 0)
  EXPECT_EQ(st.lr, 0.5);
  s.report(0.96, st);  // above 0.95: a new best
  EXPECT_EQ(st.lr, 0.5);
  EXPECT_EQ(st.best, 0.96);
  s.report(0.5, st);  // bad: 0.25 is below min_lr, so 0.3
  EXPECT_EQ(st.lr, 0.3);
  s.report(0.5, st);  // bad, but already at min_lr
  EXPECT_EQ(st.lr, 0.3);
  s.report(std::nan(""), st);  // NaN is never an improvement
  EXPECT_EQ(st.best, 0.96);
}

TEST(Schedule, WarmupThenPlateauUsesThePlateauRateAfterTheWarmup) {
  const Schedule s(sch::LinearWarmup{.steps = 2, .start_factor = 0.5},
                   sch::ReduceOnPlateau{.factor = 0.1, .patience = 0});
  ScheduleState st = s.start(kBase);
  EXPECT_EQ(s.learning_rate(kBase, 0, st), 0.05);
  s.report(1, st);
  s.report(1, st);  // bad: reduced
  EXPECT_DOUBLE_EQ(s.learning_rate(kBase, 2, st), 0.01);
  EXPECT_DOUBLE_EQ(s.learning_rate(kBase, 1, st), 0.075);  // the warm-up is a function of t
}

// ---- schedules inside SGD and Adam --------------------------------------

// A least-squares problem over N rows split into contiguous minibatches of
// batch_size rows, in an order that begin_epoch(e) reshuffles (the same
// order for every batch size): the loss of a batch is the mean of
// ½(aᵢ·w − bᵢ)² over its rows, summed in row order.
struct LeastSquares {
  static constexpr std::size_t kRows = 24, kDim = 3;
  std::size_t batch_size;
  std::vector<std::size_t> order;
  std::size_t begun = 0;

  explicit LeastSquares(std::size_t batch) : batch_size(batch), order(kRows) { begin_epoch(0); }
  static double a(std::size_t row, std::size_t j) { return std::sin(1.0 + 3.0 * row + 7.0 * j); }
  static double b(std::size_t row) { return std::cos(2.0 * row); }

  std::size_t dim() const { return kDim; }
  std::size_t num_batches() const { return (kRows + batch_size - 1) / batch_size; }
  void begin_epoch(std::size_t e) {
    ++begun;
    for (std::size_t i = 0; i < kRows; ++i) order[i] = (i * 5 + 7 * e) % kRows;  // 5 is prime to 24
  }
  double rows_value_and_grad(std::size_t from, std::size_t to, const Tensor<double>& w, Tensor<double>& g) const {
    g = Tensor<double>::from_shape({kDim});
    g.fill(0);
    double loss = 0;
    for (std::size_t i = from; i < to; ++i) {
      const std::size_t row = order[i];
      double r = -b(row);
      for (std::size_t j = 0; j < kDim; ++j) r += a(row, j) * w(j);
      loss += 0.5 * r * r;
      for (std::size_t j = 0; j < kDim; ++j) g(j) += r * a(row, j);
    }
    const double n = static_cast<double>(to - from);
    g /= n;
    return loss / n;
  }
  double batch_value_and_grad(std::size_t k, const Tensor<double>& w, Tensor<double>& g) {
    return rows_value_and_grad(k * batch_size, std::min(kRows, (k + 1) * batch_size), w, g);
  }
  double value_and_grad(const Tensor<double>& w, Tensor<double>& g) { return rows_value_and_grad(0, kRows, w, g); }
  double value(const Tensor<double>& w) {
    Tensor<double> g;
    return value_and_grad(w, g);
  }
};
static_assert(StochasticObjective<LeastSquares, double>);

const Tensor<double> kStart = {0.5, -0.25, 1.0};

template <class Opt>
auto run(const Opt& opt, std::size_t batch_size) {
  LeastSquares obj(batch_size);
  return opt.minimize(obj, kStart);
}

void expect_close(const Tensor<double>& a, const Tensor<double>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a(i), b(i), tol * (1 + std::abs(b(i)))) << "element " << i;
}

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(Schedule, SgdStepsAtTheScheduledRatePerStepAndPerEpoch) {
  SgdOptions opt;
  opt.learning_rate = 0.2;
  opt.max_iterations = 12;
  opt.schedule = Schedule(sch::Step{.step_size = 5, .gamma = 0.5});
  const auto per_step = run(SGD<double>(opt), 6);  // 4 steps an epoch
  ASSERT_EQ(per_step.trace.size(), 12u);
  for (std::size_t s = 0; s < 12; ++s) EXPECT_EQ(per_step.trace[s].alpha, 0.2 * std::pow(0.5, s / 5)) << s;
  opt.schedule = Schedule(sch::Step{.step_size = 2, .gamma = 0.5}, ScheduleUnit::epoch);
  const auto per_epoch = run(SGD<double>(opt), 6);
  for (std::size_t s = 0; s < 12; ++s) EXPECT_EQ(per_epoch.trace[s].alpha, 0.2 * std::pow(0.5, s / 4 / 2)) << s;
}

// The rate really moves the weights: the first plain step of w − lr·g with lr = the schedule's.
TEST(Schedule, AdamUsesTheScheduledRateInItsUpdate) {
  AdamOptions opt;
  opt.learning_rate = 0.1;
  opt.max_iterations = 1;
  opt.schedule = Schedule(sch::LinearWarmup{.steps = 10, .start_factor = 0.1}, sch::Constant{});
  const auto r = run(Adam<double>(opt), 24);
  Tensor<double> g;
  LeastSquares(24).value_and_grad(kStart, g);
  // Adam's first step moves each weight by lr·sign(g) (up to eps).
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(r.x(i), kStart(i) - 0.01 * (g(i) > 0 ? 1 : -1), 1e-9);
}

template <class Opt, class State>
State round_trip(const Opt& opt, const State& st) {
  MemoryState saved;
  opt.save_state(st, saved);
  return opt.load_state(saved, LeastSquares::kDim);
}

// A run with warm-up + SGDR per step, stopped after 7 steps, saved, loaded
// and resumed, ends where the straight run ends, bit for bit.
TEST(Schedule, AScheduledRunResumedFromItsSavedStateEqualsTheStraightRun) {
  AdamOptions opt;
  opt.learning_rate = 0.05;
  opt.max_iterations = 20;
  opt.accumulate = 2;
  opt.schedule = Schedule(sch::LinearWarmup{.steps = 3}, sch::CosineRestarts{.t0 = 4, .t_mult = 2, .eta_min = 1e-3});
  const auto whole = run(Adam<double>(opt), 4);
  AdamOptions first = opt;
  first.max_iterations = 7;
  const Adam<double> adam(opt);
  const auto part = run(Adam<double>(first), 4);
  LeastSquares fresh(4);
  const auto rest = adam.resume(fresh, round_trip(adam, part.state));
  EXPECT_TRUE(same_bits(rest.x, whole.x));
  ASSERT_EQ(rest.trace.size(), 13u);
  for (std::size_t i = 0; i < 13; ++i) EXPECT_EQ(rest.trace[i].alpha, whole.trace[7 + i].alpha);
}

// Reduce-on-plateau's memory is saved with the state: SGD stepped by hand,
// the training loss reported after every epoch, saved and reloaded after
// epoch 4, continues exactly as the straight run (rate, best, counters).
TEST(Schedule, PlateauStateSurvivesSaveAndLoadMidRun) {
  SgdOptions opt;
  opt.learning_rate = 0.3;
  opt.momentum = 0.5;
  opt.schedule = Schedule(sch::ReduceOnPlateau{.factor = 0.5, .patience = 1, .threshold = 0.02, .cooldown = 1});
  const SGD<double> sgd(opt);
  auto epochs = [&](SgdState<double> st, std::size_t from, std::size_t to, std::vector<double>& lrs) {
    LeastSquares obj(6);
    bool entering = true;
    for (std::size_t e = from; e < to; ++e) {
      for (std::size_t s = 0; s < sgd.steps_per_epoch(obj); ++s, entering = false)
        lrs.push_back(sgd.step(obj, st, entering).alpha);
      sgd.report_metric(st, obj.value(st.w));
    }
    return st;
  };
  std::vector<double> straight_lrs, resumed_lrs;
  const SgdState<double> straight = epochs(sgd.start(kStart), 0, 12, straight_lrs);
  const SgdState<double> half = epochs(sgd.start(kStart), 0, 4, resumed_lrs);
  MemoryState saved;
  sgd.save_state(half, saved);
  EXPECT_EQ(saved.scalars.count("schedule.lr"), 1u);
  EXPECT_EQ(saved.counters.count("schedule.num_bad_epochs"), 1u);
  const SgdState<double> resumed = epochs(sgd.load_state(saved, LeastSquares::kDim), 4, 12, resumed_lrs);
  EXPECT_TRUE(same_bits(resumed.w, straight.w));
  EXPECT_EQ(resumed_lrs, straight_lrs);
  EXPECT_EQ(resumed.schedule.lr, straight.schedule.lr);
  EXPECT_EQ(resumed.schedule.best, straight.schedule.best);
  EXPECT_EQ(resumed.schedule.num_bad_epochs, straight.schedule.num_bad_epochs);
  EXPECT_LT(straight.schedule.lr, 0.3);  // the plateau did reduce the rate in this run
}

TEST(Schedule, StatesWithoutAPlateauSaveNoScheduleRecordAndAPlateauNeedsOne) {
  SgdOptions plain;
  const SGD<double> sgd(plain);
  MemoryState saved;
  sgd.save_state(sgd.start(kStart), saved);
  for (const auto& [name, v] : saved.scalars) EXPECT_EQ(name.rfind("schedule.", 0), std::string::npos) << name;
  SgdOptions with_plateau;
  with_plateau.schedule = Schedule(sch::ReduceOnPlateau{});
  try {
    SGD<double>(with_plateau).load_state(saved, LeastSquares::kDim);
    ADD_FAILURE() << "a state without the plateau's record was loaded";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("schedule.lr"), std::string::npos) << e.what();
  }
  SgdState<double> bad = SGD<double>(with_plateau).start(kStart);
  bad.schedule.lr = -1;
  try {
    SGD<double>(with_plateau).check_state(bad, LeastSquares::kDim);
    ADD_FAILURE() << "a negative plateau rate was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "curv::optim::SGD: state.schedule.lr = -1, expected a finite rate >= 0");
  }
}

// ---- epochs and accumulation --------------------------------------------

TEST(Epochs, MaxEpochsStopsAfterThatManyEpochsOfSteps) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.max_epochs = 3;
  opt.accumulate = 2;  // 24 rows in batches of 5: 5 minibatches, groups 2 + 2 + 1: 3 steps an epoch
  LeastSquares obj(5);
  const auto r = SGD<double>(opt).minimize(obj, kStart);
  EXPECT_EQ(r.stop_reason, StopReason::max_epochs);
  EXPECT_EQ(r.iterations, 9u);
  EXPECT_EQ(obj.begun, 1u + 3u);  // the constructor's, then one per epoch
  EXPECT_NEAR(r.passes, 3.0 + 1, 1e-12);
  ASSERT_EQ(r.trace.size(), 9u);
  EXPECT_EQ(r.trace[8].epoch, 2u);
  EXPECT_EQ(r.trace[8].batch, 4u);  // the short group: minibatch 4 alone
  opt.max_iterations = 7;  // the first limit reached stops
  const auto r7 = run(SGD<double>(opt), 5);
  EXPECT_EQ(r7.stop_reason, StopReason::max_iterations);
  EXPECT_EQ(r7.iterations, 7u);
}

// accumulate = k on minibatches of 2 rows steps exactly as accumulate = 1 on
// minibatches of 2k rows: the same mean gradient, up to summation order.
TEST(Accumulate, KMinibatchesPerStepEqualOneStepOnAKTimesLargerBatch) {
  for (std::size_t k : {2u, 3u, 4u}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    SgdOptions sgd;
    sgd.learning_rate = 0.2;
    sgd.momentum = 0.9;
    sgd.max_epochs = 5;
    sgd.max_iterations = 100000;
    SgdOptions big = sgd;
    sgd.accumulate = k;
    const auto a = run(SGD<double>(sgd), 2);
    const auto b = run(SGD<double>(big), 2 * k);
    EXPECT_EQ(a.iterations, b.iterations);
    EXPECT_EQ(a.iterations, 5 * 12 / k);
    expect_close(a.x, b.x, 1e-13);
    EXPECT_FALSE(same_bits(a.x, kStart));

    AdamOptions adam;
    adam.learning_rate = 0.05;
    adam.max_epochs = 5;
    AdamOptions adam_big = adam;
    adam.accumulate = k;
    expect_close(run(Adam<double>(adam), 2).x, run(Adam<double>(adam_big), 2 * k).x, 1e-12);
    for (std::size_t s = 0; s < a.trace.size(); ++s) EXPECT_NEAR(a.trace[s].loss, b.trace[s].loss, 1e-13);
  }
}

// A short last group (12 minibatches in groups of 5: 5, 5, 2) is a step on the mean of its 2 minibatches.
TEST(Accumulate, TheShortLastGroupOfAnEpochStepsOnTheMeanOfItsMinibatches) {
  SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.accumulate = 5;
  opt.max_iterations = 2;
  const SGD<double> sgd(opt);
  const auto two = run(sgd, 2);
  LeastSquares obj(2);
  Tensor<double> g10, g11;
  obj.batch_value_and_grad(10, two.x, g10);
  obj.batch_value_and_grad(11, two.x, g11);
  const Tensor<double> expected = two.x - 0.1 * (g10 + g11) / 2.0;
  opt.max_iterations = 3;
  const auto three = run(SGD<double>(opt), 2);
  EXPECT_EQ(three.trace[2].batch, 10u);
  EXPECT_NEAR(three.trace[2].passes, 1.0, 1e-12);
  expect_close(three.x, expected, 1e-15);
}

// A NaN in the second minibatch of a group is reported at that minibatch, and the state is the one before the step.
TEST(Accumulate, ANonFiniteGradientNamesTheMinibatchOfTheGroupThatProducedIt) {
  struct NanInBatch3 : LeastSquares {
    NanInBatch3() : LeastSquares(2) {}
    double batch_value_and_grad(std::size_t k, const Tensor<double>& w, Tensor<double>& g) {
      const double loss = LeastSquares::batch_value_and_grad(k, w, g);
      if (k == 3) g(1) = std::nan("");
      return loss;
    }
  } obj;
  SgdOptions opt;
  opt.accumulate = 2;
  const auto r = SGD<double>(opt).minimize(obj, kStart);
  EXPECT_EQ(r.stop_reason, StopReason::non_finite);
  EXPECT_EQ(r.iterations, 1u);  // the group of minibatches 2 and 3 was refused
  EXPECT_NE(r.message.find("the gradient has a non-finite element [1] = nan at step 2 (epoch 0, minibatch 3)"),
            std::string::npos)
      << r.message;
}

// ---- refusals ------------------------------------------------------------

const auto refusal = test::message_of;

TEST(Schedule, BadOptionsAreRefusedNamingTheOptionWhatWasExpectedAndWhatWasFound) {
  EXPECT_EQ(refusal([] { Schedule(sch::Step{.step_size = 0}); }),
            "curv::optim::schedule::Step: step_size = 0, expected at least 1");
  EXPECT_EQ(refusal([] { Schedule(sch::Step{.step_size = 3, .gamma = -0.5}); }),
            "curv::optim::schedule::Step: gamma = -0.5, expected a finite factor >= 0");
  EXPECT_EQ(refusal([] { Schedule(sch::MultiStep{.milestones = {3, 8, 8}}); }),
            "curv::optim::schedule::MultiStep: milestones[2] = 8 after 8, expected strictly increasing milestones");
  EXPECT_EQ(refusal([] { Schedule(sch::Exponential{.gamma = std::nan("")}); }),
            "curv::optim::schedule::Exponential: gamma = nan, expected a finite factor >= 0");
  EXPECT_EQ(refusal([] { Schedule(sch::CosineRestarts{.t0 = 0}); }),
            "curv::optim::schedule::CosineRestarts: t0 = 0, expected at least 1");
  EXPECT_EQ(refusal([] { Schedule(sch::CosineRestarts{.t0 = 2, .t_mult = 0}); }),
            "curv::optim::schedule::CosineRestarts: t_mult = 0, expected at least 1");
  EXPECT_EQ(refusal([] { Schedule(sch::CosineRestarts{.t0 = 2, .eta_min = -1}); }),
            "curv::optim::schedule::CosineRestarts: eta_min = -1, expected a finite rate >= 0");
  EXPECT_EQ(refusal([] { Schedule(sch::OneCycle{.max_lr = 1, .total_steps = 100, .pct_start = 1.5}); }),
            "curv::optim::schedule::OneCycle: pct_start = 1.5, expected a fraction in (0, 1): the warm-up part must "
            "be shorter than the cycle");
  EXPECT_EQ(refusal([] { Schedule(sch::OneCycle{.max_lr = 0, .total_steps = 100}); }),
            "curv::optim::schedule::OneCycle: max_lr = 0, expected a finite rate > 0");
  EXPECT_EQ(refusal([] { Schedule(sch::OneCycle{.max_lr = 1, .total_steps = 3, .pct_start = 0.3}); }),
            "curv::optim::schedule::OneCycle: pct_start · total_steps = 0.9 of total_steps = 3, expected 1 < "
            "pct_start · total_steps < total_steps so that both phases span at least one step");
  EXPECT_EQ(refusal([] { Schedule(sch::ReduceOnPlateau{.factor = -0.5}); }),
            "curv::optim::schedule::ReduceOnPlateau: factor = -0.5, expected a factor in (0, 1)");
  EXPECT_EQ(refusal([] { Schedule(sch::ReduceOnPlateau{.factor = 1}); }),
            "curv::optim::schedule::ReduceOnPlateau: factor = 1, expected a factor in (0, 1)");
  EXPECT_EQ(refusal([] { Schedule(sch::ReduceOnPlateau{.threshold = -1}); }),
            "curv::optim::schedule::ReduceOnPlateau: threshold = -1, expected a finite number >= 0");
  EXPECT_EQ(refusal([] { Schedule(sch::LinearWarmup{.steps = 5, .start_factor = 0}, sch::Constant{}); }),
            "curv::optim::schedule::LinearWarmup: start_factor = 0, expected a factor in (0, 1]");
}

TEST(Accumulate, ZeroAndAccumulationWithoutMinibatchesAreRefused) {
  EXPECT_EQ(refusal([] {
              SgdOptions o;
              o.accumulate = 0;
              SGD<double>{o};
            }),
            "curv::optim::SgdOptions: accumulate = 0, expected at least 1 minibatch per step");
  EXPECT_EQ(refusal([] {
              AdamWOptions o;
              o.accumulate = 0;
              AdamW<double>{o};
            }),
            "curv::optim::AdamOptions: accumulate = 0, expected at least 1 minibatch per step");
  EXPECT_EQ(refusal([] {
              SgdOptions o;
              o.accumulate = 2;
              auto obj = make_objective<double>(test::booth, 2);
              SGD<double>(o).minimize(obj, Tensor<double>{0.0, 0.0});
            }),
            "curv::optim::SGD: accumulate = 2, expected 1 for an objective without minibatches (accumulation needs "
            "a StochasticObjective)");
}

}  // namespace
