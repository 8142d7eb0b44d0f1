// The user contract shared by all optimizers: options validated with the bad
// value in the message, every stop reason reachable and named, callbacks that
// see every iteration and can stop any run.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using namespace curv::optim;

void expect_invalid(const std::function<void()>& construct, const std::string& part) {
  try {
    construct();
    ADD_FAILURE() << "expected std::invalid_argument mentioning \"" << part << "\"";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Options, BadScgOptionsThrowNamingOptionAndValue) {
  expect_invalid([] { ScgOptions o; o.lambda_initial = -1; SCG<double>{o}; }, "lambda_initial must be in [1e-15, 1e+20), got -1");
  expect_invalid([] { ScgOptions o; o.gradient_tolerance = -0.5; SCG<double>{o}; }, "gradient_tolerance must be >= 0 and finite, got -0.5");
  expect_invalid([] { ScgOptions o; o.sigma = 0; SCG<float>{o}; }, "sigma must be positive and finite, got 0");
  expect_invalid([] { ScgOptions o; o.lambda_min = 1; o.lambda_max = 0.5; SCG<double>{o}; }, "lambda_min = 1 and lambda_max = 0.5");
  expect_invalid([] { ScgOptions o; o.relative_loss_tolerance = 2; SCG<double>{o}; }, "relative_loss_tolerance must be in [0, 1), got 2");
}

TEST(Options, BadSgdAndAdamOptionsThrowNamingOptionAndValue) {
  expect_invalid([] { SgdOptions o; o.learning_rate = -0.1; SGD<double>{o}; }, "SgdOptions: learning_rate must be >= 0 and finite, got -0.1");
  expect_invalid([] { SgdOptions o; o.nesterov = true; SGD<double>{o}; }, "nesterov needs momentum > 0 and dampening = 0, got momentum = 0");
  expect_invalid([] { SgdOptions o; o.weight_decay = std::numeric_limits<double>::quiet_NaN(); SGD<double>{o}; }, "weight_decay must be >= 0 and finite, got nan");
  expect_invalid([] { AdamOptions o; o.beta1 = 1.0; Adam<double>{o}; }, "AdamOptions: beta1 must be in [0, 1), got 1");
  expect_invalid([] { AdamOptions o; o.beta2 = -0.1; Adam<float>{o}; }, "beta2 must be in [0, 1), got -0.1");
  expect_invalid([] { AdamOptions o; o.eps = -1e-8; Adam<double>{o}; }, "eps must be >= 0 and finite, got -1e-08");
}

TEST(Options, BadLbfgsAndCgOptionsThrowNamingOptionAndValue) {
  expect_invalid([] { LbfgsOptions o; o.memory = 0; LBFGS<double>{o}; }, "LbfgsOptions: memory must be at least 1, got 0");
  expect_invalid([] { LbfgsOptions o; o.c2 = 1e-5; LBFGS<double>{o}; }, "c2 must be in (c1, 1), got c2 = 1e-05 with c1 = 0.0001");
  expect_invalid([] { NonlinearCgOptions o; o.c1 = 0; NonlinearCG<double>{o}; }, "NonlinearCgOptions: c1 must be in (0, 1), got 0");
  expect_invalid([] { NonlinearCgOptions o; o.gradient_tolerance = -1; NonlinearCG<double>{o}; }, "gradient_tolerance must be >= 0 and finite, got -1");
}

TEST(Options, StartingPointOfTheWrongSizeIsRejected) {
  auto obj = make_objective<double>(test::booth, 2);
  expect_invalid([&] { SCG<double>().minimize(obj, Tensor<double>{1.0, 2.0, 3.0}); }, "x0 has 3 elements (3,), expected obj.dim() = 2");
  expect_invalid([&] { LBFGS<double>().minimize(obj, Tensor<double>{1.0}); }, "x0 has 1 elements");
  expect_invalid([&] { SGD<double>().minimize(obj, Tensor<double>{1.0}); }, "x0 has 1 elements");
}

TEST(StopReasons, HaveTheirEnumeratorNames) {
  EXPECT_EQ(to_string(StopReason::gradient_tolerance), "gradient_tolerance");
  EXPECT_EQ(to_string(StopReason::relative_loss_tolerance), "relative_loss_tolerance");
  EXPECT_EQ(to_string(StopReason::max_iterations), "max_iterations");
  EXPECT_EQ(to_string(StopReason::callback), "callback");
  EXPECT_EQ(to_string(StopReason::stalled), "stalled");
  EXPECT_EQ(to_string(StopReason::line_search_failed), "line_search_failed");
  EXPECT_EQ(to_string(StopReason::non_finite), "non_finite");
}

TEST(StopReasons, ScgStopsOnGradientToleranceAtOnceAtAStationaryStart) {
  auto obj = make_objective<double>(test::booth, 2);
  const auto r = SCG<double>().minimize(obj, Tensor<double>{1.0, 3.0});
  EXPECT_EQ(r.stop_reason, StopReason::gradient_tolerance);
  EXPECT_EQ(r.iterations, 0u);
  EXPECT_TRUE(r.converged);
}

TEST(StopReasons, ScgStopsOnRelativeLossChange) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.gradient_tolerance = 0;
  opt.relative_loss_tolerance = 1e-3;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  EXPECT_EQ(r.stop_reason, StopReason::relative_loss_tolerance) << r.message;
  EXPECT_TRUE(r.converged);
  EXPECT_NE(r.message.find("relative loss change"), std::string::npos);
}

