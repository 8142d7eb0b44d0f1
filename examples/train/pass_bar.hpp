// curv-train's progress bar for the full-dataset optimizers (SCG, L-BFGS,
// CG): it moves over the minibatches of each pass over the data.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <curv/datasets/accumulator.hpp>

#include "curv_examples/progress.hpp"
#include "train/messages.hpp"

namespace curv::examples {

// The objective (datasets::ModelObjective::set_progress) reports every
// minibatch it adds, serially and in order, with the kind of pass; the runner
// says which iteration. The label carries the iteration, the pass and an ETA
// for the run (from the iterations done so far in this run); the bar's own
// ETA is the pass's. When stderr is not a terminal the bar draws nothing and
// the per-epoch lines are the log.
class PassBar {
 public:
  explicit PassBar(Progress& bar) : bar_(bar) {}

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
  // From the objective: a minibatch of the current pass was added.
  void report(const datasets::PassProgress& p) {
    if (p.batches_done == 1) ++pass_;
    if (!bar_.interactive()) return;
    if (p.batches_done == 1)
      bar_.begin(prefix_ + " · pass " + std::to_string(pass_) + " (" + kind(p.pass) + ") · run eta " + run_eta_,
                 p.batches_total);
    bar_.update(p.batches_done, loss_);
  }

 private:
  static const char* kind(datasets::Pass pass) {
    switch (pass) {
      case datasets::Pass::value: return "loss";
      case datasets::Pass::gradient: return "gradient";
      case datasets::Pass::hvp: return "H·v";
      case datasets::Pass::gnvp: return "G·v";
      case datasets::Pass::evaluate: return "evaluation";
    }
    return "?";
  }

  Progress& bar_;
  bool started_ = false;
  std::chrono::steady_clock::time_point run_start_;
  std::size_t first_iteration_ = 0;
  std::string prefix_ = "start", run_eta_ = "?";
  double loss_ = kNaN;
  std::size_t pass_ = 0;
};

}  // namespace curv::examples
