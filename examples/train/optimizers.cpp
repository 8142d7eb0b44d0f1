// curv-train's optimizer table and the Runners that drive each optimizer
// epoch by epoch.
#include "train/optimizers.hpp"

#include <cstdint>
#include <sstream>
#include <utility>

#include <curv/optim.hpp>

#include "train/messages.hpp"

namespace curv::examples {

namespace opt = curv::optim;

namespace {

template <class T>
class ScgRunner final : public Runner<T> {
 public:
  ScgRunner(datasets::ModelObjective<T>& obj, PassBar& bar, opt::ScgOptions o)
      : obj_(obj), bar_(bar), scg_(std::move(o)) {}

  void start(const Tensor<T>& w0) override { st_ = scg_.start(obj_, w0); }
  void save(opt::StateWriter& out) const override { scg_.save_state(st_, out); }
  void restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) override {
    st_ = scg_.load_state(in, dim, {epochs, "the --epochs " + std::to_string(epochs) + " of this run"});
  }
  std::size_t epoch() const override { return st_.iteration; }
  // The bar moves over each pass's minibatches (PassBar); it ends with the iteration.
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    bar_.begin_iteration("scg", st_.iteration + 1, epochs, st_.loss);
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
    if (opt::norm(st_.r) == 0) return "the gradient is exactly zero";
    if (st_.lambda >= scg_.options().lambda_max) return "λ reached lambda_max: no step along p decreases the loss";
    return "";
  }

 private:
  datasets::ModelObjective<T>& obj_;
  PassBar& bar_;
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
  FirstOrderRunner(datasets::ModelObjective<T>& obj, const datasets::Accumulator<T>& train, Opt o, const char* name)
      : obj_(obj), train_(train), opt_(std::move(o)), name_(name) {}

  void start(const Tensor<T>& w0) override { st_ = opt_.start(w0); }
  void save(opt::StateWriter& out) const override { opt_.save_state(st_, out); }
  void restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) override;
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
  datasets::ModelObjective<T>& obj_;
  const datasets::Accumulator<T>& train_;
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
void FirstOrderRunner<T, Opt, State>::restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) {
  const std::uint64_t nb = obj_.num_batches();
  st_ = opt_.load_state(in, dim,
                        {epochs > UINT64_MAX / nb ? UINT64_MAX : epochs * nb,
                         "--epochs " + std::to_string(epochs) + " of " + std::to_string(nb) + " minibatch steps"});
  entering_ = true;
}

// L-BFGS and nonlinear CG: one epoch is one accepted line-search step (however
// many passes its line search takes).
template <class T, class Opt, class State>
class LineSearchRunner final : public Runner<T> {
 public:
  LineSearchRunner(datasets::ModelObjective<T>& obj, PassBar& bar, Opt o, const char* name)
      : obj_(obj), bar_(bar), opt_(std::move(o)), name_(name) {}

  void start(const Tensor<T>& w0) override { st_ = opt_.start(obj_, w0); }
  void save(opt::StateWriter& out) const override { opt_.save_state(st_, out); }
  void restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) override;
  std::size_t epoch() const override { return st_.iteration; }
  // The bar moves over each pass's minibatches (PassBar); it ends with the iteration.
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    bar_.begin_iteration(name_, st_.iteration + 1, epochs, st_.loss);
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
    if (opt::norm(st_.g) == 0) return "the gradient is exactly zero";
    return "";
  }

 private:
  datasets::ModelObjective<T>& obj_;
  PassBar& bar_;
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
void LineSearchRunner<T, Opt, State>::restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) {
  st_ = opt_.load_state(in, dim, {epochs, "the --epochs " + std::to_string(epochs) + " of this run"});
}

template <class T>
std::unique_ptr<Runner<T>> make_scg(const TrainConfig& c, const RunnerInputs<T>& in) {
  opt::ScgOptions o;
  o.curvature = parse_curvature(c.curvature);
  o.gradient_tolerance = 0;
  o.record_trace = false;
  return std::make_unique<ScgRunner<T>>(in.objective, in.bar, o);
}

