// curv-train's engine on a tiny synthetic MNIST-format dataset: an interrupted
// and resumed run ends bit-identical to an uninterrupted one, and bad
// checkpoints and options are refused with messages that say why.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>
#include <variant>

#include <gtest/gtest.h>

#include <curv/datasets/idx.hpp>
#include <curv/datasets/l2_groups.hpp>
#include <curv/nn.hpp>
#include <curv/optim/hessian_free.hpp>
#include <curv/optim/scg.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"
#include "train/messages.hpp"
#include "train/model.hpp"
#include "train/optimizers.hpp"
#include "train/outputs.hpp"
#include "train/train.hpp"
#include "train_fixtures.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

namespace {

// The table's entries take their flags from the optimizers' types: the
// options curv-train passes on exist in the optimizer's Options, an epoch is
// a pass of minibatch steps exactly for the optimizers that start without
// the objective, and the line-search ones say so.
TEST(OptimizerTable, EachEntrysFlagsComeFromItsOptimizersType) {
  std::map<std::string, std::string> flags;
  for (const OptimizerEntry& e : optimizer_table()) {
    std::string f;
    if (e.full_dataset) f += "full ";
    if (e.line_search) f += "line-search ";
    if (e.takes_lr) f += "lr ";
    if (e.takes_momentum) f += "momentum ";
    if (e.takes_curvature) f += "curvature ";
    flags[e.name] = f;
    EXPECT_TRUE(e.make_float && e.make_double) << e.name;
    EXPECT_EQ(e.column_names().size(), e.log_columns.size()) << e.name;
  }
  const std::map<std::string, std::string> expected = {{"scg", "full curvature "},
                                                       {"sgd", "lr momentum "},
                                                       {"adam", "lr "},
                                                       {"lbfgs", "full line-search "},
                                                       {"cg", "full line-search "},
                                                       {"hf", "full curvature "},
                                                       {"trust-ncg", "full "}};
  for (const OptimizerEntry& e : optimizer_table())
    EXPECT_EQ(e.subsampled_curvature, std::string(e.name) == "hf" || std::string(e.name) == "trust-ncg") << e.name;
  EXPECT_EQ(flags, expected);
  TrainConfig c;
  c.lr = 0.5;
  EXPECT_EQ(find_optimizer("sgd").describe(c), " lr 0.5");
  EXPECT_EQ(find_optimizer("scg").describe(c), " curvature exact");
  EXPECT_EQ(find_optimizer("cg").describe(c), " (strong-Wolfe line search)");
}

// 60 training and 20 test "images" of 28×28 bytes whose label is visible in
// them (a bright block at a label-dependent place), so that training learns.
fs::path tiny_dataset() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("curv_train_test_data_" + std::to_string(::getpid()));
    test::write_block_digits(d, 60, 20);
    return d;
  }();
  return dir;
}

fs::path scratch(const std::string& name) { return curv::examples::test::scratch_dir("curv_train_test", name); }

TrainConfig tiny(const std::string& optimizer, const std::string& name) {
  TrainConfig c;
  c.dataset = tiny_dataset().string();
  c.train_size = 40;
  c.val_size = 12;
  c.model = "mlp";
  c.hidden = 8;
  c.optimizer = optimizer;
  c.batch_size = 16;
  c.epochs = 4;
  c.seed = 3;
  c.dtype = "float64";
  c.threads = 2;
  c.quiet = true;
  const fs::path dir = scratch(name);
  c.log = (dir / "log.csv").string();
  c.checkpoint = (dir / "ckpt").string();
  return c;
}

// The index of the log's column `name`; throws (failing the test) when it has none.
std::size_t column(const CsvContent& log, const std::string& name) {
  const auto it = std::find(log.header.begin(), log.header.end(), name);
  if (it == log.header.end()) throw std::invalid_argument("the log has no column " + name);
  return static_cast<std::size_t>(it - log.header.begin());
}

std::vector<std::vector<std::string>> rows_without_seconds(const std::string& log) {
  std::vector<std::vector<std::string>> rows = read_csv(log).rows;
  for (auto& r : rows) r[2] = "";
  return rows;
}

// Runs `c` straight through, then again interrupted by `interrupt` and
// resumed, and compares final parameters bit for bit and the logs row by row.
// The message of the CheckpointError that f throws ("accepted: …" if none).
std::string checkpoint_refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "accepted: no CheckpointError was thrown";
}

void expect_resume_is_bit_identical(TrainConfig c, const std::function<void(TrainConfig&)>& interrupt) {
  clear_stop_request();
  const TrainResult straight = run_training(c);
  ASSERT_FALSE(straight.interrupted);
  const auto straight_rows = rows_without_seconds(c.log);

  TrainConfig first = c;
  first.log = (fs::path(c.log).parent_path() / "log2.csv").string();
  first.checkpoint = c.checkpoint + "2";
  interrupt(first);
  const TrainResult part = run_training(first);
  clear_stop_request();
  EXPECT_LT(part.epochs_done, c.epochs);

  TrainConfig rest = c;
  rest.log = first.log;
  rest.checkpoint = first.checkpoint;
  rest.resume = true;
  const TrainResult resumed = run_training(rest);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.epochs_done, c.epochs);
  ASSERT_EQ(resumed.parameters.size(), straight.parameters.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < straight.parameters.size(); ++i)
    if (std::memcmp(&straight.parameters[i], &resumed.parameters[i], sizeof(double)) != 0) ++differing;
  EXPECT_EQ(differing, 0u) << "parameters differing bitwise after resume";
  EXPECT_EQ(resumed.test_accuracy, straight.test_accuracy);
  EXPECT_EQ(rows_without_seconds(rest.log), straight_rows);
}

TEST(TrainResume, ScgStoppedAfterEpochsThenResumedIsBitIdentical) {
  expect_resume_is_bit_identical(tiny("scg", "scg_epochs"), [](TrainConfig& c) { c.epochs = 2; });
}

TEST(TrainResume, ScgInterruptedBySignalThenResumedIsBitIdentical) {
  TrainConfig c = tiny("scg", "scg_signal");
  c.checkpoint_every = 3;  // the log has rows past the last periodic checkpoint: the resume must drop them
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 2; });
}

