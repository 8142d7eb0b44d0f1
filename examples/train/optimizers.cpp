// curv-train's optimizer table and the one Runner that drives any optimizer
// of optim epoch by epoch.
#include "train/optimizers.hpp"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <type_traits>
#include <utility>

#include <curv/datasets/l2_groups.hpp>
#include <curv/optim.hpp>

#include "train/messages.hpp"

namespace curv::examples {

namespace opt = curv::optim;

namespace {

// What curv-train reads from an optimizer's type.
template <class Options>
constexpr bool has_lr = requires(Options o) { o.learning_rate; };
template <class Options>
constexpr bool has_momentum = requires(Options o) { o.momentum; };
template <class Options>
constexpr bool has_curvature = requires(Options o) { o.curvature; };
template <class Options>
constexpr bool has_lambda_initial = requires(Options o) { o.lambda_initial; };
template <class Options>
constexpr bool has_schedule = requires(Options o) { o.schedule; };
template <class Options>
constexpr bool has_clipping = requires(Options o) { o.clip_grad_norm; };
// An optimizer that starts without evaluating the objective steps on its
// minibatches (SGD, Adam); one that evaluates it first works on the whole set.
template <class Opt, class T>
constexpr bool on_minibatches = requires(const Opt& o, const Tensor<T>& w) { o.start(w); };

template <class Opt>
using OptionsOf = std::remove_cvref_t<decltype(std::declval<const Opt&>().options())>;
template <class Opt>
using StateOf = std::remove_cvref_t<decltype(std::declval<const Opt&>().load_state(
    std::declval<const opt::StateReader&>(), std::size_t{}))>;
template <class Opt, class T>
using StepOf = decltype(std::declval<const Opt&>().step(std::declval<datasets::ModelObjective<T>&>(),
                                                        std::declval<StateOf<Opt>&>()));

// The optimizer's options from curv-train's: the ones its Options have
// (the schedule's positions from `batches`, the objective's minibatches).
template <class Options>
Options options_of(const OptimizerEntry& e, const TrainConfig& c, std::size_t batches) {
  Options o;
  o.record_trace = false;  // the log is curv-train's
  if constexpr (requires { o.gradient_tolerance; }) o.gradient_tolerance = 0;  // --epochs ends a run
  if constexpr (has_lr<Options>) o.learning_rate = c.lr.value_or(e.default_lr);
  if constexpr (has_momentum<Options>) o.momentum = c.momentum;
  if constexpr (has_curvature<Options>) o.curvature = parse_curvature(c.curvature);
  if constexpr (has_lambda_initial<Options>) o.lambda_initial = c.lambda_initial.value_or(o.lambda_initial);
  if constexpr (has_schedule<Options>) {
    o.accumulate = c.accumulate;
    o.schedule = parse_lr_schedule(c.lr_schedule, c.epochs, (batches + c.accumulate - 1) / c.accumulate);
  }
  if constexpr (has_clipping<Options>) o.clip_grad_norm = c.clip_grad_norm;
  return o;
}

// Any optimizer of optim behind the loop. A full-dataset optimizer's epoch is
// one step() (the bar moves over each pass's minibatches and ends with the
// iteration); a minibatch optimizer's epoch is num_batches() steps,
// stoppable between them, its training loss from `train` (the arithmetic of
// obj.value, cancellable between minibatches). `stalled(opt, state)` says why
// an optimizer can go no further when it has its own reason (SCG's λ).
// With --weight-decay every optimizer sees the objective through
// optim::L2Penalty on the model's weights; the logged training loss stays
// the data's mean loss.
template <class T, class Opt, class Stalled>
class OptimizerRunner final : public Runner<T> {
  static constexpr bool minibatch = on_minibatches<Opt, T>;
  static constexpr bool line_search = std::is_same_v<StepOf<Opt, T>, opt::LineSearchStep>;

