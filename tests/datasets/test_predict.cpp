// predict, predict_proba and predict_classes: each row the model's output for
// its own example, in dataset order, whatever the batch size, thread count or
// fusion, with no derivative recorded and errors naming what was found.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/nn.hpp"
#include "test_models.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using curv::datasets::PredictOptions;
using curv::datasets::TensorDataset;
using curv::test::TinyMlp;

constexpr std::size_t n_examples = 100;  // not a multiple of 7 or 64: short last batches
constexpr std::size_t features = 5;

template <class T>
bool bit_identical(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// max |a − b| / max |b| over all elements.
template <class T>
double max_relative_difference(const Tensor<T>& a, const Tensor<T>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return diff / scale;
}

// The model's output for `inputs` from one forward pass on a hand-made tape.
template <class T>
Tensor<T> forward_on_tape(const curv::nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs) {
  curv::ad::Tape<T> tape;
  return model.forward(tape.variable(w), tape.constant(inputs)).value();
}

// Rows [first, first + count) of x as a tensor of their own.
template <class T>
Tensor<T> rows(const Tensor<T>& x, std::size_t first, std::size_t count) {
  curv::Shape shape(x.shape().begin(), x.shape().end());
  shape[0] = count;
  Tensor<T> out = Tensor<T>::from_shape(shape);
  const std::size_t stride = x.size() / x.shape(0);
  std::copy(x.data() + first * stride, x.data() + (first + count) * stride, out.data());
  return out;
}

// n random 1 × 28 × 28 images with labels 0–9, for the article CNN.
template <class T>
TensorDataset<T> images(std::size_t n, std::uint64_t seed) {
  Tensor<T> x = curv::test::uniform<T>({n, 1, 28, 28}, seed);
  Tensor<T> y = Tensor<T>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<T>((i * 7 + seed) % 10);
  return TensorDataset<T>(std::move(x), std::move(y));
}

template <class T>
Tensor<T> predict(const curv::nn::Module<T>& model, const Tensor<T>& w, const TensorDataset<T>& data,
                  std::ptrdiff_t batch_size, int threads, bool fuse = true) {
  return curv::datasets::predict(model, w, data, {.batch_size = batch_size, .threads = threads, .fuse = fuse});
}

TEST(Predict, EveryRowIsTheModelsOutputForItsOwnExampleFromAHandMadeTape) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 4, 3);
  const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5);
  // One batch: the same ops on the same tensors as the whole set on one tape.
  const Tensor<double> all = predict(model, w, data, -1, 1);
  ASSERT_EQ(all.shape(), (curv::Shape{n_examples, 3}));
  EXPECT_TRUE(bit_identical(all, forward_on_tape(model, w, data.inputs())));
  // One example per batch: row i is example i alone on its own tape.
  const Tensor<double> single = predict(model, w, data, 1, 2);
  for (std::size_t i = 0; i < n_examples; ++i)
    ASSERT_TRUE(bit_identical(rows(single, i, 1), forward_on_tape(model, w, rows(data.inputs(), i, 1)))) << "row " << i;
}

TEST(Predict, SameBitsForEveryBatchSizeAndThreadCountOnAnMlp) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 4, 3);
  const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5);
  const Tensor<double> reference = predict(model, w, data, -1, 1);
  for (std::ptrdiff_t batch_size : {1, 7, 64, -1})
    for (int threads : {1, 2})
      EXPECT_TRUE(bit_identical(predict(model, w, data, batch_size, threads), reference))
          << "batch " << batch_size << ", " << threads << " threads";
}