TEST(StopReasons, ScgStopsAtMaxIterations) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgOptions opt;
  opt.max_iterations = 3;
  const auto r = SCG<double>(opt).minimize(obj, Tensor<double>{-1.2, 1.0});
  EXPECT_EQ(r.stop_reason, StopReason::max_iterations);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 3u);
  EXPECT_EQ(r.message, "reached max_iterations = 3");
}

TEST(StopReasons, ScgStallsWhenEveryTrialPointIsNonFinite) {
  // Finite only at the start: λ must grow to lambda_max; w must never leave x0.
  const Tensor<double> x0 = {0.5, -0.5};
  auto f = [x0](const Var<double>& x) {
    const bool at_start = x.value()(0) == x0(0) && x.value()(1) == x0(1);
    return curv::ad::sum(x * x) * (at_start ? 1.0 : std::numeric_limits<double>::quiet_NaN());
  };
  auto obj = make_objective<double>(f, 2);
  const auto r = SCG<double>().minimize(obj, x0);
  EXPECT_EQ(r.stop_reason, StopReason::stalled) << r.message;
  EXPECT_EQ(r.x(0), 0.5);
  EXPECT_EQ(r.x(1), -0.5);
  EXPECT_EQ(r.value, 0.5);
  // Every trial point was NaN until α·p rounded away to nothing; each failure grew λ.
  ASSERT_GE(r.trace.size(), 2u);
  EXPECT_FALSE(r.trace[0].success);
  EXPECT_GT(r.trace[1].lambda, r.trace[0].lambda);
}

TEST(StopReasons, LbfgsReportsAFailedLineSearch) {
  // A gradient pointing the wrong way: no step along −g decreases f.
  test::WrongGradient obj;
  const auto r = LBFGS<double>().minimize(obj, Tensor<double>{1.0, 1.0});
  EXPECT_EQ(r.stop_reason, StopReason::line_search_failed) << r.message;
  EXPECT_FALSE(r.converged);
  const auto c = NonlinearCG<double>().minimize(obj, Tensor<double>{1.0, 1.0});
  EXPECT_EQ(c.stop_reason, StopReason::line_search_failed) << c.message;
}

TEST(StopReasons, SgdStopsOnANonFiniteLossKeepingTheLastFiniteWeights) {
  auto f = [](const Var<double>& x) { return curv::ad::sum(curv::ad::log(x)); };  // NaN once x < 0
  auto obj = make_objective<double>(f, 1);
  SgdOptions opt;
  opt.learning_rate = 1.0;
  const auto r = SGD<double>(opt).minimize(obj, Tensor<double>{0.5});  // w ← 0.5 − 1/0.5 = −1.5
  EXPECT_EQ(r.stop_reason, StopReason::non_finite) << r.message;
  EXPECT_EQ(r.iterations, 1u);
  EXPECT_EQ(r.x(0), -1.5);
  const auto a = Adam<double>(AdamOptions{}).minimize(obj, Tensor<double>{-1.0});
  EXPECT_EQ(a.stop_reason, StopReason::non_finite);
  EXPECT_EQ(a.x(0), -1.0);
}

