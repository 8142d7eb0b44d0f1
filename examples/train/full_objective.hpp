// The full-dataset objective of SCG, L-BFGS and CG with curv-train's progress
// bar moving over each pass's minibatches.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <curv/datasets.hpp>
#include <curv/nn.hpp>

#include "curv_examples/progress.hpp"
#include "train/messages.hpp"

namespace curv::examples {

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
// arithmetic as datasets::ModelObjective (so the same numbers, bit for bit), with
// the per-minibatch progress report switched on.
template <class T>
class FullObjective {
 public:
  FullObjective(const nn::Module<T>& model, const nn::Loss<T>& loss, datasets::DatasetRef<T> data,
                datasets::AccumulatorOptions options, PassProgress& progress)
      : acc_(model, loss, data, options), progress_(progress) {
    acc_.set_progress([&progress](const datasets::PassProgress& p) { progress.batch(p.batches_done, p.batches_total); });
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
  void set_cancel(typename datasets::Accumulator<T>::Cancel cancel) { acc_.set_cancel(std::move(cancel)); }

 private:
  datasets::Accumulator<T> acc_;
  PassProgress& progress_;
};

}  // namespace curv::examples
