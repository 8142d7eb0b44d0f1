// curv-train's optimizers, from one table: each entry is the name, which
// options it takes (and their defaults), the memory its state needs, its log
// columns and a factory of its Runner. Which fields its state has and how
// they are checked on resume is the optimizer's own (save_state/load_state
// in optim). Adding an optimizer to curv-train is one entry in
// optimizers.cpp (and, when it needs one, a Runner there).
#pragma once

#include <csignal>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <curv/datasets.hpp>
#include <curv/optim/scg.hpp>
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
};

template <class T>
using MakeRunner = std::unique_ptr<Runner<T>> (*)(const TrainConfig&, const RunnerInputs<T>&);

struct OptimizerEntry {
  const char* name;
  // An epoch is one iteration over the whole set (SCG, L-BFGS, CG), else one
  // pass of minibatch steps (SGD, Adam).
  bool full_dataset;
  double default_lr;     // > 0: takes --lr with this default; 0: sets its own step (--lr refused)
  bool takes_momentum;   // --momentum
  bool takes_curvature;  // --curvature
  double vectors_held;   // parameter-sized vectors of its state (the memory check of --hidden)
  std::vector<std::string> log_columns;        // after the common ones, filled by Runner::extra
  std::string (*describe)(const TrainConfig&);  // its part of the run's first line
  MakeRunner<float> make_float;
  MakeRunner<double> make_double;

  bool takes_lr() const { return default_lr > 0; }
  template <class T>
  MakeRunner<T> make() const {
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

}  // namespace curv::examples
