// Every optimizer's State saves and loads itself through optim's state
// archive: a round trip through memory is bit-exact and the loaded state
// continues exactly as the original; a state with a bad or missing field is
// refused naming the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
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
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Two archives hold the same records, bit for bit.
void expect_same(const MemoryState& a, const MemoryState& b, const std::string& who) {
  EXPECT_EQ(a.counters, b.counters) << who;
  ASSERT_EQ(a.scalars.size(), b.scalars.size()) << who;
  for (const auto& [name, v] : a.scalars) EXPECT_TRUE(same_bits(v, b.read_scalar(name))) << who << ": " << name;
  ASSERT_EQ(a.double_tensors.size(), b.double_tensors.size()) << who;
  for (const auto& [name, t] : a.double_tensors)
    EXPECT_TRUE(same_bits(t, b.double_tensors.at(name))) << who << ": " << name;
}

// The message of what `f` throws (empty if nothing).
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Steps `steps` times, round-trips the state, and checks that the loaded
// state saves to the same records and steps on to the same weights.
template <class Opt, class State, class Start, class Step>
void expect_round_trip(const Opt& opt, Start start, Step step, const char* who) {
  const test::Problem p = test::quadratic(20, 7);
  auto obj = make_objective<double>(p.f, p.x0.size());
  State st = start(obj, p.x0);
  for (int i = 0; i < 3; ++i) step(obj, st);
  MemoryState saved;
  opt.save_state(st, saved);
  State loaded = opt.load_state(saved, p.x0.size(), {3, "three steps"});
  MemoryState again;
  opt.save_state(loaded, again);
  expect_same(saved, again, who);
  for (int i = 0; i < 2; ++i) {
    step(obj, st);
    step(obj, loaded);
  }
  EXPECT_TRUE(same_bits(st.w, loaded.w)) << who << " continues differently after a round trip";
}

TEST(StateIO, EveryOptimizersStateRoundTripsBitForBitAndContinuesTheSame) {
  const SCG<double> scg;
  expect_round_trip<SCG<double>, ScgState<double>>(
      scg, [&](auto& o, const Tensor<double>& x) { return scg.start(o, x); },
      [&](auto& o, ScgState<double>& s) { scg.step(o, s); }, "SCG");
  SgdOptions so;
  so.momentum = 0.9;
  const SGD<double> sgd(so);
  expect_round_trip<SGD<double>, SgdState<double>>(
      sgd, [&](auto&, const Tensor<double>& x) { return sgd.start(x); },
      [&](auto& o, SgdState<double>& s) { sgd.step(o, s); }, "SGD");
  AdamOptions ao;
  ao.amsgrad = true;
  const Adam<double> adam(ao);
  expect_round_trip<Adam<double>, AdamState<double>>(
      adam, [&](auto&, const Tensor<double>& x) { return adam.start(x); },
      [&](auto& o, AdamState<double>& s) { adam.step(o, s); }, "Adam");
  const LBFGS<double> lbfgs;
  expect_round_trip<LBFGS<double>, LbfgsState<double>>(
      lbfgs, [&](auto& o, const Tensor<double>& x) { return lbfgs.start(o, x); },
      [&](auto& o, LbfgsState<double>& s) { lbfgs.step(o, s); }, "LBFGS");
  const NonlinearCG<double> cg;
  expect_round_trip<NonlinearCG<double>, NonlinearCgState<double>>(
      cg, [&](auto& o, const Tensor<double>& x) { return cg.start(o, x); },
      [&](auto& o, NonlinearCgState<double>& s) { cg.step(o, s); }, "NonlinearCG");
}

TEST(StateIO, ABufferNotCreatedYetIsNotWrittenAndLoadsAsAbsent) {
  const SGD<double> sgd;  // no momentum: no buffer
  MemoryState m;
  sgd.save_state(sgd.start(Tensor<double>{1.0, 2.0}), m);
  EXPECT_FALSE(m.has_tensor("momentum_buffer"));
  EXPECT_EQ(sgd.load_state(m, 2).momentum_buffer.dimension(), 0u);
}

// A saved SCG state of two parameters after one step.
MemoryState saved_scg(const SCG<double>& scg) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  ScgState<double> st = scg.start(obj, Tensor<double>{-1.2, 1.0});
  scg.step(obj, st);
  MemoryState m;
  scg.save_state(st, m);
  return m;
}