// The CNN's GEMMs round a row differently at another position of the block
// (OpenBLAS's edge kernels and blocking depend on the matrix sizes): the same
// batch size gives the same bits on 1 and 2 threads, another batch size moves
// outputs by a few units in the last place (measured: 7.9e-16 in float64,
// 3.1e-7 in float32, relative to the largest output; docs/data.md).
template <class T>
void check_article_cnn_across_batch_sizes_and_threads(double tolerance) {
  const TensorDataset<T> data = images<T>(70, 1);
  const curv::nn::Sequential<T> model = curv::nn::models::article_cnn<T>();
  const Tensor<T> w = model.initialize(1);
  const Tensor<T> reference = predict(model, w, data, -1, 1);
  ASSERT_EQ(reference.shape(), (curv::Shape{70, 10}));
  for (std::ptrdiff_t batch_size : {1, 7, 64, -1}) {
    const Tensor<T> one_thread = predict(model, w, data, batch_size, 1);
    EXPECT_TRUE(bit_identical(predict(model, w, data, batch_size, 2), one_thread)) << "batch " << batch_size;
    EXPECT_LE(max_relative_difference(one_thread, reference), tolerance) << "batch " << batch_size;
  }
}

TEST(Predict, ArticleCnnIsBitIdenticalAcrossThreadsAndWithinRoundingAcrossBatchSizesFloat64) {
  check_article_cnn_across_batch_sizes_and_threads<double>(1e-14);
}

TEST(Predict, ArticleCnnIsBitIdenticalAcrossThreadsAndWithinRoundingAcrossBatchSizesFloat32) {
  check_article_cnn_across_batch_sizes_and_threads<float>(2e-6);
}

TEST(Predict, FusedAndUnfusedArticleCnnAgreeTo1e12InFloat64) {
  const TensorDataset<double> data = images<double>(20, 2);
  const curv::nn::Sequential<double> model = curv::nn::models::article_cnn<double>();
  const Tensor<double> w = model.initialize(3);
  const Tensor<double> fused = predict(model, w, data, 7, 2, true);
  const Tensor<double> unfused = predict(model, w, data, 7, 2, false);
  EXPECT_LE(max_relative_difference(fused, unfused), 1e-12);
  // The unfused pass is the model exactly as given.
  EXPECT_TRUE(bit_identical(predict(model, w, data, -1, 1, false), forward_on_tape<double>(model, w, data.inputs())));
}

TEST(Predict, ProbabilitiesAreTheStableSoftmaxOfTheOutputsAndEachRowSumsToOne) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 0, 3);
  for (double scale : {1.0, 1e4}) {  // 1e4: logits in the thousands, where exp overflows unshifted
    const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5, scale);
    const Tensor<double> z = curv::datasets::predict(model, w, data, {.batch_size = 7});
    const Tensor<double> p = curv::datasets::predict_proba(model, w, data, {.batch_size = 7});
    ASSERT_EQ(p.shape(), z.shape());
    for (std::size_t i = 0; i < n_examples; ++i) {
      long double m = z(i, 0), total = 0, sum_p = 0;
      for (std::size_t c = 1; c < 3; ++c) m = std::max<long double>(m, z(i, c));
      for (std::size_t c = 0; c < 3; ++c) total += std::exp(static_cast<long double>(z(i, c)) - m);
      for (std::size_t c = 0; c < 3; ++c) {
        const long double expected = std::exp(static_cast<long double>(z(i, c)) - m) / total;
        ASSERT_TRUE(std::isfinite(p(i, c)));
        EXPECT_NEAR(p(i, c), static_cast<double>(expected), 4e-16) << "row " << i << ", class " << c;
        sum_p += p(i, c);
      }
      EXPECT_NEAR(static_cast<double>(sum_p), 1.0, 4e-16) << "row " << i;
    }
  }
}

TEST(Predict, Float32ProbabilityRowsSumToOne) {
  const TensorDataset<float> data = images<float>(30, 4);
  const curv::nn::Sequential<float> model = curv::nn::models::article_cnn<float>();
  const Tensor<float> p = curv::datasets::predict_proba(model, model.initialize(2), data, {.batch_size = 8});
  ASSERT_EQ(p.shape(), (curv::Shape{30, 10}));
  for (std::size_t i = 0; i < 30; ++i) {
    double sum = 0;
    for (std::size_t c = 0; c < 10; ++c) sum += p(i, c);
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << i;
  }
}