 public:
  OptimizerRunner(const OptimizerEntry& entry, const TrainConfig& c, const RunnerInputs<T>& in, Stalled stalled)
      : entry_(entry),
        in_(in),
        opt_(options_of<OptionsOf<Opt>>(entry, c, in.objective.num_batches())),
        stalled_(std::move(stalled)) {
    if (c.weight_decay > 0) penalized_.emplace(in.objective, datasets::l2_groups(in.model, c.weight_decay));
  }

  void start(const Tensor<T>& w0) override {
    if constexpr (minibatch)
      st_ = opt_.start(w0);
    else
      objective([&](auto& obj) { st_ = opt_.start(obj, w0); });
  }
  void save(opt::StateWriter& out) const override { opt_.save_state(st_, out); }
  void restore(const opt::StateReader& in, std::size_t dim, std::size_t epochs) override {
    if constexpr (minibatch) {
      const std::uint64_t nb = steps_per_epoch();
      st_ = opt_.load_state(in, dim, {epochs > UINT64_MAX / nb ? UINT64_MAX : epochs * nb,
                                      "--epochs " + std::to_string(epochs) + " of " + std::to_string(nb) +
                                          " minibatch steps"});
    } else {
      st_ = opt_.load_state(in, dim, {epochs, "the --epochs " + std::to_string(epochs) + " of this run"});
    }
    entering_ = true;
  }
  std::size_t epoch() const override {
    if constexpr (minibatch)
      return st_.step / steps_per_epoch();
    else
      return st_.iteration;
  }
  bool run_epoch(Progress& progress, std::size_t epochs) override {
    if constexpr (minibatch)
      return run_minibatches(progress, epochs);
    else
      return run_iteration(progress, epochs);
  }
  const Tensor<T>& w() const override { return st_.w; }
  double train_loss() override {
    if constexpr (minibatch)
      return in_.train.value(st_.w);
    else
      return penalized_ ? static_cast<double>(st_.loss) - penalized_->penalty(st_.w) : st_.loss;
  }
  double passes() const override { return st_.passes; }
  double seconds() const override { return st_.seconds; }
  std::vector<CsvCell> extra() const override {
    std::vector<CsvCell> cells;
    for (const LogColumn& c : entry_.log_columns) cells.push_back(c.value(info_));
    return cells;
  }
  std::string summary() const override { return entry_.summary ? entry_.summary(info_) : ""; }
  std::string finished() const override {
    if (!failed_.empty()) return failed_;
    if (!minibatch && info_.grad_norm == 0) return "the gradient is exactly zero";
    return stalled_(opt_, st_);
  }
  bool stepped() const override { return stepped_; }
  void report_metric(double metric) override {
    if constexpr (requires { opt_.report_metric(st_, metric); }) opt_.report_metric(st_, metric);
  }

 private:
  // f(objective): the optimizer's objective, penalized with --weight-decay.
  template <class F>
  decltype(auto) objective(F&& f) {
    if (penalized_) return f(*penalized_);
    return f(in_.objective);
  }

  // Update steps per epoch: one per --accumulate minibatches.
  std::size_t steps_per_epoch() const {
    if constexpr (minibatch)
      return opt_.steps_per_epoch(in_.objective);
    else
      return 1;
  }

  bool run_iteration(Progress& progress, std::size_t epochs) {
    in_.bar.begin_iteration(entry_.name, st_.iteration + 1, epochs, st_.loss);
    auto s = objective([&](auto& obj) { return opt_.step(obj, st_); });
    progress.end();
    if constexpr (line_search) {
      stepped_ = s.accepted;
      if (!s.accepted) {
        failed_ = s.message;
        return true;
      }
      info_ = s.info;
    } else {
      info_ = s;
    }
    this->count_step();
    return true;
  }

