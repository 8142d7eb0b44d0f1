// curv-train validates everything, then writes: options, output paths, the
// three splits and a resumed run's checkpoint and log are checked before the
// first file is created or changed, and a refusal leaves every existing file
// byte-identical. The command-line checks run the built curv-train.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <curv/datasets/idx.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"
#include "train/train.hpp"
#include "train_fixtures.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;
using curv::examples::test::bytes_of;

namespace {

fs::path scratch(const std::string& name) { return curv::examples::test::scratch_dir("curv_preflight_test", name); }

// An MNIST-format folder: `n` training and `nt` test images of rows × cols
// bytes, labels i mod 10 with a label-dependent bright block; `edit` may
// change the bytes before they are written.
struct Files {
  std::vector<std::uint8_t> train_x, train_y, test_x, test_y;
};
fs::path dataset(const std::string& name, std::size_t n = 60, std::size_t nt = 20,
                 const std::function<void(Files&)>& edit = {}, std::size_t test_rows = 28, std::size_t test_cols = 28) {
  const fs::path d = scratch(name) / "data";
  fs::create_directories(d);
  std::mt19937 rng(7);
  auto make = [&](std::size_t count, std::size_t rows, std::size_t cols, std::vector<std::uint8_t>& x,
                  std::vector<std::uint8_t>& y) {
    x.resize(count * rows * cols);
    y.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      y[i] = static_cast<std::uint8_t>(i % 10);
      for (std::size_t p = 0; p < rows * cols; ++p) x[i * rows * cols + p] = static_cast<std::uint8_t>(rng() % 64);
      x[i * rows * cols + y[i] * 20] = 250;
    }
  };
  Files f;
  make(n, 28, 28, f.train_x, f.train_y);
  make(nt, test_rows, test_cols, f.test_x, f.test_y);
  if (edit) edit(f);
  namespace ds = curv::datasets;
  ds::write_idx(d / "train-images-idx3-ubyte", std::vector<std::size_t>{n, 28, 28}, f.train_x);
  ds::write_idx(d / "train-labels-idx1-ubyte", std::vector<std::size_t>{n}, f.train_y);
  ds::write_idx(d / "t10k-images-idx3-ubyte", std::vector<std::size_t>{nt, test_rows, test_cols}, f.test_x);
  ds::write_idx(d / "t10k-labels-idx1-ubyte", std::vector<std::size_t>{nt}, f.test_y);
  return d;
}

TrainConfig tiny(const std::string& name, const fs::path& data = {}) {
  TrainConfig c;
  const fs::path dir = scratch(name);
  c.dataset = (data.empty() ? dataset(name + "_data") : data).string();
  c.train_size = 40;
  c.val_size = 12;
  c.model = "mlp";
  c.hidden = 8;
  c.optimizer = "scg";
  c.batch_size = 16;
  c.epochs = 2;
  c.seed = 3;
  c.dtype = "float64";
  c.threads = 1;
  c.quiet = true;
  c.log = (dir / "log.csv").string();
  c.checkpoint = (dir / "ckpt").string();
  return c;
}