TEST(Predict, ClassesAreTheFirstArgmaxAndAgreeWithAccumulatorEvaluate) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 4, 3);
  const curv::test::CrossEntropy<double> loss;
  const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5);
  const Tensor<double> z = curv::datasets::predict(model, w, data, {.batch_size = 7});
  const std::vector<std::size_t> classes = curv::datasets::predict_classes(model, w, data, {.batch_size = 7});
  ASSERT_EQ(classes.size(), n_examples);
  std::vector<std::size_t> class_count(3, 0), class_correct(3, 0);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n_examples; ++i) {
    for (std::size_t c = 0; c < 3; ++c) {
      if (c < classes[i]) {
        EXPECT_LT(z(i, c), z(i, classes[i])) << "row " << i;  // the first maximum
      } else {
        EXPECT_LE(z(i, c), z(i, classes[i])) << "row " << i;
      }
    }
    const auto label = static_cast<std::size_t>(data.targets()(i));
    ++class_count[label];
    if (classes[i] == label) {
      ++correct;
      ++class_correct[label];
    }
  }
  const curv::datasets::Evaluation e =
      curv::datasets::Accumulator<double>(model, loss, data, {.batch_size = 7}).evaluate(w);
  EXPECT_EQ(correct, e.correct);
  EXPECT_EQ(class_count, e.class_count);
  EXPECT_EQ(class_correct, e.class_correct);
  EXPECT_GT(correct, 0u);
  EXPECT_LT(correct, n_examples);  // some wrong too, so the comparison can tell
  // All-zero weights: every output 0, every row a three-way tie, class 0.
  const Tensor<double> zero = xt::zeros<double>({model.num_parameters()});
  const std::vector<std::size_t> tied = curv::datasets::predict_classes(model, zero, data);
  EXPECT_TRUE(std::all_of(tied.begin(), tied.end(), [](std::size_t c) { return c == 0; }));
  const curv::datasets::Evaluation e0 = curv::datasets::Accumulator<double>(model, loss, data).evaluate(zero);
  EXPECT_EQ(e0.correct, e0.class_count[0]);
}

TEST(Predict, OneInputTensorGivesWhatTheDatasetGives) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 4, 3);
  const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5);
  const PredictOptions options{.batch_size = 7, .threads = 2};
  EXPECT_TRUE(bit_identical(curv::datasets::predict(model, w, data.inputs(), options),
                            curv::datasets::predict(model, w, data, options)));
  EXPECT_TRUE(bit_identical(curv::datasets::predict_proba(model, w, data.inputs(), options),
                            curv::datasets::predict_proba(model, w, data, options)));
  EXPECT_EQ(curv::datasets::predict_classes(model, w, data.inputs(), options),
            curv::datasets::predict_classes(model, w, data, options));
}

// Wraps a model and records what its forward pass is given.
class Probe final : public curv::nn::Module<double> {
 public:
  explicit Probe(const curv::nn::Module<double>& inner) : inner_(inner) {}
  std::size_t num_parameters() const override { return inner_.num_parameters(); }
  Var<double> forward(const Var<double>& w, const Var<double>& input) const override {
    if (w.has_tangent() || input.has_tangent()) ++with_tangent;
    if (w.value().data() == expected_w) ++borrowed_w;
    ++calls;
    const Var<double> out = inner_.forward(w, input);
    if (out.has_tangent()) ++with_tangent;
    // A constant w gets no adjoint from a sweep; a variable would get Σ ∂out/∂w.
    w.tape().backward(curv::ad::sum(out));
    const Tensor<double> g = w.grad();
    if (std::any_of(g.begin(), g.end(), [](double x) { return x != 0; })) ++w_has_gradient;
    return out;
  }
  const double* expected_w = nullptr;
  mutable std::atomic<int> calls{0}, with_tangent{0}, borrowed_w{0}, w_has_gradient{0};

 private:
  const curv::nn::Module<double>& inner_;
};