TEST(TrainResume, AdamInterruptedMidEpochThenResumedIsBitIdentical) {
  TrainConfig c = tiny("adam", "adam");
  c.epochs = 3;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 5; });  // 3 batches per epoch
}

TEST(TrainResume, SgdWithMomentumInterruptedMidEpochThenResumedIsBitIdentical) {
  TrainConfig c = tiny("sgd", "sgd");
  c.momentum = 0.9;
  c.epochs = 3;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 4; });
}

// A reduce-on-plateau schedule whose threshold (half the best loss) makes
// nearly every epoch a bad one, so the rate falls epoch after epoch, with 2
// minibatches per step: its memory (rate, best, counters) is in the
// checkpoint, so the resumed run equals the straight one; and the schedule
// did change the run.
TEST(TrainResume, SgdWithAPlateauScheduleAndAccumulationInterruptedThenResumedIsBitIdentical) {
  TrainConfig c = tiny("sgd", "sgd_plateau");
  c.momentum = 0.5;
  c.lr = 0.05;
  c.epochs = 5;
  c.accumulate = 2;  // 3 minibatches: steps of 2 and 1 minibatch, 2 an epoch
  c.lr_schedule = "plateau:0:0.5:0.5";
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 5; });  // mid epoch 3
  TrainConfig constant = tiny("sgd", "sgd_constant");
  constant.momentum = c.momentum;
  constant.lr = c.lr;
  constant.epochs = c.epochs;
  constant.accumulate = c.accumulate;
  TrainConfig scheduled = c;
  scheduled.checkpoint = constant.checkpoint + "_scheduled";
  scheduled.log = "";
  EXPECT_NE(run_training(constant).parameters, run_training(scheduled).parameters);
}

TEST(TrainResume, AdamWithWarmupAndCosineRestartsPerStepInterruptedThenResumedIsBitIdentical) {
  TrainConfig c = tiny("adam", "adam_cosine");
  c.epochs = 3;
  c.lr_schedule = "warmup:2,cosine:3:2@step";
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 4; });
}

TEST(TrainCheckpoint, ACheckpointOfAnotherScheduleIsRefusedNamingTheOption) {
  TrainConfig c = tiny("sgd", "other_schedule");
  c.epochs = 1;
  c.lr_schedule = "step:1:0.5";
  run_training(c);
  c.resume = true;
  c.epochs = 2;
  c.lr_schedule = "step:2:0.5";
  const std::string refused = checkpoint_refusal([&] { run_training(c); });
  EXPECT_NE(refused.find("lr_schedule = step:1:0.5, this run has lr_schedule = step:2:0.5 (--lr-schedule)"),
            std::string::npos)
      << refused;
}

// The message of the std::invalid_argument f throws, or "no exception".
std::string what_is_thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

// --weight-decay with scg: the L2 penalty on the weights is part of the
// function, so the trained weights are shorter than without it, the run
// resumes bit-identically, and a checkpoint of another penalty is refused.
TEST(TrainResume, ScgWithWeightDecayShrinksTheWeightsAndResumesBitIdentically) {
  TrainConfig c = tiny("scg", "scg_l2");
  c.weight_decay = 0.5;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.epochs = 2; });
  TrainConfig plain = tiny("scg", "scg_no_l2");
  plain.log = "";
  TrainConfig decayed = c;
  decayed.checkpoint = plain.checkpoint + "_decayed";
  decayed.log = "";
  const std::vector<double> w0 = run_training(plain).parameters, w1 = run_training(decayed).parameters;
  // The MLP 784 → 8 → 10: the weights' squared norm over both layers' weight ranges.
  const auto model = make_model<double>(c, {1, 28, 28});
  const auto groups = curv::datasets::l2_groups(*model, 0.5);
  auto weights_sq = [&](const std::vector<double>& w) {
    double s = 0;
    for (const auto& g : groups)
      for (std::size_t i = g.offset; i < g.offset + g.size; ++i) s += w[i] * w[i];
    return s;
  };
  ASSERT_EQ(w0.size(), model->num_parameters());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_LT(weights_sq(w1), 0.9 * weights_sq(w0));

  decayed.resume = true;
  decayed.epochs = 5;
  decayed.weight_decay = 0.25;
  const std::string refused = checkpoint_refusal([&] { run_training(decayed); });
  EXPECT_NE(refused.find("weight_decay = 0.5, this run has weight_decay = 0.25 (--weight-decay)"),
            std::string::npos)
      << refused;
}

// --weight-decay's groups are the model's weights: every weight range, no bias.
TEST(L2Groups, FromAModelPickExactlyItsWeightRangesOrTheNamesAPatternMatches) {
  const auto model = curv::nn::models::mlp<double>({5, 4, 3});  // fc1.weight (4, 5), fc1.bias, fc2.weight (3, 4), fc2.bias
  std::vector<std::string> expected_names;
  std::vector<std::pair<std::size_t, std::size_t>> expected_ranges;
  for (const curv::nn::ParameterInfo& p : model.parameters())
    if (p.name.ends_with(".weight")) {
      expected_names.push_back(p.name);
      expected_ranges.emplace_back(p.offset, p.size());
    }
  ASSERT_EQ(expected_names.size(), 2u);
  auto names_and_ranges = [](const std::vector<curv::optim::L2Group>& groups) {
    std::vector<std::string> names;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const auto& g : groups) {
      names.push_back(g.name);
      ranges.emplace_back(g.offset, g.size);
      EXPECT_EQ(g.lambda, 0.01);
    }
    return std::make_pair(names, ranges);
  };
  const auto by_role = names_and_ranges(curv::datasets::l2_groups(model, 0.01));
  EXPECT_EQ(by_role.first, expected_names);
  EXPECT_EQ(by_role.second, expected_ranges);
  EXPECT_EQ(by_role.second[0], (std::pair<std::size_t, std::size_t>{0, 20}));
  EXPECT_EQ(by_role.second[1], (std::pair<std::size_t, std::size_t>{24, 12}));
  EXPECT_EQ(names_and_ranges(curv::datasets::l2_groups(model, 0.01, "fc*.weight")), by_role);
  EXPECT_EQ(names_and_ranges(curv::datasets::l2_groups(model, 0.01, "fc2.*")).first,
            (std::vector<std::string>{"fc2.weight", "fc2.bias"}));
  const auto biases = curv::datasets::l2_groups(model, 0.01, curv::nn::ParameterRole::bias);
  ASSERT_EQ(biases.size(), 2u);
  EXPECT_EQ(biases[0].offset, 20u);

  EXPECT_EQ(what_is_thrown([&] { curv::datasets::l2_groups(model, 0.1, "conv*.weight"); }),
            "curv::datasets::l2_groups: pattern 'conv*.weight' matches no parameter of Sequential(fc1, act1, fc2) "
            "(it has: fc1.weight, fc1.bias, fc2.weight, fc2.bias), expected at least one parameter");
  EXPECT_EQ(what_is_thrown([&] { curv::datasets::l2_groups(model, -1); }),
            "curv::datasets::l2_groups: lambda = -1, expected a finite lambda >= 0");
}

