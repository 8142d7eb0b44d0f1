// curv-train's optimizers, from one table (optimizer_table, also read by
// compare): each entry is the name, the optimizer's type, its --lr default,
// the memory its state needs, its log columns and console line. Everything
// else comes from the optimizer's type by one generic Runner: which of --lr,
// --momentum, --curvature it takes (the fields of its Options), whether an
// epoch is one iteration over the whole set or a pass of minibatch steps
// (whether its start() needs the objective), and its state I/O (its
// save_state/load_state in optim). Adding an optimizer to curv-train is one
// entry in optimizers.cpp.
#pragma once

#include <csignal>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <curv/datasets.hpp>
#include <curv/optim/result.hpp>
#include <curv/optim/scg.hpp>
#include <curv/optim/schedule.hpp>
#include <curv/optim/state_io.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/progress.hpp"
#include "curv_examples/signals.hpp"
#include "train/pass_bar.hpp"
#include "train/train.hpp"

namespace curv::examples {

// One optimizer behind the loop: start or restore a state, run one epoch,
// save the state. run_epoch returns false when a stop request interrupted it.
template <class T>
class Runner {
 public:
  virtual ~Runner() = default;
  virtual void start(const Tensor<T>& w0) = 0;
  virtual void save(optim::StateWriter& out) const = 0;
  // Reads the optimizer's state and checks it (finite, in range, its
  // counters within a run of `epochs`); throws naming the field.
  virtual void restore(const optim::StateReader& in, std::size_t dim, std::size_t epochs) = 0;
  virtual std::size_t epoch() const = 0;
  virtual bool run_epoch(Progress& progress, std::size_t epochs) = 0;
  virtual const Tensor<T>& w() const = 0;
  virtual double train_loss() = 0;
  virtual double passes() const = 0;
  virtual double seconds() const = 0;
  // The values of the entry's log_columns for the last epoch.
  virtual std::vector<CsvCell> extra() const { return {}; }
  virtual std::string summary() const { return ""; }
  // Non-empty when the optimizer cannot continue (converged, stalled, diverged).
  virtual std::string finished() const { return ""; }
  // False when the last run_epoch could not take its step (a failed line search).
  virtual bool stepped() const { return true; }
  // The metric of the epoch just ended (the validation loss), for a
  // reduce-on-plateau --lr-schedule; called once after every epoch.
  virtual void report_metric(double /*metric*/) {}

  std::size_t steps_this_run = 0;
  std::optional<std::size_t> stop_after_steps;

 protected:
  void count_step() {
    ++steps_this_run;
    if (stop_after_steps && steps_this_run >= *stop_after_steps && !stop_requested()) request_stop(SIGINT);
  }
};

// What a Runner trains on.
template <class T>
struct RunnerInputs {
  // SGD and Adam step on its minibatches; SCG, L-BFGS and CG on the whole
  // set, its progress report moving `bar`.
  datasets::ModelObjective<T>& objective;
  PassBar& bar;                           // begun by the full-dataset runners at each iteration
  const datasets::Accumulator<T>& train;  // the training loss of an epoch of minibatch steps
  const nn::Module<T>& model;             // its weights are --weight-decay's groups
};

template <class T>
using MakeRunner = std::function<std::unique_ptr<Runner<T>>(const TrainConfig&, const RunnerInputs<T>&)>;

// A log column after the common ones: a field of the epoch's IterationInfo
// (a bool is logged as 0 or 1).
struct LogColumn {
  LogColumn(const char* column, double optim::IterationInfo::*field);
  LogColumn(const char* column, bool optim::IterationInfo::*field);
  std::string name;
  std::function<CsvCell(const optim::IterationInfo&)> value;
};

struct OptimizerEntry {
  // The table's data.
  const char* name = "";
  double default_lr = 0;    // --lr's default, for an optimizer whose options have a learning rate
  double vectors_held = 2;  // parameter-sized vectors of its state (the memory check of --hidden)
  std::vector<LogColumn> log_columns = {};
  std::string (*summary)(const optim::IterationInfo&) = nullptr;  // the console line after an epoch
  // --curvature-fraction: its curvature products may run on a subsample
  // (it calls an objective's sampled_hvp/sampled_gnvp where it has them).
  bool subsampled_curvature = false;

  // From the optimizer's type (optimizer_entry in optimizers.cpp).
  // An epoch is one iteration over the whole set (SCG, L-BFGS, CG), else one
  // pass of minibatch steps (SGD, Adam).
  bool full_dataset = false;
  bool line_search = false;  // its step is a strong-Wolfe line search
  bool takes_lr = false;     // --lr
  bool takes_momentum = false;   // --momentum
  bool takes_curvature = false;  // --curvature
  bool takes_lambda_initial = false;  // --lambda-initial
  double default_lambda_initial = 0;  // its Options' lambda_initial
  double lambda_min = 0, lambda_max = 0;  // and the range λ is kept in
  MakeRunner<float> make_float = {};
  MakeRunner<double> make_double = {};

  std::vector<std::string> column_names() const;
  // Its part of the run's first line (" lr 0.01", " curvature exact", …).
  std::string describe(const TrainConfig& c) const;
  template <class T>
  const MakeRunner<T>& make() const {
    if constexpr (std::is_same_v<T, float>)
      return make_float;
    else
      return make_double;
  }
};

const std::vector<OptimizerEntry>& optimizer_table();

// The entry named `name`; std::invalid_argument "--optimizer <name>: expected scg, sgd, …" otherwise.
const OptimizerEntry& find_optimizer(const std::string& name);

// "sgd or adam": the names of the entries for which `takes` holds, for messages.
std::string optimizers_that(bool (*takes)(const OptimizerEntry&));

// --curvature's values.
optim::Curvature parse_curvature(const std::string& s);

// --lr-schedule's spec, for a run of `epochs` epochs of `steps_per_epoch`
// update steps:
//   SPEC   := [ "warmup:" N [":" START_FACTOR] "," ] RULE [ "@" UNIT ]   (or "warmup:…" alone)
//   RULE   := "constant" | "step:" SIZE [":" GAMMA] | "multistep:" M ["+" M]… [":" GAMMA]
//           | "exp:" GAMMA | "cosine:" T0 [":" T_MULT [":" ETA_MIN]] | "onecycle:" MAX_LR [":" PCT_START]
//           | "plateau:" PATIENCE [":" FACTOR [":" THRESHOLD [":" COOLDOWN [":" MIN_LR]]]]
//   UNIT   := "epoch" (the default; N, SIZE, M, T0 count epochs) | "step" (update steps)
// onecycle spans the rest of the run after the warm-up (epochs, or epochs ×
// steps_per_epoch with @step, its default unit); plateau reduces on the validation loss
// reported after each epoch. Throws std::invalid_argument "--lr-schedule
// <spec>: …" naming the part that is wrong.
optim::Schedule parse_lr_schedule(const std::string& spec, std::size_t epochs, std::size_t steps_per_epoch);

}  // namespace curv::examples
