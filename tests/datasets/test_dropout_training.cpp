// Training through Dropout keeps the Accumulator's contract: for a fixed
// epoch the loss is one function of w, so value, gradient, H·v and G·v agree
// across batch sizes to 1e-12 in float64 and equal a whole-dataset tape's;
// H·v is exact; evaluate() runs without the masks; a subsample's curvature
// keeps each example's mask; an SGD run with its new mask per epoch resumes
// bit-identically.
#include <gtest/gtest.h>

#include <cstddef>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "curv/datasets.hpp"
#include "curv/nn.hpp"
#include "curv/optim.hpp"
#include "test_models.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
using curv::datasets::Accumulator;
using curv::datasets::ModelObjective;
using curv::datasets::TensorDataset;
namespace nn = curv::nn;

constexpr std::size_t n_examples = 60;
constexpr std::size_t features = 6;

template <class T>
double relative_error(const Tensor<T>& a, const Tensor<T>& b) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return err / scale;
}
double relative_error(double a, double b) { return std::abs(a - b) / std::abs(b); }

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Linear → tanh → Dropout(0.3) → Linear → GELU → Dropout(0.2) → Linear: two
// masks, one after a nonlinearity whose second derivative H·v meets.
std::shared_ptr<nn::Sequential<double>> net() {
  auto m = std::make_shared<nn::Sequential<double>>();
  m->emplace<nn::Linear<double>>("fc1", nn::LinearOptions{features, 10});
  m->emplace<nn::Tanh<double>>("act1");
  m->emplace<nn::Dropout<double>>("drop1", 0.3);
  m->emplace<nn::Linear<double>>("fc2", nn::LinearOptions{10, 8});
  m->emplace<nn::GELU<double>>("act2");
  m->emplace<nn::Dropout<double>>("drop2", 0.2);
  m->emplace<nn::Linear<double>>("fc3", nn::LinearOptions{8, 3});
  return m;
}

// The mean loss of the whole dataset on one tape, in `context` (rows empty:
// the dataset's rows are the positions), with its gradient and H·v.
curv::ad::Hvp<double> whole_dataset(const nn::Module<double>& model, const nn::Loss<double>& loss,
                                    const TensorDataset<double>& data, const Tensor<double>& w,
                                    const Tensor<double>& v, const nn::ForwardContext& context) {
  auto f = [&](const Var<double>& wv) {
    auto& tape = wv.tape();
    const Var<double> total = loss.forward(model.forward(wv, tape.constant(data.inputs()), context),
                                           data.targets(), nn::Reduction::sum);
    return total * (1.0 / static_cast<double>(data.size()));
  };
  return curv::ad::hvp(f, w, v);
}

// Row i of t as a batch of one.
Tensor<double> row_of(const Tensor<double>& t, std::size_t i) {
  curv::Shape shape(t.shape().begin(), t.shape().end());
  const std::size_t stride = t.size() / shape[0];
  shape[0] = 1;
  Tensor<double> out = Tensor<double>::from_shape(shape);
  std::copy_n(t.data() + i * stride, stride, out.data());
  return out;
}

nn::ForwardContext training(std::uint64_t seed, std::uint64_t epoch) {
  nn::ForwardContext c;
  c.mode = nn::Mode::train;
  c.seed = seed;
  c.epoch = epoch;
  return c;
}

struct Fixture {
  TensorDataset<double> data = curv::test::synthetic<double>(n_examples, features, 31);
  std::shared_ptr<nn::Sequential<double>> model = net();
  nn::SoftmaxCrossEntropy<double> loss;
  Tensor<double> w = model->initialize(4);
  Tensor<double> v = curv::test::uniform<double>({model->num_parameters()}, 5);
};

TEST(DropoutTraining, AgreesAcrossBatchSizesTo1e12AndWithTheWholeDatasetOnOneTape) {
  Fixture fx;
  const auto ref = whole_dataset(*fx.model, fx.loss, fx.data, fx.w, fx.v, training(17, 3));
  const auto plain = whole_dataset(*fx.model, fx.loss, fx.data, fx.w, fx.v, nn::ForwardContext{});
  EXPECT_GT(relative_error(ref.grad, plain.grad), 1e-3);  // the masks act
  for (const std::ptrdiff_t bs : {std::ptrdiff_t(1), std::ptrdiff_t(7), std::ptrdiff_t(32), std::ptrdiff_t(-1)}) {
    SCOPED_TRACE("batch size " + std::to_string(bs));
    Accumulator<double> acc(*fx.model, fx.loss, fx.data, {.batch_size = bs, .threads = 2, .seed = 17});
    acc.set_epoch(3);
    Tensor<double> g, hv, gv;
    EXPECT_LE(relative_error(acc.value(fx.w), ref.value), 1e-12);
    EXPECT_LE(relative_error(acc.hvp(fx.w, fx.v, g, hv), ref.value), 1e-12);
    EXPECT_LE(relative_error(g, ref.grad), 1e-12);
    EXPECT_LE(relative_error(hv, ref.hv), 1e-12);
    acc.gnvp(fx.w, fx.v, g, gv);
    if (bs == 1) {
      // G·v per example, summed here in dataset order: the reference for all.
      Tensor<double> sum = xt::zeros<double>({fx.w.size()});
      for (std::size_t i = 0; i < n_examples; ++i) {
        const std::vector<std::size_t> row{i};
        nn::ForwardContext c = training(17, 3);
        c.rows = row;
        const auto one = nn::gauss_newton_product<double>(
            *fx.model, fx.loss, fx.w, row_of(fx.data.inputs(), i), row_of(fx.data.targets(), i), fx.v, c);
        sum += one.gv;
      }
      EXPECT_LE(relative_error(gv, Tensor<double>(sum / static_cast<double>(n_examples))), 1e-12);
    }
    Accumulator<double> whole(*fx.model, fx.loss, fx.data, {.batch_size = -1, .threads = 1, .seed = 17});
    whole.set_epoch(3);
    Tensor<double> g1, gv1;
    whole.gnvp(fx.w, fx.v, g1, gv1);
    EXPECT_LE(relative_error(gv, gv1), 1e-12);
  }
}