TEST(TrainOptions, WeightDecayAndClipGradNormAreRefusedOutsideTheirRange) {
  TrainConfig c = tiny("scg", "bad_l2");
  c.weight_decay = -0.5;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "--weight-decay -0.5: expected a number >= 0");
  c.weight_decay = 0;
  c.clip_grad_norm = 1.0;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "--clip-grad-norm 1: applies to --optimizer sgd or adam only");
  c.optimizer = "sgd";
  c.clip_grad_norm = 0.0;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "--clip-grad-norm 0: expected a positive number");
  c.clip_grad_norm = 0.5;
  c.weight_decay = 0.5;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "no exception");
}

TEST(TrainResume, SgdWithWeightDecayAndClippingInterruptedMidEpochThenResumedIsBitIdentical) {
  TrainConfig c = tiny("sgd", "sgd_l2_clip");
  c.epochs = 3;
  c.lr = 0.1;
  c.weight_decay = 0.1;
  c.clip_grad_norm = 0.05;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 4; });
}

// --dropout: a new mask per epoch drawn from --seed and each example's row,
// so an SGD run interrupted mid-epoch resumes bit for bit, and the masks
// did change the run; a resume with another --dropout is refused by name,
// and a probability outside [0, 1) at once.
TEST(TrainResume, SgdWithDropoutInterruptedMidEpochThenResumedIsBitIdentical) {
  TrainConfig c = tiny("sgd", "sgd_dropout");
  c.epochs = 3;
  c.lr = 0.1;
  c.dropout = 0.25;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 4; });

  TrainConfig plain = tiny("sgd", "sgd_no_dropout");
  plain.epochs = 3;
  plain.lr = 0.1;
  TrainConfig again = c;
  again.overwrite = true;
  const TrainResult with = run_training(again), without = run_training(plain);
  EXPECT_NE(with.parameters, without.parameters);

  TrainConfig other = c;
  other.dropout = 0.5;
  other.resume = true;
  other.epochs = 4;
  const std::string refused = checkpoint_refusal([&] { run_training(other); });
  EXPECT_NE(refused.find("--dropout"), std::string::npos) << refused;
  TrainConfig bad = tiny("sgd", "sgd_bad_dropout");
  bad.dropout = 1;
  EXPECT_NE(what_is_thrown([&] { run_training(bad); }).find("--dropout 1: expected a probability in [0, 1)"),
            std::string::npos);
}

// The grammar of --lr-schedule: each refusal names the part that is wrong.
TEST(TrainOptions, LrScheduleSpecsParseToTheirRulesAndBadOnesAreRefusedNamingThePart) {
  namespace sch = curv::optim::schedule;
  const auto s = parse_lr_schedule("warmup:3:0.5,multistep:4+9:0.2", 10, 7);
  EXPECT_EQ(s.warmup().steps, 3u);
  EXPECT_EQ(s.warmup().start_factor, 0.5);
  EXPECT_EQ(s.unit(), curv::optim::ScheduleUnit::epoch);
  ASSERT_TRUE(std::holds_alternative<sch::MultiStep>(s.rule()));
  EXPECT_EQ(std::get<sch::MultiStep>(s.rule()).milestones, (std::vector<std::size_t>{4, 9}));
  EXPECT_EQ(std::get<sch::MultiStep>(s.rule()).gamma, 0.2);
  const auto one = parse_lr_schedule("onecycle:0.5", 10, 7);
  EXPECT_EQ(one.unit(), curv::optim::ScheduleUnit::step);
  EXPECT_EQ(std::get<sch::OneCycle>(one.rule()).total_steps, 70u);
  EXPECT_EQ(std::get<sch::OneCycle>(parse_lr_schedule("onecycle:0.5@epoch", 10, 7).rule()).total_steps, 10u);
  EXPECT_EQ(std::get<sch::OneCycle>(parse_lr_schedule("warmup:20,onecycle:0.5", 10, 7).rule()).total_steps, 50u);
  const auto plateau = std::get<sch::ReduceOnPlateau>(parse_lr_schedule("plateau:4:0.3:0.01:2:1e-5", 10, 7).rule());
  EXPECT_EQ(plateau.patience, 4u);
  EXPECT_EQ(plateau.factor, 0.3);
  EXPECT_EQ(plateau.threshold, 0.01);
  EXPECT_EQ(plateau.cooldown, 2u);
  EXPECT_EQ(plateau.min_lr, 1e-5);
  EXPECT_EQ(std::get<sch::CosineRestarts>(parse_lr_schedule("cosine:5@step", 10, 7).rule()).t0, 5u);
  auto refusal = [](const std::string& spec) {
    try {
      parse_lr_schedule(spec, 10, 7);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refusal("step:x"), "--lr-schedule step:x: 'x' (step size): expected a whole number");
  EXPECT_EQ(refusal("step:0"),
            "--lr-schedule step:0: curv::optim::schedule::Step: step_size = 0, expected at least 1");
  EXPECT_EQ(refusal("cosine"), "--lr-schedule cosine: 'cosine': expected cosine:T0[:T_MULT[:ETA_MIN]]");
  EXPECT_EQ(refusal("cosine:5@hour"), "--lr-schedule cosine:5@hour: '@hour': expected @epoch or @step");
  EXPECT_EQ(refusal("linear:3"),
            "--lr-schedule linear:3: 'linear': expected constant, step, multistep, exp, cosine, onecycle or plateau");
  EXPECT_EQ(refusal("cosine:5,warmup:2"),
            "--lr-schedule cosine:5,warmup:2: 'cosine:5': expected warmup:N[:START_FACTOR] before the comma");
  EXPECT_EQ(refusal("plateau:2:-0.5"),
            "--lr-schedule plateau:2:-0.5: curv::optim::schedule::ReduceOnPlateau: factor = -0.5, expected a factor "
            "in (0, 1)");
  EXPECT_EQ(refusal("onecycle:0.1:1.5"),
            "--lr-schedule onecycle:0.1:1.5: curv::optim::schedule::OneCycle: pct_start = 1.5, expected a fraction "
            "in (0, 1): the warm-up part must be shorter than the cycle");
  EXPECT_EQ(refusal("warmup:70,onecycle:0.1"),
            "--lr-schedule warmup:70,onecycle:0.1: warmup:70 before onecycle: the run has 70 steps, expected a "
            "warm-up shorter than that");
  TrainConfig c;
  c.optimizer = "sgd";
  c.accumulate = 0;
  try {
    validate(c);
    ADD_FAILURE() << "--accumulate 0 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "--accumulate 0: expected at least 1 minibatch per step");
  }
}

TEST(TrainCheckpoint, CorruptCheckpointIsRefusedAndLeftAlone) {
  TrainConfig c = tiny("scg", "corrupt");
  c.epochs = 1;
  run_training(c);
  const fs::path file = fs::path(c.checkpoint) / "checkpoint.curv";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bytes[bytes.size() / 2] ^= 0x40;
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  c.resume = true;
  c.epochs = 2;
  const std::string refused = checkpoint_refusal([&] { run_training(c); });
  EXPECT_NE(refused.find("checksum"), std::string::npos) << refused;
  EXPECT_NE(refused.find(file.string()), std::string::npos) << refused;
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), bytes);
}