  bool run_minibatches(Progress& progress, std::size_t epochs) {
    const std::size_t nb = steps_per_epoch();
    const std::size_t target = (epoch() + 1) * nb;
    progress.begin(std::string(entry_.name) + " epoch " + std::to_string(epoch() + 1) + "/" + std::to_string(epochs),
                   nb);
    double sum = 0;
    std::size_t count = 0;
    while (st_.step < target) {
      if (stop_requested()) {
        progress.end();
        return false;
      }
      info_ = objective([&](auto& obj) { return opt_.step(obj, st_, entering_); });  // NonFiniteError leaves st_ as it was
      entering_ = false;
      sum += info_.loss;
      ++count;
      progress.update(st_.step - (target - nb), sum / static_cast<double>(count));
      this->count_step();
    }
    progress.end();
    return true;
  }

  const OptimizerEntry& entry_;
  RunnerInputs<T> in_;
  Opt opt_;
  Stalled stalled_;
  StateOf<Opt> st_;
  std::optional<opt::L2Penalty<T, datasets::ModelObjective<T>>> penalized_;
  opt::IterationInfo info_;
  bool entering_ = true;  // a minibatch run's first step (re)fixes its epoch's minibatch order
  bool stepped_ = true;
  std::string failed_;
};

struct NeverStalled {
  template <class Opt, class State>
  std::string operator()(const Opt&, const State&) const {
    return "";
  }
};

// The table entry of optimizer template Opt: `e`'s data, and what comes from Opt.
template <template <class> class Opt, class Stalled = NeverStalled>
OptimizerEntry optimizer_entry(OptimizerEntry e, Stalled stalled = {}) {
  using Options = OptionsOf<Opt<double>>;
  e.full_dataset = !on_minibatches<Opt<double>, double>;
  e.line_search = std::is_same_v<StepOf<Opt<double>, double>, opt::LineSearchStep>;
  e.takes_lr = has_lr<Options>;
  e.takes_momentum = has_momentum<Options>;
  e.takes_curvature = has_curvature<Options>;
  if constexpr (has_lambda_initial<Options>) {
    e.takes_lambda_initial = true;
    e.default_lambda_initial = Options{}.lambda_initial;
    e.lambda_min = Options{}.lambda_min;
    e.lambda_max = Options{}.lambda_max;
  }
  assert(e.takes_lr == (e.default_lr > 0) && "an optimizer with a learning rate needs its --lr default");
  // The runner finds its entry by name: the table's own copy outlives every run.
  e.make_float = [stalled](const TrainConfig& c, const RunnerInputs<float>& in) -> std::unique_ptr<Runner<float>> {
    return std::make_unique<OptimizerRunner<float, Opt<float>, Stalled>>(find_optimizer(c.optimizer), c, in, stalled);
  };
  e.make_double = [stalled](const TrainConfig& c, const RunnerInputs<double>& in) -> std::unique_ptr<Runner<double>> {
    return std::make_unique<OptimizerRunner<double, Opt<double>, Stalled>>(find_optimizer(c.optimizer), c, in, stalled);
  };
  return e;
}

std::string scg_summary(const opt::IterationInfo& i) {
  std::ostringstream s;
  s.precision(3);
  s << (i.success ? "success" : "fail   ") << " λ=" << i.lambda << " δ=" << i.delta << " α=" << i.alpha
    << " Δ=" << i.comparison << " |g|=" << i.grad_norm;
  return s.str();
}

std::string line_search_summary(const opt::IterationInfo& i) {
  std::ostringstream s;
  s.precision(3);
  s << "α=" << i.alpha << " |g|=" << i.grad_norm << (i.restarted ? " restarted" : "");
  return s.str();
}

// SCG's own reason to stop: λ at its ceiling.
auto scg_stalled = [](const auto& scg, const auto& st) -> std::string {
  return st.lambda >= scg.options().lambda_max ? "λ reached lambda_max: no step along p decreases the loss" : "";
};

std::string hf_summary(const opt::IterationInfo& i) {
  std::ostringstream s;
  s.precision(3);
  s << (i.success ? "success" : "reject ") << " λ=" << i.lambda << " cg=" << i.cg_iterations << " ρ=" << i.rho
    << " α=" << i.alpha << " |g|=" << i.grad_norm << (i.negative_curvature ? " negative-curvature" : "");
  return s.str();
}

std::string trust_ncg_summary(const opt::IterationInfo& i) {
  std::ostringstream s;
  s.precision(3);
  s << (i.success ? "success" : "reject ") << " Δ=" << i.radius << " cg=" << i.cg_iterations << " ρ=" << i.rho
    << " |p|=" << i.p_norm << " |g|=" << i.grad_norm << (i.negative_curvature ? " negative-curvature" : "");
  return s.str();
}

// Hessian-free's own reason to stop: λ at its ceiling; TR-NCG's: a radius below rounding.
auto hf_stalled = [](const auto& hf, const auto& st) -> std::string {
  return st.lambda >= hf.options().lambda_max ? "λ reached lambda_max: no step decreases the loss" : "";
};
auto trust_ncg_stalled = [](const auto& tr, const auto& st) -> std::string {
  return st.radius < tr.smallest_radius(st.w) ? "the trust radius shrank below rounding of w" : "";
};

using Info = opt::IterationInfo;

}  // namespace

LogColumn::LogColumn(const char* column, double Info::*field)
    : name(column), value([field](const Info& i) -> CsvCell { return i.*field; }) {}
LogColumn::LogColumn(const char* column, bool Info::*field)
    : name(column), value([field](const Info& i) -> CsvCell { return static_cast<long long>(i.*field ? 1 : 0); }) {}

std::vector<std::string> OptimizerEntry::column_names() const {
  std::vector<std::string> names;
  for (const LogColumn& c : log_columns) names.push_back(c.name);
  return names;
}

std::string OptimizerEntry::describe(const TrainConfig& c) const {
  std::string s;
  if (takes_lr) s += " lr " + num(c.lr.value_or(default_lr));
  if (!c.lr_schedule.empty()) s += " lr-schedule " + c.lr_schedule;
  if (c.accumulate != 1) s += " accumulate " + std::to_string(c.accumulate);
  if (c.weight_decay != 0) s += " weight-decay " + num(c.weight_decay);
  if (c.clip_grad_norm) s += " clip-grad-norm " + num(*c.clip_grad_norm);
  if (takes_curvature) s += " curvature " + c.curvature;
  if (c.lambda_initial) s += " lambda-initial " + num(*c.lambda_initial);
  if (c.curvature_fraction != 1) s += " curvature-fraction " + num(c.curvature_fraction);
  if (line_search) s += " (strong-Wolfe line search)";
  return s;
}

// The table. vectors_held counts the weights and a gradient (2)
// plus the state: SCG r, p, the trial point and H·p; L-BFGS ten (s, y)
// pairs; Adam two moments; HF the CG vectors and the iterates kept for
// backtracking (⌈1.3ʲ⌉ up to 250); TR-NCG the CG vectors and the trial
// point.
const std::vector<OptimizerEntry>& optimizer_table() {
  static const std::vector<OptimizerEntry> table = {
      optimizer_entry<opt::SCG>({.name = "scg",
                                 .vectors_held = 2 + 6,
                                 .log_columns = {{"success", &Info::success}, {"lambda", &Info::lambda},
                                                 {"lambda_bar", &Info::lambda_bar}, {"delta", &Info::delta},
                                                 {"mu", &Info::mu}, {"alpha", &Info::alpha},
                                                 {"comparison", &Info::comparison}, {"p_norm", &Info::p_norm},
                                                 {"p_mean", &Info::p_mean}, {"grad_norm", &Info::grad_norm},
                                                 {"grad_mean", &Info::grad_mean}},
                                 .summary = scg_summary},
                                scg_stalled),
      optimizer_entry<opt::SGD>({.name = "sgd", .default_lr = 1e-2, .vectors_held = 2 + 2}),
      optimizer_entry<opt::Adam>({.name = "adam", .default_lr = 1e-3, .vectors_held = 2 + 4}),
      optimizer_entry<opt::LBFGS>(
          {.name = "lbfgs", .vectors_held = 2 + 24, .summary = line_search_summary}),
      optimizer_entry<opt::NonlinearCG>(
          {.name = "cg", .vectors_held = 2 + 6, .summary = line_search_summary}),
      optimizer_entry<opt::HessianFree>({.name = "hf",
                                         .vectors_held = 2 + 30,
                                         .log_columns = {{"success", &Info::success}, {"lambda", &Info::lambda},
                                                         {"cg_iterations", &Info::cg_iterations},
                                                         {"rho", &Info::rho}, {"alpha", &Info::alpha},
                                                         {"negative_curvature", &Info::negative_curvature},
                                                         {"p_norm", &Info::p_norm}, {"grad_norm", &Info::grad_norm}},
                                         .summary = hf_summary,
                                         .subsampled_curvature = true},
                                        hf_stalled),
      optimizer_entry<opt::TrustRegionNewtonCG>(
          {.name = "trust-ncg",
           .vectors_held = 2 + 8,
           .log_columns = {{"success", &Info::success}, {"radius", &Info::radius},
                           {"cg_iterations", &Info::cg_iterations}, {"rho", &Info::rho},
                           {"negative_curvature", &Info::negative_curvature}, {"p_norm", &Info::p_norm},
                           {"grad_norm", &Info::grad_norm}},
           .summary = trust_ncg_summary,
           .subsampled_curvature = true},
          trust_ncg_stalled),
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

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char ch : s)
    if (ch == sep)
      parts.emplace_back();
    else
      parts.back() += ch;
  return parts;
}

// One --lr-schedule spec being read: every refusal quotes the whole spec and names the part.
class ScheduleSpec {
 public:
  explicit ScheduleSpec(const std::string& spec) : spec_(spec) {}

