// Checkpoints written by earlier builds still load, and this build writes the
// same bytes: every optimizer's State, set by hand to known numbers, saved to
// curv-train's checkpoint file and compared byte for byte with a golden file
// written before the State field lists were merged into one visitor per State
// (tests/examples/golden/, made with CURV_WRITE_GOLDEN=<dir> by the build of
// that commit). Reading each golden file back gives the hand-set State.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <curv/optim.hpp>

#include "train/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;
using curv::Tensor;
using curv::examples::Checkpoint;
using namespace curv::optim;

constexpr std::size_t kDim = 3;

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Saves `st` with `opt` into a checkpoint file and checks it against the
// golden file `name`; then loads the golden file and checks that it saves to
// the same records again (a loaded State equals the hand-set one field for field).
template <class Opt, class State>
void expect_golden(const Opt& opt, const State& st, const std::string& name) {
  SCOPED_TRACE(name);
  Checkpoint ck;
  opt.save_state(st, ck);
  const fs::path golden = fs::path(CURV_GOLDEN_DIR) / (name + ".curv");
  if (const char* dir = std::getenv("CURV_WRITE_GOLDEN")) {
    ck.write(fs::path(dir) / (name + ".curv"));
    GTEST_SKIP() << "wrote " << name << ".curv to " << dir;
  }
  const fs::path written = fs::temp_directory_path() / ("curv-golden-" + name + "-" + std::to_string(::getpid()));
  ck.write(written);
  const std::string now = bytes_of(written), before = bytes_of(golden);
  fs::remove(written);
  ASSERT_FALSE(before.empty()) << "no golden file " << golden;
  EXPECT_EQ(now, before) << "the checkpoint bytes of this build differ from " << golden;

  const State loaded = opt.load_state(Checkpoint::read(golden), kDim, {100, "the test's bound"});
  Checkpoint again;
  opt.save_state(loaded, again);
  const fs::path rewritten = written.string() + "-again";
  again.write(rewritten);
  EXPECT_EQ(bytes_of(rewritten), before) << "the golden state does not load to the state it holds";
  fs::remove(rewritten);
}

template <class T>
Tensor<T> vec(double a, double b, double c) {
  return Tensor<T>{static_cast<T>(a), static_cast<T>(b), static_cast<T>(c)};
}

TEST(StateGolden, ScgStatesOfEarlierBuildsLoadAndSaveToTheSameBytes) {
  ScgState<double> st;
  st.w = vec<double>(0.5, -1.25, 3.0);
  st.r = vec<double>(-0.125, 2.5, 1e-300);
  st.p = vec<double>(0.75, -0.0, 6.25);
  st.loss = 1.0 / 3.0;
  st.lambda = 1e-4;
  st.lambda_bar = 2.5e-5;
  st.delta = -0.375;
  st.success = false;
  st.iteration = 7;
  st.restart_counter = 2;
  st.passes = 15.5;
  st.seconds = 0.03125;
  expect_golden(SCG<double>(), st, "scg_double");

  ScgState<float> f;
  f.w = vec<float>(0.5, -1.25, 3.0);
  f.r = vec<float>(0.25, 0.5, -0.75);
  f.p = vec<float>(1, 2, 3);
  f.loss = 0.1;
  f.lambda = 1e-6;
  f.iteration = 1;
  f.restart_counter = 1;
  f.passes = 2;
  expect_golden(SCG<float>(), f, "scg_float");
}

TEST(StateGolden, SgdAndAdamStatesOfEarlierBuildsLoadAndSaveToTheSameBytes) {
  SgdOptions so;
  so.momentum = 0.9;
  SgdState<double> sgd;
  sgd.w = vec<double>(1, 2, 3);
  sgd.momentum_buffer = vec<double>(-0.5, 0.25, 0.125);
  sgd.step = 12;
  sgd.passes = 3;
  sgd.seconds = 0.5;
  expect_golden(SGD<double>(so), sgd, "sgd_double");

  SgdState<float> plain;  // no momentum buffer yet: not written
  plain.w = vec<float>(1, 2, 3);
  plain.step = 4;
  plain.passes = 1;
  expect_golden(SGD<float>(), plain, "sgd_float_no_buffer");

  AdamOptions ao;
  ao.amsgrad = true;
  AdamState<double> adam;
  adam.w = vec<double>(0.1, 0.2, 0.3);
  adam.exp_avg = vec<double>(-0.01, 0.02, 0.0);
  adam.exp_avg_sq = vec<double>(1e-4, 4e-4, 0.0);
  adam.max_exp_avg_sq = vec<double>(2e-4, 4e-4, 1e-8);
  adam.step = 9;
  adam.passes = 2.25;
  adam.seconds = 1.5;
  expect_golden(Adam<double>(ao), adam, "adam_double");
}

TEST(StateGolden, LbfgsAndCgStatesOfEarlierBuildsLoadAndSaveToTheSameBytes) {
  LbfgsState<double> lbfgs;
  lbfgs.w = vec<double>(1, -1, 0.5);
  lbfgs.g = vec<double>(0.25, -0.5, 0.125);
  lbfgs.loss = 2.75;
  lbfgs.iteration = 2;
  lbfgs.passes = 5;
  lbfgs.seconds = 0.25;
  for (int i = 0; i < 2; ++i) {
    LbfgsPair<double> pair;
    pair.s = vec<double>(0.1 * (i + 1), -0.2, 0.3);
    pair.y = vec<double>(0.5, 0.25 * (i + 1), -0.125);
    pair.rho = 4.0 + i;
    lbfgs.memory.push_back(pair);
  }
  expect_golden(LBFGS<double>(), lbfgs, "lbfgs_double");

  NonlinearCgState<double> cg;
  cg.w = vec<double>(3, 2, 1);
  cg.g = vec<double>(-1, 0.5, 0.25);
  cg.d = vec<double>(1, -0.5, -0.25);
  cg.loss = 0.625;
  cg.previous_slope = -1.3125;
  cg.previous_alpha = 0.5;
  cg.restarted = false;
  cg.iteration = 4;
  cg.passes = 9;
  cg.seconds = 0.75;
  expect_golden(NonlinearCG<double>(), cg, "cg_double");
}

}  // namespace