TEST(TrainCheckpoint, TruncatedCheckpointIsRefused) {
  TrainConfig c = tiny("scg", "truncated");
  c.epochs = 1;
  run_training(c);
  const fs::path file = fs::path(c.checkpoint) / "checkpoint.curv";
  fs::resize_file(file, fs::file_size(file) - 9);
  EXPECT_THROW(Checkpoint::read(file), CheckpointError);
}

TEST(TrainCheckpoint, MismatchedSettingIsRefusedNamingTheOption) {
  TrainConfig c = tiny("scg", "mismatch");
  c.epochs = 1;
  run_training(c);
  c.resume = true;
  c.epochs = 2;
  c.batch_size = 8;
  const std::string refused = checkpoint_refusal([&] { run_training(c); });
  EXPECT_NE(refused.find("--batch-size"), std::string::npos) << refused;
}

TEST(TrainCheckpoint, FreshRunDoesNotOverwriteAnExistingCheckpoint) {
  TrainConfig c = tiny("scg", "existing");
  c.epochs = 1;
  run_training(c);
  EXPECT_THROW(run_training(c), CheckpointError);
  c.overwrite = true;
  EXPECT_NO_THROW(run_training(c));
}

TEST(TrainOptions, BadValuesAreRefusedNamingOptionAndValue) {
  auto message = [](TrainConfig c) {
    try {
      validate(c);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  TrainConfig c;
  c.optimizer = "newton";
  EXPECT_NE(message(c).find("--optimizer newton"), std::string::npos);
  c = {};
  c.batch_size = -2;
  EXPECT_NE(message(c).find("--batch-size -2"), std::string::npos);
  c = {};
  c.dtype = "float16";
  EXPECT_NE(message(c).find("--dtype float16"), std::string::npos);
  c = {};
  c.curvature = "approx";
  EXPECT_NE(message(c).find("--curvature approx"), std::string::npos);
  c = {};
  c.lr = 0.1;  // scg sets its own step
  EXPECT_NE(message(c).find("--lr"), std::string::npos);
}

TEST(TrainLog, ScgLogHasTheDocumentedColumnsAndARowPerEpoch) {
  TrainConfig c = tiny("scg", "columns");
  c.epochs = 2;
  const TrainResult r = run_training(c);
  const CsvContent log = read_csv(c.log);
  const std::vector<std::string> first = {"epoch", "passes", "seconds", "train_loss", "val_loss", "val_accuracy",
                                          "success", "lambda"};
  ASSERT_GE(log.header.size(), first.size());
  EXPECT_TRUE(std::equal(first.begin(), first.end(), log.header.begin()));
  for (const char* col : {"delta", "mu", "alpha", "comparison", "p_norm", "p_mean", "grad_norm", "grad_mean"})
    EXPECT_NE(std::find(log.header.begin(), log.header.end(), col), log.header.end()) << col;
  EXPECT_EQ(log.rows.size(), 3u);  // epoch 0 (the start) and two iterations
  EXPECT_LT(std::stod(log.rows[2][3]), std::stod(log.rows[0][3]));  // the loss went down
  EXPECT_GE(r.test_accuracy, 0.0);
}

}  // namespace

namespace {

TEST(TrainLineSearch, LbfgsAndCgTrainOneLineSearchStepPerEpoch) {
  for (const char* o : {"lbfgs", "cg"}) {
    TrainConfig c = tiny(o, std::string("ls_") + o);
    c.epochs = 3;
    const TrainResult r = run_training(c);
    const CsvContent log = read_csv(c.log);
    ASSERT_EQ(log.rows.size(), 4u) << o;
    for (std::size_t e = 1; e < log.rows.size(); ++e) {
      EXPECT_LT(std::stod(log.rows[e][3]), std::stod(log.rows[e - 1][3])) << o << ": the loss rose at epoch " << e;
      EXPECT_GT(std::stod(log.rows[e][1]), std::stod(log.rows[e - 1][1])) << o << ": no pass at epoch " << e;
    }
    EXPECT_EQ(r.epochs_done, 3u);
  }
}

TEST(TrainResume, LbfgsInterruptedWithAFullMemoryThenResumedIsBitIdentical) {
  TrainConfig c = tiny("lbfgs", "lbfgs_signal");
  c.epochs = 14;  // the memory (10 pairs) is full and dropping its oldest pairs at the interruption
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 12; });
}

TEST(TrainResume, LbfgsStoppedAfterEpochsThenResumedIsBitIdentical) {
  TrainConfig c = tiny("lbfgs", "lbfgs_epochs");
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.epochs = 2; });
}