  [[noreturn]] void fail(const std::string& why) const { bad_option("--lr-schedule", spec_, why); }

  double number(const std::string& part, const std::string& what) const {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || !std::isfinite(v))
      fail("'" + part + "' (" + what + "): expected a number");
    return v;
  }
  std::size_t whole(const std::string& part, const std::string& what) const {
    if (part.empty() || part.size() > 18 || part.find_first_not_of("0123456789") != std::string::npos)
      fail("'" + part + "' (" + what + "): expected a whole number");
    return std::stoull(part);
  }
  // "name:a:b": the arguments after the name, between `least` and `most` of them.
  std::vector<std::string> args(const std::string& rule, std::size_t least, std::size_t most,
                                const std::string& usage) const {
    std::vector<std::string> a = split(rule, ':');
    a.erase(a.begin());
    if (a.size() < least || a.size() > most) fail("'" + rule + "': expected " + usage);
    return a;
  }

 private:
  const std::string& spec_;
};

}  // namespace

opt::Schedule parse_lr_schedule(const std::string& spec, std::size_t epochs, std::size_t steps_per_epoch) {
  namespace sch = opt::schedule;
  const ScheduleSpec p(spec);
  if (spec.empty()) return {};
  std::string body = spec;
  std::optional<opt::ScheduleUnit> unit;
  if (const std::size_t at = body.rfind('@'); at != std::string::npos) {
    const std::string u = body.substr(at + 1);
    if (u != "epoch" && u != "step") p.fail("'@" + u + "': expected @epoch or @step");
    unit = u == "step" ? opt::ScheduleUnit::step : opt::ScheduleUnit::epoch;
    body.resize(at);
  }
  std::vector<std::string> parts = split(body, ',');
  if (parts.size() > 2) p.fail("expected at most a warm-up and one rule, separated by one comma");
  sch::LinearWarmup warmup;
  if (parts[0].substr(0, parts[0].find(':')) == "warmup") {
    const auto a = p.args(parts[0], 1, 2, "warmup:N[:START_FACTOR]");
    warmup.steps = p.whole(a[0], "warm-up length");
    if (a.size() > 1) warmup.start_factor = p.number(a[1], "warm-up start factor");
    parts.erase(parts.begin());
    if (parts.empty()) parts.emplace_back("constant");
  } else if (parts.size() == 2) {
    p.fail("'" + parts[0] + "': expected warmup:N[:START_FACTOR] before the comma");
  }
  const std::string& rule = parts[0];
  const std::string name = rule.substr(0, rule.find(':'));
  opt::Schedule::Rule r;
  opt::ScheduleUnit default_unit = opt::ScheduleUnit::epoch;
  if (name == "constant") {
    p.args(rule, 0, 0, "constant (no arguments)");
  } else if (name == "step") {
    const auto a = p.args(rule, 1, 2, "step:SIZE[:GAMMA]");
    r = sch::Step{.step_size = p.whole(a[0], "step size"), .gamma = a.size() > 1 ? p.number(a[1], "gamma") : 0.1};
  } else if (name == "multistep") {
    const auto a = p.args(rule, 1, 2, "multistep:M1+M2+...[:GAMMA]");
    sch::MultiStep m;
    for (const std::string& milestone : split(a[0], '+')) m.milestones.push_back(p.whole(milestone, "milestone"));
    if (a.size() > 1) m.gamma = p.number(a[1], "gamma");
    r = m;
  } else if (name == "exp") {
    const auto a = p.args(rule, 1, 1, "exp:GAMMA");
    r = sch::Exponential{.gamma = p.number(a[0], "gamma")};
  } else if (name == "cosine") {
    const auto a = p.args(rule, 1, 3, "cosine:T0[:T_MULT[:ETA_MIN]]");
    r = sch::CosineRestarts{.t0 = p.whole(a[0], "first cycle T0"),
                            .t_mult = a.size() > 1 ? p.whole(a[1], "cycle growth T_MULT") : 1,
                            .eta_min = a.size() > 2 ? p.number(a[2], "ETA_MIN") : 0};
  } else if (name == "onecycle") {
    const auto a = p.args(rule, 1, 2, "onecycle:MAX_LR[:PCT_START]");
    default_unit = opt::ScheduleUnit::step;
    const bool per_step = unit.value_or(default_unit) == opt::ScheduleUnit::step;
    // The cycle fills the run after the warm-up.
    const std::size_t run = per_step ? epochs * steps_per_epoch : epochs;
    if (warmup.steps >= run)
      p.fail("warmup:" + std::to_string(warmup.steps) + " before onecycle: the run has " + std::to_string(run) +
             (per_step ? " steps" : " epochs") + ", expected a warm-up shorter than that");
    r = sch::OneCycle{.max_lr = p.number(a[0], "MAX_LR"),
                      .total_steps = run - warmup.steps,
                      .pct_start = a.size() > 1 ? p.number(a[1], "PCT_START") : 0.3};
  } else if (name == "plateau") {
    const auto a = p.args(rule, 1, 5, "plateau:PATIENCE[:FACTOR[:THRESHOLD[:COOLDOWN[:MIN_LR]]]]");
    sch::ReduceOnPlateau pl;
    pl.patience = p.whole(a[0], "patience");
    if (a.size() > 1) pl.factor = p.number(a[1], "factor");
    if (a.size() > 2) pl.threshold = p.number(a[2], "threshold");
    if (a.size() > 3) pl.cooldown = p.whole(a[3], "cooldown");
    if (a.size() > 4) pl.min_lr = p.number(a[4], "min_lr");
    r = pl;
  } else {
    p.fail("'" + name + "': expected constant, step, multistep, exp, cosine, onecycle or plateau");
  }
  try {
    return opt::Schedule(warmup, r, unit.value_or(default_unit));
  } catch (const std::invalid_argument& e) {
    p.fail(e.what());
  }
}

}  // namespace curv::examples
