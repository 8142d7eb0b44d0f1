// Trains, through the installed curv only, a model of this project's own
// GatedBlock (gated_block.hpp) and curv's LayerNorm, GELU, Dropout and
// Residual on a synthetic classification task, and checks what training
// promises:
//   1. the block and the model pass the kit's derivative checks (float64
//      against finite differences, float32 against float64), in evaluation
//      and in training mode, where Dropout changes the output;
//   2. with Dropout active (training mode), the accumulated loss, gradient
//      and H·v at batch sizes 1 and 7 equal the whole set's to 1e-12
//      relative;
//   3. SCG and Adam each lower the loss;
//   4. Adam for N steps equals Adam for k steps resumed for N − k more, bit
//      for bit.
// Exits non-zero, printing every check that failed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <curv/datasets.hpp>
#include <curv/optim.hpp>
#include <curv/testing.hpp>

#include "gated_block.hpp"

namespace ad = curv::ad;
namespace ds = curv::datasets;
namespace nn = curv::nn;
namespace opt = curv::optim;
namespace testing = curv::testing;
using curv::Tensor;

namespace {

constexpr std::size_t kExamples = 90, kFeatures = 5, kWidth = 8, kClasses = 3;

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

// embed → GELU → GatedBlock → Residual(LayerNorm → Linear → GELU → Dropout →
// Linear) → LayerNorm → head.
template <class T>
std::shared_ptr<nn::Sequential<T>> model() {
  auto body = std::make_shared<nn::Sequential<T>>();
  body->template emplace<nn::LayerNorm<T>>("norm", kWidth);
  body->template emplace<nn::Linear<T>>("fc1", kWidth, 2 * kWidth);
  body->template emplace<nn::GELU<T>>("act");
  body->template emplace<nn::Dropout<T>>("drop", 0.25);
  body->template emplace<nn::Linear<T>>("fc2", 2 * kWidth, kWidth);
  my::GatedBlockOptions gated;
  gated.features = kWidth;
  gated.hidden = 12;
  gated.dropout = 0.25;
  auto net = std::make_shared<nn::Sequential<T>>();
  net->template emplace<nn::Linear<T>>("embed", kFeatures, kWidth);
  net->template emplace<nn::GELU<T>>("act");
  net->template emplace<my::GatedBlock<T>>("gated", gated);
  net->add("residual", std::make_shared<nn::Residual<T>>(body));
  net->template emplace<nn::LayerNorm<T>>("norm", kWidth);
  net->template emplace<nn::Linear<T>>("head", kWidth, kClasses);
  return net;
}

// Gaussian inputs labelled by a fixed random linear teacher: class argmax(A x).
ds::TensorDataset<double> teacher_data() {
  Tensor<double> x = testing::random_normal({kExamples, kFeatures}, 1);
  const Tensor<double> a = testing::random_normal({kClasses, kFeatures}, 2);
  Tensor<double> y = Tensor<double>::from_shape({kExamples});
  for (std::size_t i = 0; i < kExamples; ++i) {
    double best = -INFINITY;
    for (std::size_t c = 0; c < kClasses; ++c) {
      double s = 0;
      for (std::size_t j = 0; j < kFeatures; ++j) s += a(c, j) * x(i, j);
      if (s > best) best = s, y(i) = static_cast<double>(c);
    }
  }
  return ds::TensorDataset<double>(std::move(x), std::move(y));
}

// max |a − b| / max |b|.
double relative(const Tensor<double>& a, const Tensor<double>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  return diff / scale;
}

// A kit report: its worst element when it passed, every failure when not.
void expect(const testing::Report& r, const std::string& what) {
  char worst[64];
  std::snprintf(worst, sizeof worst, " (%zu comparisons, worst relative error %.3g)", r.comparisons.size(),
                r.max_rel_error());
  expect(r.ok(), what + (r.ok() ? std::string(worst) : ":\n" + r.message()));
}

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Σ y² of a module's output, in a context: tells whether the context changed it.
double output_energy(const nn::Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                     const nn::ForwardContext& context) {
  auto f = [&](const ad::Var<double>& p) { return ad::sum(ad::square(m.forward(p, p.tape().constant(x), context))); };
  return ad::value_and_grad(f, w).value;
}

void check_derivatives(const nn::ForwardContext& train) {
  my::GatedBlockOptions o;
  o.features = 4;
  o.hidden = 6;
  o.dropout = 0.3;
  const my::GatedBlock<double> block(o);
  const my::GatedBlock<float> block32(o);
  const Tensor<double> x = testing::random_normal({5, 4}, 3);
  // Away from LayerNorm's identity initialization, so its scale and shift matter.
  const Tensor<double> w = block.initialize(4) + 0.3 * testing::random_normal({block.num_parameters()}, 5);
  expect(output_energy(block, w, x, train) != output_energy(block, w, x, {}),
         "GatedBlock's Dropout changes its output in training mode");
  for (const nn::ForwardContext& context : {nn::ForwardContext{}, train}) {
    const std::string mode = context.training() ? "training" : "evaluation";
    expect(testing::check_module(block, w, x, context), "GatedBlock in float64 against finite differences, " + mode);
    expect(testing::check_module_float32(block32, block, w, x, context), "GatedBlock in float32 against float64, " + mode);
  }
  const auto net = model<double>();
  const Tensor<double> xn = testing::random_normal({6, kFeatures}, 6);
  const Tensor<double> wn = net->initialize(7) + 0.1 * testing::random_normal({net->num_parameters()}, 8);
  // The stack's third derivatives are large (LayerNorm of GELU outputs that
  // are nearly equal): with the kit's step ∛ε, central differences carry a
  // truncation error (∝ h², measured to scale so) above 1e-6 on a few H·v
  // elements; h = 5e-7 brings it under while the rounding error (∝ 1/h)
  // stays small.
  testing::CheckOptions fine;
  fine.step = 5e-7;
  expect(testing::check_module(*net, wn, xn, train, fine), "the model in float64 against finite differences, training");
  expect(testing::check_module_float32(*model<float>(), *net, wn, xn, train), "the model in float32 against float64, training");
}

}  // namespace