TEST(TrainResume, CgInterruptedBySignalThenResumedIsBitIdentical) {
  TrainConfig c = tiny("cg", "cg_signal");
  c.epochs = 6;
  c.checkpoint_every = 4;  // rows past the last periodic checkpoint are redone
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 5; });
}

TEST(TrainResume, CgStoppedAfterEpochsThenResumedIsBitIdentical) {
  TrainConfig c = tiny("cg", "cg_epochs");
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.epochs = 2; });
}

TEST(TrainResume, ScgLbfgsAndCgFloat32ArticleCnnResumeIsBitIdentical) {
  for (const char* o : {"scg", "lbfgs", "cg"}) {
    TrainConfig c = tiny(o, std::string("cnn_") + o);
    c.model = "article-cnn";
    c.dtype = "float32";
    c.train_size = 20;
    c.val_size = 4;
    c.test_size = 8;
    c.epochs = 3;
    expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 1; });
  }
}

TEST(TrainCheckpoint, ACheckpointOfAnotherOptimizerIsRefusedNamingTheOption) {
  TrainConfig c = tiny("lbfgs", "other_optimizer");
  c.epochs = 1;
  run_training(c);
  c.resume = true;
  c.epochs = 2;
  for (const char* o : {"cg", "scg"}) {
    c.optimizer = o;
    const std::string refused = checkpoint_refusal([&] { run_training(c); });
    EXPECT_NE(refused.find("optimizer = lbfgs"), std::string::npos) << refused;
    EXPECT_NE(refused.find("--optimizer"), std::string::npos) << refused;
  }
}

}  // namespace

// ---------------------------------------------------------------- reference-comparison options