TEST(StateIO, ABadFieldIsRefusedNamingIt) {
  const SCG<double> scg;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  {
    MemoryState m = saved_scg(scg);
    m.double_tensors["w"](1) = nan;
    EXPECT_NE(refusal([&] { scg.load_state(m, 2); }).find("state.w[1] = nan"), std::string::npos);
  }
  for (double lambda : {0.0, -1.0, nan}) {
    MemoryState m = saved_scg(scg);
    m.scalars["lambda"] = lambda;
    EXPECT_NE(refusal([&] { scg.load_state(m, 2); }).find("state.lambda = "), std::string::npos) << lambda;
  }
  {
    MemoryState m = saved_scg(scg);
    m.scalars.erase("lambda");
    EXPECT_NE(refusal([&] { scg.load_state(m, 2); }).find("'lambda'"), std::string::npos);
  }
  {
    MemoryState m = saved_scg(scg);
    EXPECT_NE(refusal([&] { scg.load_state(m, 2, {0, "no steps"}); })
                  .find("state.iteration = 1, expected at most 0 (no steps)"),
              std::string::npos);
  }
  {
    MemoryState m = saved_scg(scg);
    EXPECT_NE(refusal([&] { scg.load_state(m, 3); }).find("'w' has 2 elements, expected 3"), std::string::npos);
  }
  {
    const Adam<double> adam;
    auto obj = make_objective<double>(test::booth, 2);
    AdamState<double> st = adam.start(Tensor<double>{0.0, 0.0});
    adam.step(obj, st);
    MemoryState m;
    adam.save_state(st, m);
    m.double_tensors["exp_avg_sq"](0) = -1;
    EXPECT_NE(refusal([&] { adam.load_state(m, 2); }).find("state.exp_avg_sq[0] = -1"), std::string::npos);
  }
}

TEST(StateIO, AStateOfANewerLayoutIsRefusedAndOneWithoutAVersionIsVersionOne) {
  const SCG<double> scg;
  MemoryState m = saved_scg(scg);
  EXPECT_EQ(m.read_counter("state_version"), 1u);
  m.counters["state_version"] = 2;
  EXPECT_NE(refusal([&] { scg.load_state(m, 2); }).find("state_version = 2"), std::string::npos);
  m.counters.erase("state_version");
  EXPECT_EQ(refusal([&] { scg.load_state(m, 2); }), "");
}

TEST(StateIO, LbfgsRefusesAMemoryOfAnotherCapacity) {
  LbfgsOptions small;
  small.memory = 2;
  const LBFGS<double> two(small), ten;
  auto obj = make_objective<double>(test::rosenbrock, 2);
  LbfgsState<double> st = ten.start(obj, Tensor<double>{-1.2, 1.0});
  ten.step(obj, st);
  MemoryState m;
  ten.save_state(st, m);
  EXPECT_NE(refusal([&] { two.load_state(m, 2); }).find("memory_capacity"), std::string::npos);
}

TEST(StateIO, LbfgsRefusesMorePairsThanItsCapacityNamingTheCount) {
  const LBFGS<double> lbfgs;
  auto obj = make_objective<double>(test::rosenbrock, 2);
  LbfgsState<double> st = lbfgs.start(obj, Tensor<double>{-1.2, 1.0});
  lbfgs.step(obj, st);
  MemoryState m;
  lbfgs.save_state(st, m);
  EXPECT_EQ(m.read_counter("memory_pairs"), 1u);
  m.counters["memory_pairs"] = 11;
  EXPECT_NE(refusal([&] { lbfgs.load_state(m, 2); })
                .find("state.memory_pairs = 11, expected at most 10 (options.memory)"),
            std::string::npos);
}

// Every record a State writes is one its load needs: without it the load is
// refused naming it (buffers not created yet aside, which load as absent).
template <class Opt, class State>
void expect_every_record_needed(const Opt& opt, const State& st, const char* who,
                                const std::vector<std::string>& buffers = {}) {
  MemoryState full;
  opt.save_state(st, full);
  std::vector<std::string> names;
  for (const auto& [name, v] : full.scalars) names.push_back(name);
  for (const auto& [name, v] : full.counters)
    if (name != "state_version") names.push_back(name);
  for (const auto& [name, t] : full.double_tensors)
    if (std::find(buffers.begin(), buffers.end(), name) == buffers.end()) names.push_back(name);
  ASSERT_GE(names.size(), 4u) << who;
  for (const std::string& name : names) {
    MemoryState m = full;
    m.scalars.erase(name);
    m.counters.erase(name);
    m.double_tensors.erase(name);
    EXPECT_NE(refusal([&] { opt.load_state(m, st.w.size()); }).find("'" + name + "'"), std::string::npos)
        << who << " loads without its record " << name;
  }
}

TEST(StateIO, EveryRecordAStateWritesIsNeededToLoadIt) {
  auto obj = make_objective<double>(test::rosenbrock, 2);
  const Tensor<double> x0{-1.2, 1.0};
  const SCG<double> scg;
  ScgState<double> s = scg.start(obj, x0);
  scg.step(obj, s);
  expect_every_record_needed(scg, s, "SCG");
  const LBFGS<double> lbfgs;
  LbfgsState<double> l = lbfgs.start(obj, x0);
  lbfgs.step(obj, l);
  lbfgs.step(obj, l);
  expect_every_record_needed(lbfgs, l, "LBFGS");
  const NonlinearCG<double> cg;
  NonlinearCgState<double> c = cg.start(obj, x0);
  cg.step(obj, c);
  expect_every_record_needed(cg, c, "NonlinearCG");
  const SGD<double> sgd;
  SgdState<double> g = sgd.start(x0);
  sgd.step(obj, g);
  expect_every_record_needed(sgd, g, "SGD");
  const Adam<double> adam;
  AdamState<double> a = adam.start(x0);
  EXPECT_TRUE(a.exp_avg.dimension() > 0) << "Adam's start creates its moments: the buffers are written";
  expect_every_record_needed(adam, a, "Adam", {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
}

}  // namespace
