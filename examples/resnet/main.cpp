// resnet: a small ResNet-style network (He et al. 2016) for MNIST, built from
// curv's public layers only — Conv2d, Residual blocks with an identity and a
// stride-2 projection shortcut, GroupNorm, LayerNorm, GELU, Dropout,
// GlobalAvgPool2d — and trained with SCG or Adam. Prints the loss of every
// epoch with the validation loss and accuracy, then the test accuracy; both
// in evaluation mode (Dropout off).
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include <curv/datasets.hpp>
#include <curv/nn.hpp>
#include <curv/optim.hpp>

namespace ds = curv::datasets;
namespace nn = curv::nn;
namespace opt = curv::optim;
namespace fs = std::filesystem;
using T = float;
using ModulePtr = std::shared_ptr<const nn::Module<T>>;

namespace {

struct Config {
  std::string data = "data/mnist-small";
  std::string optimizer = "scg";
  std::size_t epochs = 10;
  std::size_t train_size = 1000, val_size = 500, test_size = 1000;
  std::size_t width = 8;  // channels of the first stage; the second has twice as many
  double dropout = 0.1;
  double learning_rate = 3e-3;
  std::ptrdiff_t batch_size = 50;
  std::uint64_t seed = 1;
  int threads = 0;
};

// A k×k convolution that keeps the image size at stride 1 ('same' padding).
ModulePtr conv(std::size_t in, std::size_t out, std::size_t k, std::size_t stride) {
  nn::Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel_size = k;
  o.stride = stride;
  o.padding = k / 2;
  return std::make_shared<nn::Conv2d<T>>(o);
}

// A basic block: y = body(x) + x, body = conv 3×3 (stride) → GroupNorm →
// GELU → Dropout → conv 3×3. Where the block changes the width or the image
// size, the shortcut is a 1×1 convolution of the same stride (a projection).
ModulePtr block(std::size_t in, std::size_t out, std::size_t stride, double p) {
  auto body = std::make_shared<nn::Sequential<T>>();
  body->add("conv1", conv(in, out, 3, stride));
  body->emplace<nn::GroupNorm<T>>("norm", out / 4, out);
  body->emplace<nn::GELU<T>>("act");
  body->emplace<nn::Dropout<T>>("drop", p);
  body->add("conv2", conv(out, out, 3, 1));
  if (in == out && stride == 1) return std::make_shared<nn::Residual<T>>(body);
  return std::make_shared<nn::Residual<T>>(body, conv(in, out, 1, stride));
}

// (N, 1, 28, 28) → stem (stride 2: 14×14) → block → block (stride 2: 7×7)
// → global average → LayerNorm → Dropout → 10 logits.
nn::Sequential<T> resnet(const Config& c) {
  const std::size_t w = c.width;
  nn::Sequential<T> m;
  m.add("stem", conv(1, w, 3, 2));
  m.emplace<nn::GELU<T>>("act0");
  m.add("block1", block(w, w, 1, c.dropout));
  m.emplace<nn::GELU<T>>("act1");
  m.add("block2", block(w, 2 * w, 2, c.dropout));
  m.emplace<nn::GELU<T>>("act2");
  m.emplace<nn::GlobalAvgPool2d<T>>("pool");
  m.emplace<nn::LayerNorm<T>>("norm", 2 * w);
  m.emplace<nn::Dropout<T>>("drop", c.dropout);
  m.emplace<nn::Linear<T>>("fc", 2 * w, std::size_t{10});
  return m;
}

// One line per epoch: the optimizer's loss ("loss": E(w) in training mode for
// SCG, the mean of the epoch's minibatch losses for Adam) and what the
// Validation callback before it measured.
class EpochPrinter final : public opt::Callback<T> {
 public:
  void on_begin(opt::CallbackContext<T>& c) override { print(c); }
  void on_epoch(opt::CallbackContext<T>& c) override { print(c); }