TEST(DropoutTraining, HvIsExactAgainstFiniteDifferencesOfTheAccumulatedGradient) {
  Fixture fx;
  Accumulator<double> acc(*fx.model, fx.loss, fx.data, {.batch_size = 16, .threads = 2, .seed = 2});
  acc.set_epoch(1);
  Tensor<double> g, hv, gp, gm;
  acc.hvp(fx.w, fx.v, g, hv);
  const double h = 1e-5;
  acc.value_and_grad(Tensor<double>(fx.w + h * fx.v), gp);
  acc.value_and_grad(Tensor<double>(fx.w - h * fx.v), gm);
  EXPECT_LE(relative_error(hv, Tensor<double>((gp - gm) / (2 * h))), 1e-7);
}

TEST(DropoutTraining, EvaluateRunsWithoutMasksAndANewEpochDrawsNewOnes) {
  Fixture fx;
  Accumulator<double> acc(*fx.model, fx.loss, fx.data, {.batch_size = 16, .threads = 2, .seed = 2});
  const Accumulator<double> eval(*fx.model, fx.loss, fx.data, {.batch_size = 16, .threads = 2, .mode = nn::Mode::eval});
  const double plain = whole_dataset(*fx.model, fx.loss, fx.data, fx.w, fx.v, nn::ForwardContext{}).value;
  EXPECT_LE(relative_error(acc.evaluate(fx.w).loss, plain), 1e-12);
  EXPECT_LE(relative_error(eval.value(fx.w), plain), 1e-12);
  const double epoch0 = acc.value(fx.w);
  EXPECT_GT(relative_error(epoch0, plain), 1e-4);
  acc.set_epoch(1);
  EXPECT_NE(acc.value(fx.w), epoch0);
  acc.set_epoch(0);
  EXPECT_EQ(acc.value(fx.w), epoch0);
}

TEST(DropoutTraining, ASubsampledCurvatureProductKeepsEachExamplesMask) {
  Fixture fx;
  ModelObjective<double> f(*fx.model, fx.loss, fx.data,
                           {.batch_size = 8, .threads = 2, .seed = 6, .curvature_fraction = 0.25, .curvature_seed = 3});
  f.begin_epoch(2);
  Tensor<double> hv;
  f.sampled_hvp(1, fx.w, fx.v, hv);
  // The reference: each chosen example alone on a tape, told its dataset row.
  const std::vector<std::size_t> chosen = f.curvature_sample(1);
  Tensor<double> sum = xt::zeros<double>({fx.w.size()});
  for (const std::size_t i : chosen) {
    const std::vector<std::size_t> row{i};
    nn::ForwardContext c = training(6, 2);
    c.rows = row;
    const Tensor<double> x = row_of(fx.data.inputs(), i), y = row_of(fx.data.targets(), i);
    auto one = [&](const Var<double>& wv) {
      return fx.loss.forward(fx.model->forward(wv, wv.tape().constant(x), c), y, nn::Reduction::sum);
    };
    sum += curv::ad::hvp(one, fx.w, fx.v).hv;
  }
  EXPECT_LE(relative_error(hv, Tensor<double>(sum / static_cast<double>(chosen.size()))), 1e-12);
}

TEST(DropoutTraining, SgdWithANewMaskPerEpochResumesBitIdentically) {
  Fixture fx;
  auto objective = [&] {
    return ModelObjective<double>(*fx.model, fx.loss, fx.data, {.batch_size = 8, .threads = 2, .seed = 11});
  };
  curv::optim::SgdOptions opt;
  opt.learning_rate = 0.1;
  opt.momentum = 0.9;
  opt.max_iterations = 40;  // five epochs of eight minibatches
  auto f = objective();
  const auto whole = curv::optim::SGD<double>(opt).minimize(f, fx.w);
  curv::optim::SgdOptions part_opt = opt;
  part_opt.max_iterations = 19;  // stops inside epoch 2
  auto g = objective();
  const auto part = curv::optim::SGD<double>(part_opt).minimize(g, fx.w);
  auto fresh = objective();
  const auto rest = curv::optim::SGD<double>(opt).resume(fresh, part.state);
  EXPECT_TRUE(same_bits(rest.x, whole.x));
  // Without the masks the run goes elsewhere: they took part.
  const Accumulator<double> eval(*fx.model, fx.loss, fx.data, {.batch_size = 8, .threads = 2, .mode = nn::Mode::eval});
  EXPECT_GT(relative_error(eval.value(whole.x), f.value(whole.x)), 1e-6);
}

}  // namespace