TEST(StopReasons, LbfgsAndCgStopOnTheirCriteria) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  LbfgsOptions lo;
  lo.max_iterations = 2;
  EXPECT_EQ(LBFGS<double>(lo).minimize(obj, Tensor<double>{-1.2, 1.0}).stop_reason, StopReason::max_iterations);
  lo.max_iterations = 1000;
  lo.gradient_tolerance = 0;
  lo.relative_loss_tolerance = 1e-2;
  EXPECT_EQ(LBFGS<double>(lo).minimize(obj, Tensor<double>{-1.2, 1.0}).stop_reason,
            StopReason::relative_loss_tolerance);
  NonlinearCgOptions co;
  co.max_iterations = 2;
  EXPECT_EQ(NonlinearCG<double>(co).minimize(obj, Tensor<double>{-1.2, 1.0}).stop_reason,
            StopReason::max_iterations);
}

// Counts the steps it sees and stops the run at the fifth.
struct StopAtFive : Callback<double> {
  std::size_t seen = 0;
  void on_step(CallbackContext<double>& c) override {
    ++seen;
    if (c.info().iteration >= 5) c.stop("five is enough");
  }
};

// Counts the steps it sees and never stops.
struct Count : Callback<double> {
  std::size_t seen = 0;
  void on_step(CallbackContext<double>&) override { ++seen; }
};

TEST(Callbacks, StopEveryOptimizerAndSeeEveryIteration) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  const Tensor<double> x0 = {-1.2, 1.0};
  auto check = [](const auto& r, const StopAtFive& stop, const Count& other, const char* who) {
    EXPECT_EQ(r.stop_reason, StopReason::callback) << who << ": " << r.message;
    EXPECT_EQ(r.message, "five is enough") << who;
    EXPECT_EQ(r.iterations, 5u) << who;
    EXPECT_EQ(stop.seen, 5u) << who;
    EXPECT_EQ(other.seen, 5u) << who << " (every callback is called)";
    EXPECT_EQ(r.trace.size(), 5u) << who;
  };
  {
    StopAtFive stop;
    Count other;
    check(SCG<double>().minimize(obj, x0, {&stop, &other}), stop, other, "SCG");
  }
  {
    StopAtFive stop;
    Count other;
    check(LBFGS<double>().minimize(obj, x0, {&stop, &other}), stop, other, "LBFGS");
  }
  {
    StopAtFive stop;
    Count other;
    check(NonlinearCG<double>().minimize(obj, x0, {&stop, &other}), stop, other, "NonlinearCG");
  }
  {
    StopAtFive stop;
    Count other;
    check(SGD<double>().minimize(obj, x0, {&stop, &other}), stop, other, "SGD");
  }
  {
    StopAtFive stop;
    Count other;
    check(Adam<double>().minimize(obj, x0, {&stop, &other}), stop, other, "Adam");
  }
}

TEST(Callbacks, ASavingCallbackSeesTheTraceNumbers) {
  auto obj = make_objective<double>(test::booth, 2);
  std::vector<double> losses;
  ScgOptions o;
  o.record_trace = false;
  OnStep<double> record([&](CallbackContext<double>& c) { losses.push_back(c.info().loss); });
  const auto r = SCG<double>(o).minimize(obj, Tensor<double>{0.0, 0.0}, {&record});
  EXPECT_TRUE(r.trace.empty());
  ASSERT_EQ(losses.size(), r.iterations);
  EXPECT_EQ(losses.back(), r.value);
}

TEST(Objectives, ATemporaryObjectiveIsAccepted) {
  const Tensor<double> x0 = {0.0, 0.0};
  EXPECT_TRUE(SCG<double>().minimize(make_objective<double>(test::booth, 2), x0).converged);
  EXPECT_TRUE(LBFGS<double>().minimize(make_objective<double>(test::booth, 2), x0).converged);
  EXPECT_TRUE(NonlinearCG<double>().minimize(make_objective<double>(test::booth, 2), x0).converged);
  EXPECT_EQ(SGD<double>().minimize(make_objective<double>(test::booth, 2), x0).iterations, 1000u);
  EXPECT_EQ(Adam<double>().minimize(make_objective<double>(test::booth, 2), x0).iterations, 1000u);
}

}  // namespace