 private:
  static void print(const opt::CallbackContext<T>& c) {
    const auto metric = [&](const char* name) {
      const std::optional<double> v = c.metrics().find(name);
      return v ? std::to_string(*v) : std::string("-");
    };
    std::cout << "epoch " << c.epoch() << "  loss " << metric("loss") << "  val_loss " << metric("val_loss")
              << "  val_accuracy " << metric("val_accuracy") << "  seconds " << c.info().seconds << std::endl;
  }
};

int run(const Config& c) {
  if (!fs::is_directory(c.data)) {
    std::cerr << "resnet: no data folder " << c.data
              << " (run scripts/fetch-data.sh in curv's source folder, or pass --data DIR of MNIST IDX files)\n";
    return 1;
  }
  if (c.width % 4 != 0) throw std::invalid_argument("--width " + std::to_string(c.width) + ": expected a multiple of 4");
  const ds::TrainTest<T> files = ds::load_mnist<T>(c.data);
  if (c.train_size == 0 || c.train_size + c.val_size > files.train.size() || c.test_size == 0 ||
      c.test_size > files.test.size())
    throw std::invalid_argument(c.data + " holds " + std::to_string(files.train.size()) + " training and " +
                                std::to_string(files.test.size()) + " test images; expected --train-size >= 1, " +
                                "--train-size + --val-size and 1 <= --test-size within them");
  ds::SplitSizes sizes;
  sizes.train = c.train_size;
  sizes.validation = c.val_size;
  const ds::Splits<T> parts = ds::split(files.train, sizes, ds::mix_seed(c.seed, 1));
  const ds::TensorDataset<T> test = ds::random_subset(files.test, c.test_size, ds::mix_seed(c.seed, 2));

  const nn::Sequential<T> model = resnet(c);
  const nn::SoftmaxCrossEntropy<T> loss;
  const curv::Tensor<T> w0 = model.initialize(ds::mix_seed(c.seed, 3));
  std::cout << "model: " << model.describe() << "\nparameters: " << model.num_parameters() << "\ndata: "
            << parts.train.size() << " training, " << parts.validation.size() << " validation, " << test.size()
            << " test images from " << c.data << "\noptimizer: " << c.optimizer << ", " << c.epochs
            << " epochs, seed " << c.seed << std::endl;

  // Training mode: Dropout's mask is a function of the seed, the epoch and
  // the example, so the objective is one deterministic function per epoch.
  // SCG never calls begin_epoch: it minimizes the epoch-0 function throughout.
  ds::ModelObjectiveOptions oo;
  oo.batch_size = c.batch_size;
  oo.threads = c.threads;
  oo.seed = ds::mix_seed(c.seed, 4);
  ds::ModelObjective<T> objective(model, loss, parts.train, oo);
  ds::AccumulatorOptions eval;
  eval.threads = c.threads;
  ds::Validation<T> validation(model, loss, parts.validation, eval);
  EpochPrinter printer;
  const opt::Callbacks<T> callbacks{&validation, &printer};

  const ds::Evaluation start = ds::evaluate(model, loss, parts.train, w0, eval);
  opt::Result<T> result;  // SCG's or Adam's, without their states
  if (c.optimizer == "scg") {
    opt::ScgOptions o;
    o.max_iterations = c.epochs;
    o.record_trace = false;
    result = opt::SCG<T>(o).minimize(objective, w0, callbacks);
  } else {
    opt::AdamOptions o;
    o.max_iterations = std::numeric_limits<std::size_t>::max();
    o.max_epochs = c.epochs;
    o.learning_rate = c.learning_rate;
    o.record_trace = false;
    result = opt::Adam<T>(o).minimize(objective, w0, callbacks);
  }
  const ds::Evaluation end = ds::evaluate(model, loss, parts.train, result.x, eval);
  const ds::Evaluation tested = ds::evaluate(model, loss, test, result.x, eval);
  std::cout << "stopped: " << result.message << "\ntrain_loss_start=" << start.loss << " train_loss_end=" << end.loss << " train_accuracy=" << end.accuracy
            << "\ntest_loss=" << tested.loss << " test_accuracy=" << tested.accuracy << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"resnet: a small ResNet-style network trained on MNIST with SCG or Adam; prints the loss and\n"
               "validation accuracy per epoch and the test accuracy (both in evaluation mode: no Dropout)."};
  Config c;
  app.add_option("--data", c.data, "folder of MNIST-format IDX files (scripts/fetch-data.sh makes data/mnist-small)")
      ->capture_default_str();
  app.add_option("--optimizer", c.optimizer, "scg or adam")->check(CLI::IsMember({"scg", "adam"}))->capture_default_str();
  app.add_option("--epochs", c.epochs, "SCG iterations, or Adam's passes over the minibatches")->capture_default_str();
  app.add_option("--train-size", c.train_size, "training images")->capture_default_str();
  app.add_option("--val-size", c.val_size, "validation images (from the training file)")->capture_default_str();
  app.add_option("--test-size", c.test_size, "test images")->capture_default_str();
  app.add_option("--width", c.width, "channels of the first stage (a multiple of 4)")
      ->check(CLI::Range(std::size_t{4}, std::size_t{256}))
      ->capture_default_str();
  app.add_option("--dropout", c.dropout, "Dropout's probability")->check(CLI::Range(0.0, 0.99))->capture_default_str();
  app.add_option("--learning-rate", c.learning_rate, "Adam's learning rate")->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "minibatch size: Adam's steps, and how SCG accumulates (-1 = all)")
      ->capture_default_str();
  app.add_option("--seed", c.seed, "seed of the split, the initial weights, Dropout and the minibatch order")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "minibatches computed in parallel (0 = every core)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::cerr << "resnet: " << e.what() << "\n";
    return 1;
  }
}
