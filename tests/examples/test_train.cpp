// curv-train's engine on a tiny synthetic MNIST-format dataset: an interrupted
// and resumed run ends bit-identical to an uninterrupted one, and bad
// checkpoints and options are refused with messages that say why.
#include <csignal>
#include <cstdint>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <curv/datasets/idx.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"
#include "train/train.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

namespace {

// 60 training and 20 test "images" of 28×28 bytes whose label is visible in
// them (a bright block at a label-dependent place), so that training learns.
fs::path tiny_dataset() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("curv_train_test_data_" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::mt19937 rng(7);
    auto write = [&](const std::string& prefix, std::size_t n) {
      std::vector<std::uint8_t> images(n * 28 * 28), labels(n);
      for (std::size_t i = 0; i < n; ++i) {
        labels[i] = static_cast<std::uint8_t>(i % 10);
        for (std::size_t p = 0; p < 28 * 28; ++p) images[i * 784 + p] = static_cast<std::uint8_t>(rng() % 64);
        for (std::size_t r = 0; r < 4; ++r)
          for (std::size_t c = 0; c < 4; ++c) images[i * 784 + (2 + labels[i] * 2 + r) * 28 + 4 + c + labels[i]] = 250;
      }
      const std::vector<std::size_t> idims = {n, 28, 28}, ldims = {n};
      curv::datasets::write_idx(d / (prefix + "-images-idx3-ubyte"), idims, images);
      curv::datasets::write_idx(d / (prefix + "-labels-idx1-ubyte"), ldims, labels);
    };
    write("train", 60);
    write("t10k", 20);
    return d;
  }();
  return dir;
}

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("curv_train_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

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

std::vector<std::vector<std::string>> rows_without_seconds(const std::string& log) {
  std::vector<std::vector<std::string>> rows = read_csv(log).rows;
  for (auto& r : rows) r[2] = "";
  return rows;
}

// Runs `c` straight through, then again interrupted by `interrupt` and
// resumed, and compares final parameters bit for bit and the logs row by row.
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

TEST(TrainResume, ScgFloat32ArticleCnnResumeIsBitIdentical) {
  TrainConfig c = tiny("scg", "scg_cnn");
  c.model = "article-cnn";
  c.dtype = "float32";
  c.train_size = 20;
  c.val_size = 4;
  c.test_size = 8;
  c.epochs = 3;
  expect_resume_is_bit_identical(c, [](TrainConfig& f) { f.stop_after_steps = 1; });
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
  try {
    run_training(c);
    FAIL() << "a corrupt checkpoint was accepted";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
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
  try {
    run_training(c);
    FAIL() << "a checkpoint of another batch size was accepted";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("--batch-size"), std::string::npos) << e.what();
  }
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

TEST(TrainLineSearch, LbfgsAndCgTrainAndRefuseCheckpoints) {
  for (const char* o : {"lbfgs", "cg"}) {
    TrainConfig c = tiny(o, std::string("ls_") + o);
    c.checkpoint.clear();
    c.epochs = 3;
    const TrainResult r = run_training(c);
    const CsvContent log = read_csv(c.log);
    ASSERT_EQ(log.rows.size(), 4u) << o;
    EXPECT_LT(std::stod(log.rows[3][3]), std::stod(log.rows[0][3])) << o;
    EXPECT_EQ(r.epochs_done, 3u);
    c.checkpoint = "somewhere";
    EXPECT_THROW(validate(c), std::invalid_argument) << o;
  }
}

}  // namespace