void put(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// The message of what run_training(c) throws ("" when it does not throw).
std::string refusal(const TrainConfig& c) {
  clear_stop_request();
  try {
    run_training(c);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// ---------------------------------------------------------------- validate everything, then write

TEST(TrainOutputs, AFreshRunRefusesAnExistingLogSaveModelOrExportAndLeavesThemByteIdentical) {
  for (const char* option : {"--log", "--save-model", "--export-data"}) {
    TrainConfig c = tiny(std::string("existing_") + (option + 2));
    c.checkpoint.clear();
    const fs::path dir = fs::path(c.log).parent_path();
    fs::path file = dir / "log.csv";
    if (std::string(option) == "--save-model") c.save_model = (file = dir / "model.npz").string();
    if (std::string(option) == "--export-data") c.export_data = (file = dir / "data.npz").string();
    const std::string before = "another run's result\n1,2,3\n";
    put(file, before);
    const std::string m = refusal(c);
    EXPECT_HAS(m, std::string(option) + " " + file.string() + ": already exists");
    EXPECT_HAS(m, "--overwrite");
    EXPECT_EQ(bytes_of(file), before) << option;
    if (file != fs::path(c.log)) {
      EXPECT_FALSE(fs::exists(c.log)) << option << ": the log was created by a refused run";
    }
    c.overwrite = true;
    EXPECT_EQ(refusal(c), "") << option;
    EXPECT_NE(bytes_of(file), before) << option << ": --overwrite replaces it";
  }
}

TEST(TrainOutputs, ResumingWithAnotherRunsLogIsRefusedBeforeTheLogIsTrimmed) {
  TrainConfig scg = tiny("other_log_scg");
  run_training(scg);
  TrainConfig adam = tiny("other_log_adam");
  adam.optimizer = "adam";
  adam.checkpoint.clear();
  adam.epochs = 8;
  run_training(adam);
  const std::string before = bytes_of(adam.log);
  ASSERT_EQ(read_csv(adam.log).rows.size(), 9u);

  scg.resume = true;
  scg.epochs = 3;
  scg.log = adam.log;
  const std::string m = refusal(scg);
  EXPECT_HAS(m, "--log " + adam.log);
  EXPECT_HAS(m, "not this run's log");
  EXPECT_EQ(bytes_of(adam.log), before) << "the other run's log was changed (trimmed) by a refused resume";
}

TEST(TrainOutputs, ResumingWithTheLogOfAnotherRunOfTheSameOptimizerIsRefused) {
  TrainConfig a = tiny("same_header_a");
  run_training(a);
  TrainConfig b = tiny("same_header_b");
  b.checkpoint.clear();
  b.epochs = 4;
  run_training(b);
  const std::string before = bytes_of(b.log);
  a.resume = true;
  a.epochs = 3;
  a.log = b.log;
  const std::string m = refusal(a);
  EXPECT_HAS(m, "--log " + b.log);
  EXPECT_HAS(m, "not this run's log");
  EXPECT_EQ(bytes_of(b.log), before);

  // A checkpoint written without --log: any existing log is another run's.
  TrainConfig quiet = tiny("no_log");
  quiet.log.clear();
  run_training(quiet);
  quiet.resume = true;
  quiet.epochs = 3;
  quiet.log = b.log;
  EXPECT_HAS(refusal(quiet), "the checkpoint's run wrote no log");
  EXPECT_EQ(bytes_of(b.log), before);
  quiet.log = (fs::path(b.log).parent_path() / "new.csv").string();
  EXPECT_EQ(refusal(quiet), "") << "a new log for the rest of the run";
  EXPECT_EQ(read_csv(quiet.log).rows.size(), 1u);
}

TEST(TrainOutputs, ARefusedResumeLeavesAnExistingExportFileByteIdenticalAndCreatesNone) {
  TrainConfig c = tiny("export_refused");
  run_training(c);
  const fs::path dir = fs::path(c.log).parent_path();
  const std::string log = bytes_of(c.log), ckpt = bytes_of(fs::path(c.checkpoint) / "checkpoint.curv");
  c.resume = true;
  c.epochs = 3;
  c.batch_size = 8;  // another setting: refused by the checkpoint
  c.export_data = (dir / "data.npz").string();
  const std::string before = "exported by someone else";
  put(c.export_data, before);
  EXPECT_NE(refusal(c), "");
  EXPECT_EQ(bytes_of(c.export_data), before);
  fs::remove(c.export_data);
  EXPECT_HAS(refusal(c), "--batch-size");
  EXPECT_FALSE(fs::exists(c.export_data)) << "a refused resume exported the data";
  EXPECT_EQ(bytes_of(c.log), log);
  EXPECT_EQ(bytes_of(fs::path(c.checkpoint) / "checkpoint.curv"), ckpt);

  // Same settings: an existing export is still refused on resume (the first part wrote it).
  c.batch_size = 16;
  put(c.export_data, before);
  EXPECT_HAS(refusal(c), "drop --export-data when resuming");
  EXPECT_EQ(bytes_of(c.export_data), before);
  EXPECT_EQ(bytes_of(c.log), log);
}

TEST(TrainOutputs, ResumeAppendsToItsLogAndReplacesItsSaveModel) {
  TrainConfig c = tiny("resume_outputs");
  c.save_model = (fs::path(c.log).parent_path() / "final.npz").string();
  run_training(c);
  const std::string first = bytes_of(c.save_model);
  c.resume = true;
  c.epochs = 3;
  EXPECT_EQ(refusal(c), "");
  EXPECT_EQ(read_csv(c.log).rows.size(), 4u);
  EXPECT_NE(bytes_of(c.save_model), first);
}

TEST(TrainOutputs, AnUnwritableSaveModelPathIsRefusedBeforeTheFirstEpoch) {
  TrainConfig c = tiny("unwritable");
  const fs::path dir = fs::path(c.log).parent_path();
  put(dir / "plain_file", "x");
  c.save_model = (dir / "plain_file" / "model.npz").string();
  const std::string m = refusal(c);
  EXPECT_HAS(m, "--save-model " + c.save_model);
  EXPECT_HAS(m, "is not a directory");
  EXPECT_FALSE(fs::exists(c.log)) << "the run trained before finding out";
  EXPECT_FALSE(fs::exists(c.checkpoint));

  fs::create_directory(dir / "folder.npz");
  c.save_model = (dir / "folder.npz").string();
  EXPECT_HAS(refusal(c), "--save-model " + c.save_model + ": is a directory");
  c.save_model.clear();
  c.checkpoint = (dir / "plain_file").string();
  EXPECT_HAS(refusal(c), "--checkpoint " + c.checkpoint + ": is not a directory");
  c.checkpoint = (dir / "plain_file" / "ckpt").string();
  EXPECT_HAS(refusal(c), "is not a directory");
  c.checkpoint.clear();
  c.log = (dir / "plain_file" / "log.csv").string();
  EXPECT_HAS(refusal(c), "--log");
  EXPECT_EQ(bytes_of(dir / "plain_file"), "x");
}

TEST(TrainOutputs, TwoOutputsNamingOneFileAreRefused) {
  TrainConfig c = tiny("same_file");
  c.log = (fs::path(c.log).parent_path() / "out.npz").string();
  c.save_model = (fs::path(c.log).parent_path() / "." / "out.npz").string();
  EXPECT_HAS(refusal(c), "name the same file");
  c.save_model = (fs::path(c.checkpoint) / "model.npz").string();
  EXPECT_HAS(refusal(c), "name the same file");
  EXPECT_FALSE(fs::exists(c.log));
}

// ---------------------------------------------------------------- pre-flight: the data

TEST(TrainPreflight, AnEmptyTestSetIsRefusedBeforeTheFirstEpochNamingTheFile) {
  TrainConfig c = tiny("empty_test", dataset("empty_test_data", 60, 0));
  const std::string m = refusal(c);
  EXPECT_HAS(m, "t10k-images-idx3-ubyte holds 0 images");
  EXPECT_EQ(m.find("Accumulator"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(c.log)) << "the run trained before finding out";
  c = tiny("test_size_zero");
  c.test_size = 0;
  EXPECT_HAS(refusal(c), "--test-size 0");
  EXPECT_FALSE(fs::exists(c.log));
}

TEST(TrainPreflight, AnOutOfRangeLabelIsRefusedNamingTheFileAndTheRecord) {
  for (const bool test : {true, false}) {
    const std::string name = test ? "bad_test_label" : "bad_train_label";
    TrainConfig c = tiny(name, dataset(name + "_data", 60, 20, [&](Files& f) { (test ? f.test_y : f.train_y)[5] = 42; }));
    const std::string m = refusal(c);
    EXPECT_HAS(m, (test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte") + std::string(": record 5 has label 42"));
    EXPECT_HAS(m, "expected 0 to 9");
    EXPECT_FALSE(fs::exists(c.log)) << name;
    EXPECT_FALSE(fs::exists(c.checkpoint)) << name;
  }
}

TEST(TrainPreflight, TestImagesOfAnotherGeometryAreRefusedEvenWithoutStandardization) {
  const fs::path data = dataset("geometry_data", 60, 20, {}, 14, 56);  // 784 pixels, as many as 28×28
  for (const bool standardize : {false, true}) {
    TrainConfig c = tiny(standardize ? "geometry_std" : "geometry_raw", data);
    c.standardize = standardize;
    const std::string m = refusal(c);
    EXPECT_HAS(m, "t10k-images-idx3-ubyte holds 14×56 images");
    EXPECT_HAS(m, "are 28×28");
    EXPECT_FALSE(fs::exists(c.log));
  }
}

TEST(TrainPreflight, ATrainingFileWithoutImagesIsReportedAboutTheFile) {
  TrainConfig c = tiny("empty_train", dataset("empty_train_data", 0, 20));
  c.train_size.reset();
  c.val_size.reset();
  const std::string m = refusal(c);
  EXPECT_HAS(m, "train-images-idx3-ubyte holds 0 images");
  EXPECT_EQ(m.find("--train-size"), std::string::npos) << m;
}

TEST(TrainPreflight, AFolderInPlaceOfTheImagesFileIsNamedAsSuch) {
  const fs::path data = dataset("folder_images_data");
  fs::remove(data / "t10k-images-idx3-ubyte");
  fs::create_directory(data / "t10k-images-idx3-ubyte");
  EXPECT_HAS(refusal(tiny("folder_images", data)), "t10k-images-idx3-ubyte: expected an IDX file, found a directory");
}

TEST(TrainPreflight, ConstantImagesAndASingleClassGiveOneWarningEach) {
  TrainConfig c = tiny("degenerate", dataset("degenerate_data", 60, 20, [](Files& f) {
                         std::fill(f.train_x.begin(), f.train_x.end(), std::uint8_t(9));
                         std::fill(f.train_y.begin(), f.train_y.end(), std::uint8_t(3));
                       }));
  c.epochs = 0;
  const TrainResult r = run_training(c);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_HAS(r.warnings[0], "every input feature is constant");
  EXPECT_HAS(r.warnings[1], "all of class 3");
  TrainConfig healthy = tiny("healthy");
  healthy.epochs = 0;
  EXPECT_TRUE(run_training(healthy).warnings.empty());
}

// ---------------------------------------------------------------- resume

TEST(TrainResumeSettings, TheSameFolderWithATrailingSlashResumes) {
  TrainConfig c = tiny("trailing_slash");
  run_training(c);
  c.resume = true;
  c.epochs = 3;
  c.dataset += "/";
  EXPECT_EQ(refusal(c), "");
}

TEST(TrainResumeSettings, ChangedTestDataAreRefusedNamingTheSplit) {
  const fs::path data = dataset("changed_test_data");
  TrainConfig c = tiny("changed_test", data);
  run_training(c);
  const std::string log = bytes_of(c.log);
  // The same folder, one test pixel changed.
  std::vector<std::uint8_t> x(20 * 28 * 28), y(20);
  {
    const curv::datasets::IdxArray a = curv::datasets::read_idx(data / "t10k-images-idx3-ubyte", 3);
    x = a.data;
  }
  x[100] ^= 1;
  curv::datasets::write_idx(data / "t10k-images-idx3-ubyte", std::vector<std::size_t>{20, 28, 28}, x);
  c.resume = true;
  c.epochs = 3;
  const std::string m = refusal(c);
  EXPECT_HAS(m, "test_data_hash");
  EXPECT_HAS(m, "the test split");
  EXPECT_EQ(bytes_of(c.log), log);
}

TEST(TrainResumeSettings, AChangedSeedOrDtypeIsBlamedOnItsOptionNotOnTheDataHash) {
  TrainConfig c = tiny("blame");
  run_training(c);
  c.resume = true;
  c.epochs = 3;
  TrainConfig seed = c;
  seed.seed = 4;
  std::string m = refusal(seed);
  EXPECT_HAS(m, "(--seed)");
  EXPECT_EQ(m.find("data_hash"), std::string::npos) << m;
  TrainConfig dtype = c;
  dtype.dtype = "float32";
  m = refusal(dtype);
  EXPECT_HAS(m, "(--dtype)");
  EXPECT_EQ(m.find("data_hash"), std::string::npos) << m;
}

// ---------------------------------------------------------------- options the machine cannot honour

TEST(TrainOptionBounds, ThreadsAndHiddenUnitsBeyondTheMachineAreRefused) {
  TrainConfig c = tiny("bounds");
  c.threads = 100000000;
  try {
    validate(c);
    FAIL() << "--threads 100000000 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_HAS(e.what(), "--threads 100000000: expected 0 (every core) to " + std::to_string(max_threads()));
  }
  c.threads = max_threads();
  EXPECT_NO_THROW(validate(c));
  c.hidden = 100000000000ull;
  const std::string m = refusal(c);
  EXPECT_HAS(m, "--hidden 100000000000: the MLP would have");
  EXPECT_HAS(m, "GiB");
  EXPECT_FALSE(fs::exists(c.log));
  c.hidden = 8;
  c.model = "article-cnn";
  c.kernel_size = 29;
  EXPECT_THROW(validate(c), std::invalid_argument);
}

// ---------------------------------------------------------------- the command line

struct Outcome {
  int status = -1;
  std::string output;
};

Outcome curv_train(const std::string& args) {
  Outcome r;
  const std::string command = std::string(CURV_TRAIN_BINARY) + " " + args + " 2>&1";
  std::FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(TrainCommandLine, NegativeAndOverflowingWholeNumbersAreRefused) {
  for (const char* option : {"--epochs", "--seed", "--train-size", "--val-size", "--test-size", "--hidden",
                             "--threads", "--checkpoint-every"}) {
    for (const char* value : {"-1", "-5", "99999999999999999999999", "1e3", "3x"}) {
      const Outcome r = curv_train(std::string("--model mlp ") + option + " " + value);
      EXPECT_EQ(r.status, 2) << option << " " << value << ": " << r.output;
      EXPECT_HAS(r.output, std::string(option) + ": ");
      EXPECT_HAS(r.output, "expected a whole number from 0 to");
    }
  }
}

TEST(TrainCommandLine, OptionsTheModelOrOptimizerDoesNotUseAreRefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"--optimizer adam --momentum 0.9", "--momentum: applies to --optimizer sgd only"},
      {"--optimizer sgd --curvature exact", "--curvature: applies to --optimizer scg or hf only"},
      {"--optimizer trust-ncg --curvature exact", "--curvature: applies to --optimizer scg or hf only"},
      {"--model mlp --kernel-size 5", "--kernel-size: applies to --model article-cnn only"},
      {"--model article-cnn --hidden 8", "--hidden: applies to --model mlp only"},
      {"--checkpoint-every 2", "--checkpoint-every: applies only with --checkpoint DIR"},
      {"--threads 100000000", "--threads 100000000: expected 0 (every core) to"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome r = curv_train(args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    EXPECT_HAS(r.output, message);
  }
}

TEST(TrainCommandLine, EmptyNamesAndPathsAreRefused) {
  for (const char* option : {"--checkpoint", "--log", "--export-data", "--save-model", "--init", "--mnist-dir",
                             "--model", "--optimizer", "--dtype", "--curvature", "--batch-size"}) {
    const Outcome r = curv_train(std::string(option) + " ''");
    EXPECT_EQ(r.status, 2) << option << ": " << r.output;
    EXPECT_HAS(r.output, std::string(option) + ": expected a non-empty value");
  }
}

}  // namespace