namespace {

// A minimal reader of what write_npz writes (stored ZIP entries, NPY 1.0), so
// that the test checks the bytes a NumPy user would load.
struct NpyArray {
  std::string descr;
  std::vector<std::size_t> shape;
  std::string bytes;
};

std::map<std::string, NpyArray> read_npz_entries(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u16 = [&](std::size_t at) { return std::uint32_t(std::uint8_t(b[at])) | std::uint32_t(std::uint8_t(b[at + 1])) << 8; };
  auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  std::map<std::string, NpyArray> out;
  std::size_t at = 0;
  while (at + 30 <= b.size() && u32(at) == 0x04034b50) {
    EXPECT_EQ(u16(at + 8), 0u) << "entry at byte " << at << " is compressed";
    const std::size_t size = u32(at + 18), name_len = u16(at + 26), extra = u16(at + 28);
    const std::string name = b.substr(at + 30, name_len);
    const std::string npy = b.substr(at + 30 + name_len + extra, size);
    at += 30 + name_len + extra + size;
    EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY") << name;
    const std::size_t header_len = std::uint8_t(npy[8]) | std::size_t(std::uint8_t(npy[9])) << 8;
    EXPECT_EQ((10 + header_len) % 64, 0u) << name << ": data not 64-byte aligned";
    const std::string header = npy.substr(10, header_len);
    NpyArray a;
    const std::size_t d = header.find("'descr': '") + 10;
    a.descr = header.substr(d, header.find('\'', d) - d);
    EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
    std::size_t s = header.find("'shape': (") + 10;
    while (header[s] != ')') {
      std::size_t used = 0;
      a.shape.push_back(std::stoul(header.substr(s), &used));
      s += used;
      while (header[s] == ',' || header[s] == ' ') ++s;
    }
    a.bytes = npy.substr(10 + header_len);
    out[name.substr(0, name.size() - 4)] = std::move(a);
  }
  return out;
}

template <class V>
std::vector<V> values(const NpyArray& a) {
  std::vector<V> v(a.bytes.size() / sizeof(V));
  std::memcpy(v.data(), a.bytes.data(), v.size() * sizeof(V));
  return v;
}

std::vector<std::vector<std::string>> rows_of(const std::string& log) { return rows_without_seconds(log); }

TEST(TrainExport, ExportedSplitsHaveTheDocumentedNamesShapesDtypesAndAreStandardized) {
  for (const char* dtype : {"float64", "float32"}) {
    TrainConfig c = tiny("scg", std::string("export_") + dtype);
    c.dtype = dtype;
    c.epochs = 0;
    c.checkpoint.clear();
    c.export_data = (fs::path(c.log).parent_path() / "data.npz").string();
    const TrainResult r = run_training(c);
    EXPECT_EQ(r.epochs_done, 0u);
    EXPECT_GE(r.test_accuracy, 0.0) << "--epochs 0 still evaluates the test set";
    const auto npz = read_npz_entries(c.export_data);
    ASSERT_EQ(npz.size(), 6u);
    const std::string fdescr = std::string(dtype) == "float64" ? "<f8" : "<f4";
    const std::pair<const char*, std::size_t> parts[] = {{"train", 40}, {"val", 12}, {"test", 20}};
    for (const auto& [part, n] : parts) {
      const NpyArray& x = npz.at(std::string(part) + "_x");
      const NpyArray& y = npz.at(std::string(part) + "_y");
      EXPECT_EQ(x.descr, fdescr) << part;
      EXPECT_EQ(x.shape, (std::vector<std::size_t>{n, 1, 28, 28})) << part;
      EXPECT_EQ(y.descr, "<i8") << part;
      EXPECT_EQ(y.shape, (std::vector<std::size_t>{n})) << part;
      for (std::int64_t label : values<std::int64_t>(y)) {
        EXPECT_GE(label, 0) << part;
        EXPECT_LE(label, 9) << part;
      }
    }
    // The test file is taken whole and in order: its labels are i mod 10.
    const std::vector<std::int64_t> test_y = values<std::int64_t>(npz.at("test_y"));
    for (std::size_t i = 0; i < test_y.size(); ++i) EXPECT_EQ(test_y[i], static_cast<std::int64_t>(i % 10)) << i;

    // Standardized on the training split: per pixel mean 0, and std 1 where the pixel varies.
    std::vector<double> train_x;
    if (fdescr == "<f8") {
      train_x = values<double>(npz.at("train_x"));
    } else {
      for (float v : values<float>(npz.at("train_x"))) train_x.push_back(v);
    }
    const double tol = fdescr == "<f8" ? 1e-12 : 1e-5;
    std::size_t varying = 0;
    double worst_mean = 0, worst_std = 0;
    for (std::size_t p = 0; p < 784; ++p) {
      double sum = 0, sq = 0;
      for (std::size_t i = 0; i < 40; ++i) sum += train_x[i * 784 + p];
      const double mean = sum / 40;
      for (std::size_t i = 0; i < 40; ++i) sq += (train_x[i * 784 + p] - mean) * (train_x[i * 784 + p] - mean);
      const double sd = std::sqrt(sq / 40);
      worst_mean = std::max(worst_mean, std::abs(mean));
      if (sd > 0) {
        ++varying;
        worst_std = std::max(worst_std, std::abs(sd - 1));
      }
    }
    EXPECT_LT(worst_mean, tol) << dtype;
    EXPECT_LT(worst_std, 100 * tol) << dtype;
    EXPECT_GT(varying, 700u) << dtype;
  }
}

TEST(TrainInit, EpochsZeroSavesTheSeededInitAndInitFromItReproducesTheSeededRun) {
  TrainConfig c = tiny("scg", "init_roundtrip");
  c.checkpoint.clear();
  const fs::path dir = fs::path(c.log).parent_path();

  TrainConfig zero = c;
  zero.epochs = 0;
  zero.log = (dir / "zero.csv").string();
  zero.save_model = (dir / "init.npz").string();
  const TrainResult init = run_training(zero);
  ASSERT_TRUE(fs::exists(zero.save_model));

  c.epochs = 2;
  const TrainResult seeded = run_training(c);
  ASSERT_EQ(init.parameters.size(), seeded.parameters.size());

  TrainConfig from_file = c;
  from_file.log = (dir / "from_file.csv").string();
  from_file.init = zero.save_model;
  const TrainResult loaded = run_training(from_file);
  EXPECT_EQ(rows_of(from_file.log), rows_of(c.log)) << "--init with the seeded init changed the trajectory";
  EXPECT_EQ(rows_of(from_file.log)[0][3], rows_of(zero.log)[0][3]) << "epoch-0 loss";
  EXPECT_EQ(loaded.parameters, seeded.parameters);

  // --init really replaces the start: the trained parameters start a run whose
  // epoch 0 is the trained run's last epoch.
  TrainConfig trained = c;
  trained.log = (dir / "trained.csv").string();
  trained.save_model = (dir / "trained.npz").string();
  const TrainResult t = run_training(trained);
  TrainConfig restart = c;
  restart.epochs = 0;
  restart.log = (dir / "restart.csv").string();
  restart.init = trained.save_model;
  const TrainResult r = run_training(restart);
  EXPECT_EQ(r.parameters, t.parameters);
  EXPECT_EQ(rows_of(restart.log)[0][3], rows_of(trained.log).back()[3]);
  EXPECT_NE(rows_of(restart.log)[0][3], rows_of(zero.log)[0][3]);
}

TEST(TrainInit, InitOfAnotherModelIsRefusedNamingTheParameter) {
  TrainConfig c = tiny("scg", "init_mismatch");
  c.checkpoint.clear();
  c.epochs = 0;
  c.save_model = (fs::path(c.log).parent_path() / "h8.npz").string();
  run_training(c);
  c.save_model.clear();
  c.overwrite = true;  // the log of the run above
  c.hidden = 9;
  c.init = (fs::path(c.log).parent_path() / "h8.npz").string();
  try {
    run_training(c);
    FAIL() << "parameters of an 8-unit MLP were accepted by a 9-unit one";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("mlp.fc1.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("(9, 784)"), std::string::npos) << m;
  }
  c.init = "missing.npz";
  EXPECT_THROW(run_training(c), std::invalid_argument);
  c.init = "weights.txt";
  EXPECT_THROW(validate(c), std::invalid_argument);
}

}  // namespace

// ---------------------------------------------------------------- progress within a pass

namespace {

// What the progress bar drew into a temporary file.
std::string drawn(TrainConfig c, bool bar, TrainResult* result = nullptr) {
  std::FILE* f = std::tmpfile();
  c.progress = f;
  c.progress_bar = bar;
  c.overwrite = true;  // each call runs the same configuration
  const TrainResult r = run_training(c);
  if (result) *result = r;
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return text;
}

TEST(TrainProgress, FullDatasetOptimizersMoveTheBarOverTheMinibatchesOfEveryPass) {
  TrainConfig c = tiny("scg", "progress_scg");  // 40 examples in batches of 16: 3 minibatches per pass
  c.checkpoint.clear();
  c.epochs = 2;
  TrainResult with_bar, without_bar;
  const std::string text = drawn(c, true, &with_bar);
  for (const char* label : {"start · pass 1 (gradient) · run eta ?", "scg 1/2 · pass 1 (H·v) · run eta ?",
                            "scg 1/2 · pass 2 (gradient) · run eta ?", "scg 2/2 · pass 1 (H·v) · run eta "})
    EXPECT_NE(text.find(label), std::string::npos) << "no bar labelled '" << label << "' in:\n" << text;
  EXPECT_EQ(text.find("scg 2/2 · pass 1 (H·v) · run eta ?"), std::string::npos) << "no run ETA after an iteration";
  for (const char* count : {"] 0/3", "] 3/3"}) EXPECT_NE(text.find(count), std::string::npos) << count;

  // Not a terminal: nothing per minibatch, and the same numbers either way.
  EXPECT_EQ(drawn(c, false, &without_bar), "");
  EXPECT_EQ(with_bar.parameters, without_bar.parameters);

  c = tiny("lbfgs", "progress_lbfgs");
  c.checkpoint.clear();
  c.epochs = 2;
  const std::string ls = drawn(c, true);
  EXPECT_NE(ls.find("lbfgs 1/2 · pass 1 (gradient)"), std::string::npos) << ls;
  EXPECT_NE(ls.find("lbfgs 2/2 · pass 1 (gradient) · run eta "), std::string::npos) << ls;
}

// Hessian-free (on the Gauss–Newton matrix) and trust-region Newton–CG
// behind the loop: they learn the block digits, checkpoint, and resume bit
// for bit whether stopped after an epoch or by a signal.
TEST(TrainResume, HessianFreeAndTrustNcgLearnAndResumeBitIdentically) {
  for (const char* name : {"hf", "trust-ncg"}) {
    TrainConfig c = tiny(name, std::string("second_order_") + name);
    if (std::string(name) == "hf") c.curvature = "gauss-newton";
    clear_stop_request();
    TrainConfig plain = c;
    plain.checkpoint.clear();
    plain.log = (fs::path(c.log).parent_path() / "log_plain.csv").string();
    const TrainResult r = run_training(plain);
    EXPECT_GT(r.test_accuracy, 0.5) << name;  // chance is 0.1
    expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.epochs = 2; });
    TrainConfig s = tiny(name, std::string("second_order_signal_") + name);
    s.curvature = c.curvature;
    expect_resume_is_bit_identical(s, [](TrainConfig& f) { f.stop_after_steps = 3; });
  }
}

}  // namespace