template <class T>
std::unique_ptr<Runner<T>> make_sgd(const TrainConfig& c, const RunnerInputs<T>& in) {
  opt::SgdOptions o;
  o.learning_rate = c.lr.value_or(find_optimizer("sgd").default_lr);
  o.momentum = c.momentum;
  o.record_trace = false;
  return std::make_unique<SgdRunner<T>>(in.objective, in.train, opt::SGD<T>(o), "sgd");
}

template <class T>
std::unique_ptr<Runner<T>> make_adam(const TrainConfig& c, const RunnerInputs<T>& in) {
  opt::AdamOptions o;
  o.learning_rate = c.lr.value_or(find_optimizer("adam").default_lr);
  o.record_trace = false;
  return std::make_unique<AdamRunner<T>>(in.objective, in.train, opt::Adam<T>(o), "adam");
}

template <class T>
std::unique_ptr<Runner<T>> make_lbfgs(const TrainConfig&, const RunnerInputs<T>& in) {
  opt::LbfgsOptions o;
  o.gradient_tolerance = 0;
  o.record_trace = false;
  return std::make_unique<LbfgsRunner<T>>(in.objective, in.bar, opt::LBFGS<T>(o), "lbfgs");
}

template <class T>
std::unique_ptr<Runner<T>> make_cg(const TrainConfig&, const RunnerInputs<T>& in) {
  opt::NonlinearCgOptions o;
  o.gradient_tolerance = 0;
  o.record_trace = false;
  return std::make_unique<CgRunner<T>>(in.objective, in.bar, opt::NonlinearCG<T>(o), "cg");
}

std::string with_lr(const TrainConfig& c) {
  return " lr " + num(c.lr.value_or(find_optimizer(c.optimizer).default_lr));
}
std::string line_search(const TrainConfig&) { return " (strong-Wolfe line search)"; }

}  // namespace

// The table. vectors_held counts the weights and a gradient (2) plus the
// state: SCG r, p, the trial point and H·p; L-BFGS ten (s, y) pairs; Adam
// two moments.
const std::vector<OptimizerEntry>& optimizer_table() {
  static const std::vector<OptimizerEntry> table = {
      {"scg", true, 0, false, true, 2 + 6,
       {"success", "lambda", "lambda_bar", "delta", "mu", "alpha", "comparison", "p_norm", "p_mean", "grad_norm",
        "grad_mean"},
       [](const TrainConfig& c) { return " curvature " + c.curvature; }, make_scg<float>, make_scg<double>},
      {"sgd", false, 1e-2, true, false, 2 + 2, {}, with_lr, make_sgd<float>, make_sgd<double>},
      {"adam", false, 1e-3, false, false, 2 + 4, {}, with_lr, make_adam<float>, make_adam<double>},
      {"lbfgs", true, 0, false, false, 2 + 24, {}, line_search, make_lbfgs<float>, make_lbfgs<double>},
      {"cg", true, 0, false, false, 2 + 6, {}, line_search, make_cg<float>, make_cg<double>},
  };
  return table;
}

std::string optimizers_that(bool (*takes)(const OptimizerEntry&)) {
  std::vector<std::string> names;
  for (const OptimizerEntry& e : optimizer_table())
    if (takes(e)) names.emplace_back(e.name);
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return s;
}

const OptimizerEntry& find_optimizer(const std::string& name) {
  for (const OptimizerEntry& e : optimizer_table())
    if (name == e.name) return e;
  bad_option("--optimizer", name, "expected " + optimizers_that([](const OptimizerEntry&) { return true; }));
}

opt::Curvature parse_curvature(const std::string& s) {
  if (s == "exact") return opt::Curvature::exact;
  if (s == "gauss-newton") return opt::Curvature::gauss_newton;
  if (s == "finite-difference") return opt::Curvature::finite_difference;
  bad_option("--curvature", s, "expected exact, gauss-newton or finite-difference");
}

}  // namespace curv::examples
