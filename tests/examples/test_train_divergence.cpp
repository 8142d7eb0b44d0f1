// curv-train when things go wrong: a diverging run stops with an error and
// leaves the last good checkpoint, model.npz, the log and --save-model byte
// for byte; a non-finite --init and edited checkpoints are refused; stale
// temporary files are swept; a stop request mid-pass keeps a checkpoint that
// resumes bit-identically; a write past `ulimit -f` is a reported error; a
// bad label is named by its file and record and writes nothing; an
// optimizer's non-finite element is named as the parameter it belongs to.
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <curv/datasets/idx.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"
#include "train/messages.hpp"
#include "train/model.hpp"
#include "train/train.hpp"
#include "train_fixtures.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;
using curv::examples::test::bytes_of;
using curv::Tensor;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 60 training and 20 test 28×28 images whose label is a bright block's place.
fs::path tiny_dataset() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("curv_divergence_data_" + std::to_string(::getpid()));
    test::write_block_digits(d, 60, 20);
    return d;
  }();
  return dir;
}

TrainConfig tiny(const std::string& optimizer, const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("curv_divergence_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  TrainConfig c;
  c.dataset = tiny_dataset().string();
  c.train_size = 40;  // 3 minibatches of 16
  c.val_size = 12;    // 1 evaluation batch
  c.model = "mlp";
  c.hidden = 8;
  c.optimizer = optimizer;
  c.batch_size = 16;
  c.epochs = 4;
  c.seed = 3;
  c.dtype = "float64";
  c.threads = 2;
  c.quiet = true;
  c.log = (dir / "log.csv").string();
  c.checkpoint = (dir / "ckpt").string();
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no exception";
}

bool all_finite(const Tensor<double>& t) {
  for (double v : t)
    if (!std::isfinite(v)) return false;
  return true;
}

TEST(TrainDivergence, ADivergingRunThrowsAndLeavesCheckpointModelLogAndSavedModelByteIdentical) {
  for (const char* optimizer : {"sgd", "adam"}) {
    TrainConfig c = tiny(optimizer, std::string("diverge_") + optimizer);
    c.lr = 1e308;  // the first update overflows
    c.save_model = (fs::path(c.log).parent_path() / "final.npz").string();
    c.epochs = 0;
    clear_stop_request();
    run_training(c);  // epoch 0: the checkpoint, model.npz, one log row and the saved model
    const fs::path ckpt = fs::path(c.checkpoint) / "checkpoint.curv", model = fs::path(c.checkpoint) / "model.npz";
    const std::string ckpt_bytes = bytes_of(ckpt), model_bytes = bytes_of(model), log_bytes = bytes_of(c.log),
                      saved_bytes = bytes_of(c.save_model);

    c.resume = true;
    c.epochs = 3;
    const std::string m = error_of([&] { run_training(c); });
    EXPECT_NE(m.find("training diverged in epoch 1 of 3"), std::string::npos) << optimizer << ": " << m;
    // SGD's first step is finite (and huge), its second loss is not; Adam's first step overflows.
    const std::string step = std::string(optimizer) == "sgd" ? "the loss is not finite (inf) at step 2 (epoch 0, minibatch 1)"
                                                             : "at step 1 (epoch 0, minibatch 0)";
    EXPECT_NE(m.find(step), std::string::npos) << m;
    EXPECT_EQ(bytes_of(ckpt), ckpt_bytes) << optimizer;
    EXPECT_EQ(bytes_of(model), model_bytes) << optimizer;
    EXPECT_EQ(bytes_of(c.log), log_bytes) << optimizer;
    EXPECT_EQ(bytes_of(c.save_model), saved_bytes) << optimizer;
  }
}

TEST(TrainDivergence, AFreshDivergingRunLogsOneRowForEpochZeroAndWritesNoNonFiniteWeights) {
  TrainConfig c = tiny("sgd", "diverge_fresh");
  c.lr = 1e308;
  c.save_model = (fs::path(c.log).parent_path() / "final.npz").string();
  clear_stop_request();
  EXPECT_THROW(run_training(c), TrainingDiverged);
  EXPECT_EQ(read_csv(c.log).rows.size(), 1u) << "only the start's row";
  const Checkpoint ck = Checkpoint::read(fs::path(c.checkpoint) / "checkpoint.curv");
  EXPECT_EQ(ck.counter("step"), 0u);
  EXPECT_TRUE(all_finite(ck.tensor<double>("w")));
  EXPECT_FALSE(fs::exists(c.save_model)) << "--save-model was written by a diverged run";
}

// --save-model's flat .npy of the seeded start with one element set to NaN.
fs::path nan_init(const TrainConfig& base) {
  TrainConfig c = base;
  c.epochs = 0;
  c.checkpoint.clear();
  c.log.clear();
  c.save_model = (fs::path(base.log).parent_path() / "init.npy").string();
  run_training(c);
  std::string bytes = bytes_of(c.save_model);
  const double nan = kNaN;
  std::memcpy(bytes.data() + bytes.size() - 3 * sizeof(double), &nan, sizeof nan);
  std::ofstream(c.save_model, std::ios::binary | std::ios::trunc) << bytes;
  return c.save_model;
}

TEST(TrainDivergence, ANonFiniteInitIsRefusedBeforeAnyFileIsCreated) {
  for (const char* optimizer : {"adam", "sgd", "scg"}) {
    TrainConfig c = tiny(optimizer, std::string("nan_init_") + optimizer);
    c.init = nan_init(c).string();
    c.save_model = (fs::path(c.log).parent_path() / "final.npz").string();
    clear_stop_request();
    const std::string m = error_of([&] { run_training(c); });
    EXPECT_NE(m.find("--init " + c.init), std::string::npos) << m;
    EXPECT_NE(m.find("mlp.fc2.bias[7] = nan"), std::string::npos) << m;
    EXPECT_FALSE(fs::exists(c.checkpoint)) << optimizer;
    EXPECT_FALSE(fs::exists(c.log)) << optimizer;
    EXPECT_FALSE(fs::exists(c.save_model)) << optimizer;
  }
}

// Trains `c` for one epoch, edits its checkpoint (with a valid checksum), and
// returns the refusal of a resume; the edited file must stay as it was.
std::string resume_edited(TrainConfig c, const std::function<void(Checkpoint&)>& edit) {
  c.epochs = 1;
  clear_stop_request();
  run_training(c);
  const fs::path file = fs::path(c.checkpoint) / "checkpoint.curv";
  Checkpoint ck = Checkpoint::read(file);
  edit(ck);
  ck.write(file);
  const std::string before = bytes_of(file);
  c.resume = true;
  c.epochs = 3;
  std::string m = "accepted";
  try {
    run_training(c);
  } catch (const CheckpointError& e) {
    m = e.what();
  }
  EXPECT_EQ(bytes_of(file), before);
  return m;
}

TEST(TrainDivergence, EditedCheckpointsWithBadStateAreRefusedNamingTheField) {
  auto expect_refused = [](const std::string& m, const std::string& what) {
    EXPECT_NE(m.find(what), std::string::npos) << "expected '" << what << "' in: " << m;
    EXPECT_NE(m.find("refusing to resume"), std::string::npos) << m;
  };
  expect_refused(resume_edited(tiny("scg", "edit_w"),
                               [](Checkpoint& ck) {
                                 Tensor<double> w = ck.tensor<double>("w");
                                 w(5) = kNaN;
                                 ck.put_tensor("w", w);
                               }),
                 "state.w[5] = nan");
  expect_refused(resume_edited(tiny("scg", "edit_lambda_nan"), [](Checkpoint& ck) { ck.scalars["lambda"] = kNaN; }),
                 "state.lambda = nan");
  expect_refused(resume_edited(tiny("scg", "edit_lambda_neg"), [](Checkpoint& ck) { ck.scalars["lambda"] = -1; }),
                 "state.lambda = -1");
  expect_refused(
      resume_edited(tiny("scg", "edit_iteration"),
                    [](Checkpoint& ck) { ck.counters["iteration"] = std::numeric_limits<std::uint64_t>::max(); }),
      "iteration = 18446744073709551615, expected at most 3");
  expect_refused(resume_edited(tiny("adam", "edit_exp_avg_sq"),
                               [](Checkpoint& ck) {
                                 Tensor<double> v = ck.tensor<double>("exp_avg_sq");
                                 v(0) = -1;
                                 ck.put_tensor("exp_avg_sq", v);
                               }),
                 "state.exp_avg_sq[0] = -1");
  expect_refused(
      resume_edited(tiny("sgd", "edit_step"),
                    [](Checkpoint& ck) { ck.counters["step"] = std::numeric_limits<std::uint64_t>::max(); }),
      "step = 18446744073709551615");
}

TEST(TrainCleanup, StaleTemporaryFilesOfTheCheckpointFolderAreSweptAndALaggingModelIsRederived) {
  TrainConfig c = tiny("scg", "sweep");
  c.epochs = 1;
  clear_stop_request();
  run_training(c);
  const fs::path dir = c.checkpoint;
  const std::string model_bytes = bytes_of(dir / "model.npz");
  for (const char* name : {"checkpoint.curv.tmp.4242.0", "model.npz.tmp-123456-0", "notes.txt"})
    std::ofstream(dir / name) << "half-written";
  std::ofstream(dir / "model.npz", std::ios::trunc) << "lagging";  // a kill between the two writes
  c.resume = true;
  c.epochs = 1;
  request_stop(SIGTERM);  // the resumed run stops at once
  const TrainResult r = run_training(c);
  clear_stop_request();
  EXPECT_FALSE(fs::exists(dir / "checkpoint.curv.tmp.4242.0"));
  EXPECT_FALSE(fs::exists(dir / "model.npz.tmp-123456-0"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt")) << "a file that is no temporary file was removed";
  EXPECT_EQ(bytes_of(dir / "model.npz"), model_bytes) << "model.npz not re-derived from the checkpoint";
  EXPECT_EQ(r.epochs_done, 1u);
}

TEST(TrainCleanup, ALaggingModelIsRederivedEvenWhenTheResumedRunWritesNothingElse) {
  TrainConfig c = tiny("sgd", "lagging_model");
  c.lr = 1e308;
  c.epochs = 0;
  clear_stop_request();
  run_training(c);
  const fs::path model = fs::path(c.checkpoint) / "model.npz";
  const std::string model_bytes = bytes_of(model);
  std::ofstream(model, std::ios::trunc) << "lagging";
  c.resume = true;
  c.epochs = 2;
  EXPECT_THROW(run_training(c), TrainingDiverged);  // diverges before any checkpoint
  EXPECT_EQ(bytes_of(model), model_bytes);
}

std::vector<std::string> rows_without_seconds(const std::string& log) {
  std::vector<std::string> out;
  for (auto row : read_csv(log).rows) {
    row[2] = "";
    std::string line;
    for (const auto& cell : row) line += cell + ",";
    out.push_back(line);
  }
  return out;
}

constexpr std::size_t any_epoch = static_cast<std::size_t>(-1);

// Straight through, then stopped when the `stop_after_batches`-th minibatch
// of a full pass is about to start, then resumed: the same bits.
void expect_mid_pass_stop_resumes_bit_identically(TrainConfig c, std::size_t stop_after_batches,
                                                  std::size_t epochs_kept) {
  clear_stop_request();
  const TrainResult straight = run_training(c);
  const auto straight_rows = rows_without_seconds(c.log);

  TrainConfig first = c;
  first.log = (fs::path(c.log).parent_path() / "log2.csv").string();
  first.checkpoint = c.checkpoint + "2";
  first.stop_after_batches = stop_after_batches;
  const TrainResult part = run_training(first);
  clear_stop_request();
  EXPECT_TRUE(part.interrupted);
  EXPECT_LT(part.epochs_done, c.epochs);
  if (epochs_kept != any_epoch) {
    EXPECT_EQ(part.epochs_done, epochs_kept) << c.optimizer;
  }
  EXPECT_EQ(Checkpoint::read(fs::path(first.checkpoint) / "checkpoint.curv").counter("epoch"), part.epochs_done);

  TrainConfig rest = c;
  rest.log = first.log;
  rest.checkpoint = first.checkpoint;
  rest.resume = true;
  const TrainResult resumed = run_training(rest);
  EXPECT_FALSE(resumed.interrupted);
  ASSERT_EQ(resumed.parameters.size(), straight.parameters.size());
  EXPECT_EQ(std::memcmp(resumed.parameters.data(), straight.parameters.data(),
                        straight.parameters.size() * sizeof(double)),
            0)
      << c.optimizer << ": parameters differ after resume";
  EXPECT_EQ(rows_without_seconds(rest.log), straight_rows) << c.optimizer;
}

// Minibatches of full passes for SCG here: the start's gradient (1–3), epoch
// 0's validation (4); each iteration: H·v (3), gradient (3), validation (1).
TEST(TrainInterrupt, ScgStoppedMidPassKeepsTheLastFinishedIterationAndResumesBitIdentically) {
  TrainConfig c = tiny("scg", "mid_pass_scg");
  c.epochs = 3;
  expect_mid_pass_stop_resumes_bit_identically(c, 13, 1);  // in iteration 2's H·v pass
  TrainConfig d = tiny("scg", "mid_pass_scg_every_2");
  d.epochs = 3;
  d.checkpoint_every = 2;  // iteration 1 is saved by the stop, not periodically
  expect_mid_pass_stop_resumes_bit_identically(d, 16, 1);  // in iteration 2's gradient pass
}

TEST(TrainInterrupt, AStopDuringAnEpochsEvaluationKeepsThePreviousCheckpoint) {
  TrainConfig c = tiny("scg", "mid_eval_scg");
  c.epochs = 3;
  expect_mid_pass_stop_resumes_bit_identically(c, 11, 0);  // iteration 1's validation: its row is not written
  TrainConfig a = tiny("adam", "mid_eval_adam");
  a.epochs = 3;
  // Adam: the epoch's training loss (3) and validation (1) are the full passes.
  expect_mid_pass_stop_resumes_bit_identically(a, 6, 0);  // epoch 1's training loss
}

TEST(TrainInterrupt, LbfgsAndCgStoppedMidLineSearchResumeBitIdentically) {
  for (const char* o : {"lbfgs", "cg"}) {
    TrainConfig c = tiny(o, std::string("mid_pass_") + o);
    c.epochs = 3;
    expect_mid_pass_stop_resumes_bit_identically(c, 9, any_epoch);  // in the first iterations' line searches
  }
}

#ifdef CURV_TRAIN_BINARY
// curv-train as a program under `ulimit -f`: the write past the limit is an
// error message and exit status 1, not death by SIGXFSZ; no temporary file
// is left and the previous checkpoint is kept.
TEST(TrainWrite, AFileSizeLimitIsAReportedWriteErrorLeavingNoTemporaryFile) {
  TrainConfig c = tiny("scg", "fsize");
  c.epochs = 0;
  clear_stop_request();
  run_training(c);
  const fs::path ckpt = fs::path(c.checkpoint) / "checkpoint.curv";
  const std::string before = bytes_of(ckpt);
  ASSERT_GT(before.size(), 100u * 1024u);
  const fs::path err = fs::path(c.log).parent_path() / "stderr.txt";
  const std::string cmd = "ulimit -f 100; exec " + std::string(CURV_TRAIN_BINARY) + " --dataset " + c.dataset +
                          " --train-size 40 --val-size 12 --model mlp --hidden 8 --batch-size 16 --epochs 2 --seed 3"
                          " --dtype float64 --threads 2 -q --log " + c.log + " --checkpoint " + c.checkpoint +
                          " --resume > /dev/null 2> " + err.string();
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "curv-train was killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string message = bytes_of(err);
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_NE(message.find(ckpt.string()), std::string::npos) << message;
  for (const auto& e : fs::directory_iterator(c.checkpoint))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
  EXPECT_EQ(bytes_of(ckpt), before);
}

// The built curv-train on a copy of the tiny digits whose training labels
// file holds label 10 at record 37: exit status 1 (bad data, not a usage
// error) and a message naming the file and the record, and nothing written —
// a resumed run keeps its checkpoint, model.npz and log byte for byte, a
// fresh run creates no checkpoint.
TEST(TrainData, ABadLabelIsNamedByItsRecordAndNoCheckpointIsWritten) {
  TrainConfig c = tiny("scg", "bad_label");
  const fs::path dir = fs::path(c.log).parent_path();
  const fs::path data = dir / "data";
  test::write_block_digits(data, 60, 20);
  c.dataset = data.string();
  c.epochs = 1;
  clear_stop_request();
  run_training(c);
  const fs::path ckpt = fs::path(c.checkpoint) / "checkpoint.curv", model = fs::path(c.checkpoint) / "model.npz";
  const std::string ckpt_bytes = bytes_of(ckpt), model_bytes = bytes_of(model), log_bytes = bytes_of(c.log);
  ASSERT_FALSE(ckpt_bytes.empty());

  const fs::path labels = data / "train-labels-idx1-ubyte";
  curv::datasets::IdxArray y = curv::datasets::read_idx(labels, 1);
  y.data[37] = 10;
  curv::datasets::write_idx(labels, y.dims, y.data);

  auto run = [&](const std::string& checkpoint, const std::string& log, const std::string& extra) {
    const fs::path err = dir / "stderr.txt";
    const std::string cmd = std::string(CURV_TRAIN_BINARY) + " --dataset " + c.dataset +
                            " --train-size 40 --val-size 12 --model mlp --hidden 8 --batch-size 16 --epochs 2"
                            " --seed 3 --dtype float64 --threads 2 -q --log " + log + " --checkpoint " + checkpoint +
                            " " + extra + " > /dev/null 2> " + err.string();
    const int status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status)) << "curv-train was killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 1) << extra;
    return bytes_of(err);
  };
  const std::string named = "train-labels-idx1-ubyte: record 37 has label 10; expected 0 to 9";
  const std::string resumed = run(c.checkpoint, c.log, "--resume");
  EXPECT_NE(resumed.find(named), std::string::npos) << resumed;
  EXPECT_EQ(bytes_of(ckpt), ckpt_bytes);
  EXPECT_EQ(bytes_of(model), model_bytes);
  EXPECT_EQ(bytes_of(c.log), log_bytes);

  const fs::path fresh = dir / "fresh";
  const std::string refused = run(fresh.string(), (dir / "fresh.csv").string(), "");
  EXPECT_NE(refused.find(named), std::string::npos) << refused;
  EXPECT_FALSE(fs::exists(fresh / "checkpoint.curv"));
  EXPECT_FALSE(fs::exists(fresh / "model.npz"));
  EXPECT_FALSE(fs::exists(dir / "fresh.csv"));
}
#endif

// describe_non_finite (messages.hpp): the element an optimizer refuses, as
// the parameter of curv-train's model it belongs to, found from the model's
// own parameter offsets and shapes.
TEST(TrainDivergence, DescribeNonFiniteNamesTheParameterOfTheRefusedElement) {
  const TrainConfig c = tiny("sgd", "describe_non_finite");
  const std::unique_ptr<curv::nn::Module<double>> model = make_model<double>(c, curv::Shape{1, 28, 28});
  curv::optim::NonFiniteError::Where where;
  where.optimizer = "SGD";
  where.quantity = "the gradient";
  where.unit = "step";
  where.iteration = 2;
  where.value = kNaN;
  const curv::nn::ParameterInfo fc1 = model->parameter("mlp.fc1.weight"), bias = model->parameter("mlp.fc2.bias");
  ASSERT_EQ(fc1.shape, (curv::Shape{8, 784}));
  for (const auto& [index, name] : {std::pair{fc1.offset + 1 * 784 + 450, std::string("mlp.fc1.weight[1,450]")},
                                    std::pair{bias.offset + 7, std::string("mlp.fc2.bias[7]")}}) {
    where.index = index;
    const curv::optim::NonFiniteError e(where);
    EXPECT_EQ(describe_non_finite(e, *model), std::string(e.what()) + "; w[" + std::to_string(index) + "] is " + name);
  }
  where.index = curv::optim::NonFiniteError::npos;  // a scalar: the loss
  where.quantity = "the loss";
  const curv::optim::NonFiniteError loss(where);
  EXPECT_EQ(describe_non_finite(loss, *model), loss.what());
}

}  // namespace