namespace {

// --early-stopping P: the run ends P epochs after the best validation loss
// (none of the P after it improves on it), and the weights tested and
// returned are the best epoch's — exactly those of a run that stops there.
TEST(TrainEarlyStopping, StopsPatienceEpochsAfterTheBestValidationLossAndTestsItsWeights) {
  TrainConfig c = tiny("sgd", "early_stopping");
  c.lr = 2;  // large enough that the validation loss turns back up within the epochs
  c.epochs = 20;
  c.early_stopping = 2;
  const TrainResult r = run_training(c);
  const CsvContent log = read_csv(c.log);
  const std::size_t col = column(log, "val_loss");
  std::vector<double> val;
  for (const auto& row : log.rows) val.push_back(std::stod(row[col]));
  ASSERT_EQ(val.size(), r.epochs_done + 1) << "a row for epoch 0 and one per epoch";
  ASSERT_LT(r.epochs_done, c.epochs) << "this run is meant to stop early; the validation losses did not turn up";
  const std::size_t best = static_cast<std::size_t>(std::min_element(val.begin(), val.end()) - val.begin());
  EXPECT_EQ(r.epochs_done, best + *c.early_stopping) << "stopped patience epochs after the best";
  ASSERT_GT(best, 0u);

  TrainConfig until_best = tiny("sgd", "early_stopping_best");
  until_best.lr = c.lr;
  until_best.epochs = best;
  const TrainResult b = run_training(until_best);
  EXPECT_EQ(r.parameters, b.parameters) << "the weights returned are the best epoch's";
  EXPECT_EQ(r.test_loss, b.test_loss);
  EXPECT_EQ(r.test_accuracy, b.test_accuracy);
}

// --curvature-fraction with hf: each iteration's Gauss–Newton products run on
// a new half of the training set (with --weight-decay, whose penalty the
// sampled products carry whole), so an epoch costs fewer passes than on the
// whole set and the trajectory is another one; it still learns, and resumes
// bit for bit (the subsamples come from --seed and the iteration).
TEST(TrainResume, HessianFreeOnACurvatureSubsampleCostsLessAndResumesBitIdentically) {
  TrainConfig whole = tiny("hf", "curvature_fraction_whole");
  whole.curvature = "gauss-newton";
  whole.weight_decay = 1e-3;
  whole.checkpoint.clear();
  TrainConfig half = tiny("hf", "curvature_fraction_half");
  half.curvature = whole.curvature;
  half.weight_decay = whole.weight_decay;
  half.curvature_fraction = 0.5;
  clear_stop_request();
  const TrainResult w = run_training(whole);
  TrainConfig plain = half;
  plain.checkpoint.clear();
  plain.log = (fs::path(half.log).parent_path() / "log_plain.csv").string();
  const TrainResult h = run_training(plain);
  EXPECT_GT(h.test_accuracy, 0.5);  // chance is 0.1
  EXPECT_NE(w.parameters, h.parameters);
  const auto passes = [](const std::string& log) { return std::stod(read_csv(log).rows.back()[1]); };
  const auto cg_iterations = [](const std::string& log) {
    const CsvContent content = read_csv(log);
    const std::size_t col = column(content, "cg_iterations");
    double sum = 0;
    for (std::size_t r = 1; r < content.rows.size(); ++r) sum += std::stod(content.rows[r][col]);
    return sum;
  };
  // A product costs half a pass instead of one (the rest of an epoch is a
  // gradient and the backtracking's evaluations on the whole set).
  EXPECT_LT(passes(plain.log), passes(whole.log));
  EXPECT_LT(passes(plain.log) / cg_iterations(plain.log), passes(whole.log) / cg_iterations(whole.log));
  expect_resume_is_bit_identical(half, [](TrainConfig& f) { f.epochs = 2; });

  // The fraction is part of the checkpoint's settings.
  half.resume = true;
  half.epochs = 5;
  half.curvature_fraction = 0.25;
  const std::string refused = checkpoint_refusal([&] { run_training(half); });
  EXPECT_NE(refused.find("curvature_fraction = 0.5, this run has curvature_fraction = 0.25 "
                         "(--curvature-fraction)"),
            std::string::npos)
      << refused;
}

TEST(TrainOptions, CurvatureFractionIsAShareAndOnlyForHfAndTrustNcg) {
  TrainConfig c = tiny("trust-ncg", "curvature_fraction_bad");
  for (double f : {0.0, -0.5, 1.5, std::nan("")}) {
    c.curvature_fraction = f;
    EXPECT_EQ(what_is_thrown([&] { validate(c); }),
              "--curvature-fraction " + num(f) + ": expected a share of the training set in (0, 1]");
  }
  c.curvature_fraction = 0.25;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "no exception");
  EXPECT_EQ(find_optimizer("trust-ncg").describe(c), " curvature-fraction 0.25");
  c.optimizer = "scg";
  EXPECT_EQ(what_is_thrown([&] { validate(c); }),
            "--curvature-fraction 0.25: applies to --optimizer hf or trust-ncg only (their curvature products may run "
            "on a subsample); --optimizer scg uses the whole set's");
}

