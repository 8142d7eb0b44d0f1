// Provenance and the errors that point at the data: every example read from
// IDX files knows its file and record through splits, subsets and
// standardization; a bad label or a non-finite input met by the Accumulator
// is reported as that record — at every batch size, in a seeded split, in
// the shuffled order SGD steps through — with its dataset row, minibatch and,
// for a non-finite input, the first parameter it hits.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "curv/datasets.hpp"
#include "curv/nn.hpp"
#include "curv/optim.hpp"

namespace {

namespace fs = std::filesystem;
using curv::Tensor;
using curv::datasets::Accumulator;
using curv::datasets::DataError;
using curv::datasets::Origin;
using curv::datasets::Provenance;
using curv::datasets::TensorDataset;

constexpr std::size_t records = 700, side = 4, classes = 10;
constexpr std::uint64_t split_seed = 11;
const curv::datasets::SplitSizes sizes{500, 150, 50};
constexpr std::size_t bad_row = 150;  // the training split's row that gets the bad value

// A fresh folder of its own for each test.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("curv_provenance_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// 700 random 4×4 images and labels i mod 10 as train-{images,labels} IDX
// files in `dir`; `bad_label_at` gets label 10 (no class of a 10-way model).
void write_files(const fs::path& dir, std::size_t bad_label_at = records) {
  std::mt19937 rng(5);
  std::vector<std::uint8_t> images(records * side * side), labels(records);
  for (std::uint8_t& p : images) p = static_cast<std::uint8_t>(rng() % 256);
  for (std::size_t i = 0; i < records; ++i) labels[i] = static_cast<std::uint8_t>(i == bad_label_at ? classes : i % classes);
  const std::vector<std::size_t> idims = {records, side, side}, ldims = {records};
  curv::datasets::write_idx(dir / "train-images-idx3-ubyte", idims, images);
  curv::datasets::write_idx(dir / "train-labels-idx1-ubyte", ldims, labels);
}

TensorDataset<double> training_split(const fs::path& dir) {
  const TensorDataset<double> all =
      curv::datasets::read_idx_dataset<double>(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
  return curv::datasets::split(all, sizes, split_seed).train;
}

// The record of the file that the seeded split puts at training row `row`.
std::size_t record_at_training_row(std::size_t row) {
  const fs::path dir = scratch("clean");
  write_files(dir);
  return training_split(dir).origin(row).record;
}

// flatten → fc1 (16 → 8) → tanh → fc2 (8 → 10): a non-finite pixel makes
// every gradient NaN, yet only fc1.weight's column of that pixel touches it.
curv::nn::Sequential<double> mlp() {
  curv::nn::Sequential<double> m;
  m.emplace<curv::nn::Flatten<double>>("flatten");
  m.emplace<curv::nn::Linear<double>>("fc1", curv::nn::LinearOptions{side * side, 8});
  m.emplace<curv::nn::Tanh<double>>("tanh");
  m.emplace<curv::nn::Linear<double>>("fc2", curv::nn::LinearOptions{8, classes});
  return m;
}

// What f throws as a DataError (failing the test when it throws nothing or another type).
DataError data_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a DataError, got: " << e.what();
    return DataError("", 0, {}, 0);
  }
  ADD_FAILURE() << "expected a DataError, got no exception";
  return DataError("", 0, {}, 0);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every full pass of `acc` at w, as (name, call).
std::vector<std::pair<std::string, std::function<void()>>> passes(const Accumulator<double>& acc, const Tensor<double>& w) {
  const Tensor<double> v = xt::ones<double>({acc.dim()});
  return {{"value", [&acc, w] { acc.value(w); }},
          {"value_and_grad", [&acc, w] { Tensor<double> g; acc.value_and_grad(w, g); }},
          {"hvp", [&acc, w, v] { Tensor<double> g, hv; acc.hvp(w, v, g, hv); }},
          {"gnvp", [&acc, w, v] { Tensor<double> g, gv; acc.gnvp(w, v, g, gv); }},
          {"evaluate", [&acc, w] { acc.evaluate(w); }}};
}

TEST(Provenance, IdxRowsKeepTheirFileAndRecordThroughSplitSubsetAndStandardization) {
  const fs::path dir = scratch("keep");
  write_files(dir);
  const TensorDataset<double> all =
      curv::datasets::read_idx_dataset<double>(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
  const Origin o = all.origin(617);
  EXPECT_EQ(o.inputs, "train-images-idx3-ubyte");
  EXPECT_EQ(o.targets, "train-labels-idx1-ubyte");
  EXPECT_EQ(o.record, 617u);
  EXPECT_EQ(o.targets_record(), "train-labels-idx1-ubyte record 617");
  EXPECT_EQ(o.inputs_record(), "train-images-idx3-ubyte record 617");

  // Each row of every part, and of a subset of a subset, is the record its
  // origin names: the same pixels as that row of the file.
  curv::datasets::Splits<double> parts = curv::datasets::split(all, sizes, split_seed);
  const std::vector<std::size_t> pick = {7, 3, 299, 3};
  const TensorDataset<double> twice = curv::datasets::subset(curv::datasets::random_subset(parts.train, 300, 2), pick);
  const std::size_t stride = all.input_stride();
  for (const TensorDataset<double>* d : std::initializer_list<const TensorDataset<double>*>{&parts.train, &parts.validation, &parts.test, &twice}) {
    ASSERT_EQ(d->provenance().size(), d->size());
    for (std::size_t r = 0; r < d->size(); ++r) {
      const std::size_t rec = d->origin(r).record;
      ASSERT_LT(rec, records);
      ASSERT_TRUE(std::equal(d->inputs().data() + r * stride, d->inputs().data() + (r + 1) * stride,
                             all.inputs().data() + rec * stride))
          << "row " << r << " is not record " << rec;
      ASSERT_EQ(d->targets()(r), all.targets()(rec));
    }
  }
  // Standardizing changes the values, not where they came from.
  const std::size_t before = parts.validation.origin(42).record;
  curv::datasets::Standardizer<double>::fit(parts.train).apply(parts.validation);
  EXPECT_EQ(parts.validation.origin(42).record, before);
  EXPECT_EQ(parts.validation.origin(42).targets, "train-labels-idx1-ubyte");
}

TEST(Provenance, InMemoryRowsAndDatasetsWithoutOriginsAreNamedByRow) {
  const TensorDataset<double> memory(xt::zeros<double>({5, 2}), xt::zeros<double>({5}));
  EXPECT_FALSE(memory.origin(3).known());
  EXPECT_EQ(memory.origin(3).inputs_record(), "row 3");
  EXPECT_FALSE(curv::datasets::subset(memory, std::vector<std::size_t>{4, 1}).provenance().known());

  // A dataset type without origin(): DatasetRef falls back to the row.
  struct Plain {
    const TensorDataset<double>* d;
    std::size_t size() const { return d->size(); }
    curv::datasets::Batch<double> get_batch(std::span<const std::size_t> i) const { return d->get_batch(i); }
  };
  static_assert(!curv::datasets::HasOrigin<Plain>);
  static_assert(curv::datasets::HasOrigin<TensorDataset<double>>);
  const Plain plain{&memory};
  EXPECT_EQ(curv::datasets::DatasetRef<double>(plain).origin(4).targets_record(), "row 4");

  // A provenance must describe one row per example.
  EXPECT_THROW(TensorDataset<double>(xt::zeros<double>({5, 2}), xt::zeros<double>({5}), Provenance("x", "y", 4)),
               std::invalid_argument);
  EXPECT_THROW(Provenance("x", "y", 4).subset(std::vector<std::size_t>{4}), std::out_of_range);
}

TEST(Provenance, BadLabelIsReportedAsItsRecordAtEveryBatchSizeInASeededSplit) {
  const std::size_t r = record_at_training_row(bad_row);
  const fs::path dir = scratch("bad_label");
  write_files(dir, r);
  const TensorDataset<double> train = training_split(dir);
  ASSERT_EQ(train.targets()(bad_row), double(classes)) << "the split puts record " << r << " at row " << bad_row;

  const curv::nn::Sequential<double> model = mlp();
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(1);
  const std::string record = "label 10 of train-labels-idx1-ubyte record " + std::to_string(r) + " (dataset row 150, ";
  for (std::ptrdiff_t bs : {1, 7, 64, -1}) {
    const Accumulator<double> acc(model, loss, train, {.batch_size = bs, .threads = 2});
    const std::size_t b = bs < 0 ? 0 : bad_row / static_cast<std::size_t>(bs);
    const std::string where = record + "minibatch " + std::to_string(b + 1) + " of " +
                              std::to_string(acc.num_batches()) + "): expected a class in [0, 10)";
    for (const auto& [name, call] : passes(acc, w)) {
      SCOPED_TRACE("batch size " + std::to_string(bs) + ", " + name);
      const DataError e = data_error_of(call);
      EXPECT_TRUE(contains(e.what(), where)) << e.what() << "\nexpected: " << where;
      EXPECT_EQ(e.row(), bad_row);
      EXPECT_EQ(e.origin().record, r);
      EXPECT_EQ(e.minibatch(), b);
      EXPECT_FALSE(e.parameter());
    }
  }
}

TEST(Provenance, BadLabelIsReportedAsItsRecordInTheShuffledOrderSgdStepsThrough) {
  const std::size_t r = record_at_training_row(bad_row);
  const fs::path dir = scratch("bad_label_shuffled");
  write_files(dir, r);
  const TensorDataset<double> train = training_split(dir);
  const curv::nn::Sequential<double> model = mlp();
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(1);
  for (std::ptrdiff_t bs : {1, 7, 64, -1}) {
    SCOPED_TRACE("batch size " + std::to_string(bs));
    curv::datasets::ModelObjective<double> obj(model, loss, train, {.batch_size = bs, .threads = 2, .seed = 9});
    obj.begin_epoch(2);
    // The minibatch of epoch 2's order that holds row 150, and only that one, fails.
    std::size_t holding = obj.num_batches();
    for (std::size_t b = 0; b < obj.num_batches(); ++b) {
      const auto rows = obj.loader().indices(b);
      if (std::find(rows.begin(), rows.end(), bad_row) == rows.end()) continue;
      holding = b;
      Tensor<double> g;
      const DataError e = data_error_of([&] { obj.batch_value_and_grad(b, w, g); });
      const std::string where = "label 10 of train-labels-idx1-ubyte record " + std::to_string(r) +
                                " (dataset row 150, minibatch " + std::to_string(b + 1) + " of " +
                                std::to_string(obj.num_batches()) + " of epoch 2)";
      EXPECT_TRUE(contains(e.what(), where)) << e.what() << "\nexpected: " << where;
      EXPECT_EQ(e.row(), bad_row);
      EXPECT_EQ(e.origin().record, r);
    }
    ASSERT_LT(holding, obj.num_batches());
    if (holding > 0) {
      Tensor<double> g;
      EXPECT_NO_THROW(obj.batch_value_and_grad(holding - 1, w, g));
    }
  }
  // SGD stepping through the shuffled minibatches stops on it with the same words.
  curv::datasets::ModelObjective<double> obj(model, loss, train, {.batch_size = 7, .threads = 2, .seed = 9});
  curv::optim::SgdOptions options;
  options.max_epochs = 1;
  options.learning_rate = 0.01;
  const curv::optim::SGD<double> sgd(options);
  const DataError e = data_error_of([&] { sgd.minimize(obj, w); });
  EXPECT_TRUE(contains(e.what(), "train-labels-idx1-ubyte record " + std::to_string(r) + " (dataset row 150, minibatch "))
      << e.what();
}

// Training row 150's pixel (y, x) set to `bad` in memory (IDX bytes are
// always finite: such values come from code, e.g. a log of a 0 pixel).
TensorDataset<double> with_bad_pixel(const fs::path& dir, double bad, std::size_t y, std::size_t x) {
  write_files(dir);
  TensorDataset<double> train = training_split(dir);
  train.inputs()(bad_row, 0, y, x) = bad;
  return train;
}

TEST(Provenance, NonFiniteInputNamesItsRecordAndTheFirstParameterItHitsOnEveryPath) {
  const fs::path dir = scratch("nan");
  const TensorDataset<double> train = with_bad_pixel(dir, std::numeric_limits<double>::quiet_NaN(), 2, 3);
  const std::size_t r = train.origin(bad_row).record;
  const curv::nn::Sequential<double> model = mlp();
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(1);
  // The first weight that multiplies pixel (2, 3) = input feature 11: row 0 of fc1.weight, column 11.
  const std::size_t pixel = 2 * side + 3;
  const std::size_t expected = model.parameter("fc1.weight").offset + pixel;
  const curv::nn::ParameterElement hit = curv::nn::parameter_at(model, expected);
  ASSERT_EQ(hit.to_string(), "fc1.weight[0,11]");
  const std::string holds = "train-images-idx3-ubyte record " + std::to_string(r) + " (dataset row 150, ";
  const std::string what = "holds a non-finite input: nan at [0,2,3]; expected finite inputs. The first parameter "
                           "whose gradient it makes non-finite: fc1.weight[0,11]";
  for (std::ptrdiff_t bs : {1, 7, 64, -1}) {
    const Accumulator<double> acc(model, loss, train, {.batch_size = bs, .threads = 2});
    const std::size_t b = bs < 0 ? 0 : bad_row / static_cast<std::size_t>(bs);
    const std::string where = holds + "minibatch " + std::to_string(b + 1) + " of " + std::to_string(acc.num_batches()) + ") ";
    for (const auto& [name, call] : passes(acc, w)) {
      SCOPED_TRACE("batch size " + std::to_string(bs) + ", " + name);
      const DataError e = data_error_of(call);
      EXPECT_TRUE(contains(e.what(), where + what)) << e.what();
      EXPECT_EQ(e.row(), bad_row);
      EXPECT_EQ(e.origin().record, r);
      EXPECT_EQ(e.parameter(), expected);
    }
    curv::datasets::ModelObjective<double> obj(model, loss, train, {.batch_size = bs, .threads = 2, .seed = 4});
    for (std::size_t k = 0; k < obj.num_batches(); ++k) {
      const auto rows = obj.loader().indices(k);
      if (std::find(rows.begin(), rows.end(), bad_row) == rows.end()) continue;
      Tensor<double> g;
      const DataError e = data_error_of([&] { obj.batch_value_and_grad(k, w, g); });
      EXPECT_TRUE(contains(e.what(), holds)) << e.what();
      EXPECT_TRUE(contains(e.what(), what)) << e.what();
      EXPECT_EQ(e.parameter(), expected);
    }
  }
}

TEST(Provenance, InfiniteInputThroughAConvolutionNamesTheFirstKernelWeightThatReachesIt) {
  // conv1 (3×3, padding 1) → max-pool → tanh, fused by the Accumulator. Pixel
  // (3, 3), the bottom-right corner, is reached only by kernel rows and
  // columns 1 and 2: the first weight hit is conv1.weight[0,0,1,1].
  const fs::path dir = scratch("inf_conv");
  const TensorDataset<double> train = with_bad_pixel(dir, -std::numeric_limits<double>::infinity(), 3, 3);
  curv::nn::Sequential<double> model;
  model.emplace<curv::nn::Conv2d<double>>("conv1", curv::nn::Conv2dOptions{1, 2, 3, 1, 1});
  model.emplace<curv::nn::MaxPool2d<double>>("pool1", 2);
  model.emplace<curv::nn::Tanh<double>>("tanh1");
  model.emplace<curv::nn::Flatten<double>>("flatten");
  model.emplace<curv::nn::Linear<double>>("fc1", curv::nn::LinearOptions{2 * 2 * 2, classes});
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(3);
  const std::size_t expected = model.parameter("conv1.weight").offset + (1 * 3 + 1);
  for (bool fuse : {true, false}) {
    SCOPED_TRACE(fuse ? "fused" : "as given");
    const Accumulator<double> acc(model, loss, train, {.batch_size = 64, .threads = 2, .fuse = fuse});
    Tensor<double> g;
    const DataError e = data_error_of([&] { acc.value_and_grad(w, g); });
    EXPECT_TRUE(contains(e.what(), "holds a non-finite input: -inf at [0,3,3]")) << e.what();
    EXPECT_TRUE(contains(e.what(), "The first parameter whose gradient it makes non-finite: conv1.weight[0,0,1,1]"))
        << e.what();
    EXPECT_EQ(e.parameter(), expected);
  }
}

TEST(Provenance, NonFiniteTargetIsNamedByItsRecordAndFiniteDataOverflowIsNoError) {
  const fs::path dir = scratch("target");
  write_files(dir);
  TensorDataset<double> train = training_split(dir);
  const curv::nn::Sequential<double> model = mlp();
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  Tensor<double> w = model.initialize(1);

  // The objective contract: finite data at a w that overflows gives a
  // non-finite loss for the optimizer to retreat from, not an error.
  const Tensor<double> huge = w * 1e308;
  const Accumulator<double> acc(model, loss, train, {.batch_size = 64, .threads = 2});
  double value = 0;
  EXPECT_NO_THROW(value = acc.value(huge));
  EXPECT_FALSE(std::isfinite(value));

  train.targets()(bad_row) = std::numeric_limits<double>::infinity();
  const std::size_t r = train.origin(bad_row).record;
  const Accumulator<double> bad(model, loss, train, {.batch_size = 64, .threads = 2});
  const DataError e = data_error_of([&] { bad.value(w); });
  EXPECT_TRUE(contains(e.what(), "target inf of train-labels-idx1-ubyte record " + std::to_string(r) +
                                     " (dataset row 150, minibatch 3 of 8): expected finite targets"))
      << e.what();
}

TEST(Provenance, OfSeveralBadExamplesTheFirstInDatasetOrderIsReportedWhateverTheThreads) {
  const fs::path dir = scratch("several");
  write_files(dir);
  TensorDataset<double> train = training_split(dir);
  for (std::size_t row : {480, 300, 151}) train.inputs()(row, 0, 0, 0) = std::numeric_limits<double>::quiet_NaN();
  const curv::nn::Sequential<double> model = mlp();
  const curv::nn::SoftmaxCrossEntropy<double> loss;
  const Tensor<double> w = model.initialize(1);
  for (int threads : {1, 2})
    for (std::ptrdiff_t bs : {1, 7, 64}) {
      const Accumulator<double> acc(model, loss, train, {.batch_size = bs, .threads = threads});
      EXPECT_EQ(data_error_of([&] { acc.value(w); }).row(), 151u) << bs << " " << threads;
    }
}

TEST(Provenance, ParameterAtNamesTheElementOfEveryFlatIndex) {
  const curv::nn::Sequential<double> cnn = curv::nn::models::article_cnn<double>(3);
  // conv1.weight (32, 1, 3, 3) first: index 2·9 + 1·3 + 2 is [2,0,1,2].
  EXPECT_EQ(curv::nn::parameter_at(cnn, 23).to_string(), "conv1.weight[2,0,1,2]");
  const curv::nn::ParameterInfo bias = cnn.parameter("fc2.bias");
  const curv::nn::ParameterElement last = curv::nn::parameter_at(cnn, cnn.num_parameters() - 1);
  EXPECT_EQ(last.name, "fc2.bias");
  EXPECT_EQ(last.index, std::vector<std::size_t>{bias.size() - 1});
  EXPECT_EQ(last.flat, cnn.num_parameters() - 1);
  // Every index maps back to itself through the parameter's offset and shape.
  for (const curv::nn::ParameterInfo& p : cnn.parameters()) {
    const curv::nn::ParameterElement e = curv::nn::parameter_at(cnn, p.offset + p.size() / 2);
    EXPECT_EQ(e.name, p.name);
    std::size_t flat = 0;
    for (std::size_t d = 0; d < p.shape.size(); ++d) flat = flat * p.shape[d] + e.index[d];
    EXPECT_EQ(p.offset + flat, e.flat);
  }
  EXPECT_THROW(curv::nn::parameter_at(cnn, cnn.num_parameters()), std::out_of_range);
}

}  // namespace