int main() {
  try {
    nn::ForwardContext train;
    train.mode = nn::Mode::train;
    train.seed = 17;
    train.epoch = 2;
    check_derivatives(train);

    const auto net = model<double>();
    const nn::SoftmaxCrossEntropy<double> loss;
    const ds::TensorDataset<double> data = teacher_data();
    const Tensor<double> w0 = net->initialize(9);
    auto objective = [&](std::ptrdiff_t batch_size) {
      ds::ModelObjectiveOptions o;  // training mode: the Accumulator's default
      o.batch_size = batch_size;
      o.seed = 23;
      return ds::ModelObjective<double>(*net, loss, data, o);
    };

    // Batch-size invariance with Dropout on, at an epoch other than 0.
    const Tensor<double> v = testing::random_normal({net->num_parameters()}, 10);
    Tensor<double> g_all, hv_all;
    auto whole = objective(-1);
    whole.begin_epoch(3);
    const double f_all = whole.hvp(w0, v, g_all, hv_all);
    expect(std::abs(f_all - whole.evaluate(w0).loss) > 1e-6 * f_all,
           "Dropout is active in the training loss (it differs from the evaluation-mode loss)");
    for (const std::ptrdiff_t b : {1, 7}) {
      Tensor<double> g, hv;
      auto batched = objective(b);
      batched.begin_epoch(3);
      const double f = batched.hvp(w0, v, g, hv);
      const double err = std::max({std::abs(f - f_all) / std::abs(f_all), relative(g, g_all), relative(hv, hv_all)});
      char line[160];
      std::snprintf(line, sizeof line, "batch size %td against the whole set: loss, gradient, H.v agree to %.3g relative (<= 1e-12)",
                    b, err);
      expect(err <= 1e-12, line);
    }

    // SCG and Adam lower the loss: SCG its training objective (epoch 0's
    // Dropout masks throughout), Adam the evaluation-mode loss.
    auto scg_objective = objective(16);
    const double f0 = scg_objective.value(w0);
    opt::ScgOptions so;
    so.max_iterations = 15;
    const opt::ScgResult<double> scg = opt::SCG<double>(so).minimize(scg_objective, w0);
    expect(scg.value < f0, "SCG lowers the training loss from " + std::to_string(f0) + " to " + std::to_string(scg.value));

    opt::AdamOptions ao;
    ao.max_iterations = 24;  // 4 epochs of 6 minibatches
    ao.learning_rate = 1e-2;
    auto adam_objective = objective(16);
    const opt::AdamResult<double> adam = opt::Adam<double>(ao).minimize(adam_objective, w0);
    const double before = ds::evaluate(*net, loss, data, w0).loss, after = ds::evaluate(*net, loss, data, adam.x).loss;
    expect(after < before, "Adam lowers the evaluation loss from " + std::to_string(before) + " to " + std::to_string(after));

    // Stopped at step 9 (mid-epoch 1), then resumed on a fresh objective.
    opt::AdamOptions first = ao;
    first.max_iterations = 9;
    auto first_objective = objective(16), resumed_objective = objective(16);
    opt::AdamState<double> state = opt::Adam<double>(first).minimize(first_objective, w0).state;
    const opt::AdamResult<double> resumed = opt::Adam<double>(ao).resume(resumed_objective, std::move(state));
    expect(resumed.state.step == adam.state.step && same_bits(resumed.state.w, adam.state.w) &&
               same_bits(resumed.state.exp_avg, adam.state.exp_avg) &&
               same_bits(resumed.state.exp_avg_sq, adam.state.exp_avg_sq),
           "Adam: 9 steps resumed for 15 more equal 24 steps bit for bit (w and both moments)");
  } catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("%d checks failed\n", failures);
  return failures == 0 ? 0 : 1;
}