// --lambda-initial sets the damping of the first iteration of the optimizers
// that have one (scg, hf), within their λ range, and no other's.
TEST(TrainOptions, LambdaInitialIsADampingAndOnlyForScgAndHf) {
  TrainConfig c = tiny("hf", "lambda_initial_bad");
  for (double l : {0.0, -1.0, 1e20, std::nan("")}) {
    c.lambda_initial = l;
    EXPECT_EQ(what_is_thrown([&] { validate(c); }),
              "--lambda-initial " + num(l) + ": expected a damping in [" + num(1e-15) + ", " + num(1e20) + ")");
  }
  c.lambda_initial = 0.05;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "no exception");
  EXPECT_EQ(find_optimizer("hf").describe(c), " curvature exact lambda-initial " + num(0.05));
  c.optimizer = "scg";
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "no exception");
  EXPECT_EQ(find_optimizer("hf").default_lambda_initial, curv::optim::HessianFreeOptions{}.lambda_initial);
  EXPECT_EQ(find_optimizer("scg").default_lambda_initial, curv::optim::ScgOptions{}.lambda_initial);
  for (const char* other : {"sgd", "adam", "lbfgs", "cg", "trust-ncg"}) {
    c.optimizer = other;
    EXPECT_EQ(what_is_thrown([&] { validate(c); }),
              "--lambda-initial " + num(0.05) +
                  ": applies to --optimizer scg or hf only (the optimizers damped by a lambda); --optimizer " + other +
                  " has none");
  }
}

// The first iteration of hf damps with --lambda-initial (the logged λ of
// iteration 1), the run differs from the default's, and the value is part of
// the checkpoint's settings: a resume with another is refused by name, and a
// checkpoint written before the option existed resumes with the default only.
TEST(TrainResume, LambdaInitialIsTheFirstDampingAndPartOfTheSettings) {
  TrainConfig c = tiny("hf", "lambda_initial");
  c.epochs = 2;
  c.lambda_initial = 0.05;
  clear_stop_request();
  const TrainResult damped = run_training(c);
  const CsvContent log = read_csv(c.log);
  const std::size_t col = column(log, "lambda");
  ASSERT_GE(log.rows.size(), 2U);
  EXPECT_EQ(std::stod(log.rows[1][col]), 0.05);  // row 0 is epoch 0, before any iteration

  TrainConfig d = tiny("hf", "lambda_initial_default");
  d.epochs = 2;
  d.checkpoint.clear();
  const TrainResult plain = run_training(d);
  EXPECT_EQ(std::stod(read_csv(d.log).rows[1][col]), curv::optim::HessianFreeOptions{}.lambda_initial);
  EXPECT_NE(damped.parameters, plain.parameters);

  c.resume = true;
  c.epochs = 3;
  c.lambda_initial = 0.1;
  const std::string refused = checkpoint_refusal([&] { run_training(c); });
  EXPECT_NE(refused.find("lambda_initial = " + num(0.05) + ", this run has lambda_initial = " + num(0.1) +
                         " (--lambda-initial)"),
            std::string::npos)
      << refused;

  const std::map<std::string, std::string> older = {{"optimizer", "hf"}};  // no lambda_initial recorded
  EXPECT_EQ(checkpoint_refusal([&] { check_settings("older.curv", older, {{"optimizer", "hf"}, {"lambda_initial", "1"}}); }),
            "accepted: no CheckpointError was thrown");
  EXPECT_NE(checkpoint_refusal([&] {
              check_settings("older.curv", older, {{"optimizer", "hf"}, {"lambda_initial", "0.05"}});
            }).find("does not record 'lambda_initial'"),
            std::string::npos);
}

// --log-test adds the test set's loss and accuracy after every epoch; the
// last row's are the final test numbers, and every other column is that of
// a run without it (evaluating the test set changes nothing).
TEST(TrainLog, LogTestAddsTheTestCurveAndChangesNothingElse) {
  TrainConfig c = tiny("scg", "log_test");
  c.checkpoint.clear();
  const TrainResult plain = run_training(c);
  TrainConfig t = c;
  t.log_test = true;
  t.log = (fs::path(c.log).parent_path() / "log_test.csv").string();
  const TrainResult r = run_training(t);
  EXPECT_EQ(r.parameters, plain.parameters);
  EXPECT_EQ(r.test_accuracy, plain.test_accuracy);
  const CsvContent a = read_csv(c.log), b = read_csv(t.log);
  ASSERT_EQ(b.header.size(), a.header.size() + 2);
  EXPECT_EQ(b.header[6], "test_loss");
  EXPECT_EQ(b.header[7], "test_accuracy");
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    std::vector<std::string> without = b.rows[i];
    without.erase(without.begin() + 6, without.begin() + 8);
    without[2] = a.rows[i][2];  // seconds
    EXPECT_EQ(without, a.rows[i]) << "row " << i;
  }
  EXPECT_NEAR(std::stod(b.rows.back()[7]), r.test_accuracy, 1e-6);
  EXPECT_NEAR(std::stod(b.rows.back()[6]), r.test_loss, 1e-6 * std::abs(r.test_loss));
}

// --max-passes P ends the run after the first epoch that reaches P passes
// (SCG: 1 + 2 per iteration), also when resumed at or past it, and is
// refused unless positive and finite.
TEST(TrainMaxPasses, StopsAfterTheEpochThatReachesTheBudget) {
  TrainConfig c = tiny("scg", "max_passes");
  c.epochs = 10;
  c.max_passes = 6;
  const TrainResult r = run_training(c);
  EXPECT_EQ(r.epochs_done, 3u) << "passes 1, 3, 5 after epochs 0–2, then 7";
  EXPECT_EQ(r.stop_message, "reached --max-passes 6 (7 passes)");
  EXPECT_EQ(std::stod(read_csv(c.log).rows.back()[1]), 7.0);
  c.resume = true;
  const TrainResult again = run_training(c);
  EXPECT_EQ(again.epochs_done, 3u);
  EXPECT_EQ(again.parameters, r.parameters);
  for (double p : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    c.max_passes = p;
    EXPECT_EQ(what_is_thrown([&] { validate(c); }),
              "--max-passes " + num(p) + ": expected a positive number of passes over the training data");
  }
}

TEST(TrainOptions, EarlyStoppingNeedsAValidationSetAndAPatience) {
  TrainConfig c = tiny("scg", "early_stopping_bad");
  c.early_stopping = 0;
  EXPECT_EQ(what_is_thrown([&] { validate(c); }), "--early-stopping 0: expected a patience of at least 1 epoch");
  c.early_stopping = 3;
  c.val_size = 0;
  EXPECT_EQ(what_is_thrown([&] { run_training(c); }),
            "--early-stopping 3: needs a validation set (--val-size > 0)");
}

}  // namespace