TEST(Predict, ForwardPassesReadTheCallersWInPlaceAsAConstantWithNoTangent) {
  const TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 3);
  const TinyMlp<double> model(features, 4, 3);
  Probe probe(model);
  const Tensor<double> w = curv::test::uniform<double>({model.num_parameters()}, 5);
  probe.expected_w = w.data();
  const Tensor<double> out = curv::datasets::predict(probe, w, data, {.batch_size = 7, .threads = 2});
  EXPECT_EQ(probe.calls, 15);  // ⌈100 / 7⌉ batches, each run once
  EXPECT_EQ(probe.borrowed_w, 15);
  EXPECT_EQ(probe.with_tangent, 0);
  EXPECT_EQ(probe.w_has_gradient, 0);
  EXPECT_TRUE(bit_identical(out, curv::datasets::predict(model, w, data, {.batch_size = 7})));
}

// Gives the inner model's (batch, 3) output reshaped to (batch, 3, 1), or
// its sum over the batch.
class Reshaped final : public curv::nn::Module<double> {
 public:
  Reshaped(const curv::nn::Module<double>& inner, bool sum) : inner_(inner), sum_(sum) {}
  std::size_t num_parameters() const override { return inner_.num_parameters(); }
  Var<double> forward(const Var<double>& w, const Var<double>& input) const override {
    const Var<double> out = inner_.forward(w, input);
    if (sum_) return curv::ad::sum(out, 0);
    return curv::ad::reshape(out, curv::Shape{out.shape()[0], out.shape()[1], 1});
  }

 private:
  const curv::nn::Module<double>& inner_;
  bool sum_;
};

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

TEST(Predict, RefusesBadArgumentsAndOutputsNamingWhatWasFoundAndExpected) {
  using curv::datasets::predict;
  using curv::datasets::predict_classes;
  using curv::datasets::predict_proba;
  const TensorDataset<double> data = curv::test::synthetic<double>(10, features, 3);
  const TinyMlp<double> model(features, 0, 3);  // 18 parameters
  const Tensor<double> w = xt::zeros<double>({18});
  const Tensor<double> short_w = xt::zeros<double>({5});
  EXPECT_EQ(message_of([&] { predict(model, short_w, data); }),
            "curv::datasets::predict: w has shape (5,), expected (18,) (the model's num_parameters())");
  EXPECT_EQ(message_of([&] { predict_classes(model, short_w, data.inputs()); }),
            "curv::datasets::predict_classes: w has shape (5,), expected (18,) (the model's num_parameters())");
  EXPECT_EQ(message_of([&] { predict_proba(model, w, data, {.batch_size = 0}); }),
            "curv::datasets::predict_proba: batch_size = 0, expected a positive count or -1 (the whole dataset)");
  EXPECT_EQ(message_of([&] { predict(model, w, data, {.threads = -1}); }),
            "curv::datasets::predict: threads = -1, expected 0 (all cores) or a positive count");
  const TensorDataset<double> empty(Tensor<double>::from_shape({0, features}), Tensor<double>::from_shape({0}));
  EXPECT_EQ(message_of([&] { predict(model, w, empty); }),
            "curv::datasets::predict: the dataset is empty; expected at least one example");
  EXPECT_EQ(message_of([&] { predict(model, w, Tensor<double>::from_shape({0, features})); }),
            "curv::datasets::predict: inputs have shape (0, 5), expected (examples, …) with at least one example");

  const Reshaped three_d(model, false);
  EXPECT_EQ(message_of([&] { predict_proba(three_d, w, data, {.batch_size = 4}); }),
            "curv::datasets::predict_proba: the model's output for examples [0, 4) has shape (4, 3, 1), "
            "expected (4, classes)");
  EXPECT_EQ(message_of([&] { predict_classes(three_d, w, data.inputs(), {.batch_size = 4}); }),
            "curv::datasets::predict_classes: the model's output for examples [0, 4) has shape (4, 3, 1), "
            "expected (4, classes)");
  // predict takes any output with one row per example.
  EXPECT_EQ(predict(three_d, w, data, {.batch_size = 4}).shape(), (curv::Shape{10, 3, 1}));
  const Reshaped summed(model, true);
  EXPECT_EQ(message_of([&] { predict(summed, w, data, {.batch_size = 4}); }),
            "curv::datasets::predict: the model's output for examples [0, 4) has shape (3,), "
            "expected (4, …) (one row per example)");
}

}  // namespace
