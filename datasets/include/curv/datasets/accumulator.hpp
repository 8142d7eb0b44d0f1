// curv::datasets::Accumulator: full-dataset loss, gradient, H·v, Gauss–Newton·v
// and accuracy of a model, computed minibatch by minibatch.
//
// The contract (docs/data.md):
//  * Means are sums over the whole dataset divided by N: every minibatch
//    contributes the *sum* of its examples' losses (Reduction::sum) and that
//    sum's gradient and H·v, and the grand total is divided by N once. A mean
//    of per-batch means would over-weight a short last batch.
//  * Batches are the dataset's examples in order, cut every batch_size (−1:
//    one batch). They run in parallel on TBB, `threads` at a time, each into
//    its own slot; a TBB pipeline's serial stage adds the slots into
//    double-precision totals strictly in batch order. Results are therefore
//    bit-identical between runs and for any thread count, for a given batch
//    size.
//  * Memory: at most `threads` batches are alive at once (tapes and finished
//    slots together), so peak memory grows with batch_size × threads, not
//    with N. For the gradient and H·v, the forward passes run in parallel and
//    the reverse sweeps one at a time in batch order, each batch added into
//    the totals right after its sweep: only one tape at a time holds the
//    parameter-sized adjoints (and the activations' adjoints), and no
//    finished slot ever waits.
//  * OpenBLAS runs single-threaded while batches run in parallel (TBB owns the
//    cores); its previous thread count is restored afterwards.
//  * Bad data is an error that points at it (DataError): a target that is
//    not a class index, or a NaN or ±inf in an example's inputs or targets
//    (every minibatch is checked before its forward pass), names the
//    example's file and record (Provenance), its dataset row and the
//    minibatch; a non-finite input also the first parameter whose gradient
//    it makes non-finite. Of several, the first minibatch's is reported
//    whatever the thread count (within one, non-finite values are checked
//    before the labels), so one bad example is named alike at every batch
//    size. A non-finite
//    loss from finite data (overflow at a bad w) is no error: the pass
//    returns it, as optim's objective contract asks.
//  * A dataset sharded over several processes (curv::dist) is one dataset:
//    with the reduce option set, each process accumulates its shard as above
//    and the pass's double totals — loss, example count, correct and
//    per-class counts, gradient, H·v or G·v — are summed across processes
//    by reduce before the means are taken over the whole dataset's N.
//  * The model runs in a forward context (nn::ForwardContext): the mode and
//    seed of the options, the epoch (set_epoch; a loader's minibatch: the
//    loader's epoch) and each example's dataset row — not its place in the
//    batch —, so a Dropout mask follows the example and every result above
//    stays batch-size invariant.
// H·v comes from one tangent-seeded forward pass and one reverse sweep per
// batch (forward-over-reverse), exactly; Gauss–Newton·v is Jᵀ H_loss J v
// (nn::gauss_newton_product per batch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/datasets/data_loader.hpp"
#include "curv/datasets/dataset.hpp"
#include "curv/nn/fuse.hpp"
#include "curv/nn/loss.hpp"
#include "curv/nn/module.hpp"

namespace curv::datasets {

namespace detail {
struct BatchPlace;  // where a minibatch sits in its pass, for the errors that name its examples
}  // namespace detail

struct AccumulatorOptions {
  // Examples per minibatch; −1 = the whole dataset in one batch.
  std::ptrdiff_t batch_size = 256;
  // Batches processed at once; 0 = every core TBB sees.
  int threads = 0;
  // Run nn::fuse(model) (fuse.hpp): runs of layers that one op computes
  // faster (Conv2d → MaxPool2d → Tanh/ReLU) run as that op, equal to the
  // model as given to rounding. false runs the model exactly as given.
  bool fuse = true;
  // The forward context of the loss, gradient, H·v and G·v passes (Dropout
  // acts in training mode; evaluate() always runs in evaluation mode), and
  // its seed: nn::ForwardContext (forward_context.hpp).
  nn::Mode mode = nn::Mode::train;
  std::uint64_t seed = 0;
  // For a shard of a dataset held by several processes: x ← the sum of x
  // over the processes, the same on each (dist::Communicator::reducer()).
  // Called at the end of every full pass, on the calling thread, with each
  // of the pass's totals in turn (the counts and the loss, then the
  // gradient, then H·v or G·v); every process must run the same passes.
  // Empty (the default): this dataset is the whole dataset.
  std::function<void(std::span<double>)> reduce = {};
  // The row in the whole dataset of this dataset's example 0, for a shard:
  // the model is told row first_row + i for example i (ForwardContext::rows),
  // so that an example's Dropout mask does not depend on how it is sharded.
  std::size_t first_row = 0;
};

// Which full pass over the dataset an Accumulator is running.
enum class Pass { value, gradient, hvp, gnvp, evaluate };

// What the progress callback (Accumulator::set_progress) sees after each
// minibatch of a full pass: the pass and how much of it is in the totals.
struct PassProgress {
  Pass pass = Pass::value;
  std::size_t batches_done = 0;  // 1, 2, …, batches_total
  std::size_t batches_total = 0;
  std::size_t examples_done = 0;  // examples of the batches done; N after the last
  std::size_t examples_total = 0;  // N
};

// A full pass abandoned because the cancellation check (set_cancel) said so.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Mean loss, accuracy and per-class counts of a classifier over a dataset.
struct Evaluation {
  double loss = 0;      // mean over the dataset
  double accuracy = 0;  // correct / count
  std::size_t correct = 0;
  std::size_t count = 0;
  std::vector<std::size_t> class_count;    // examples whose target is class c
  std::vector<std::size_t> class_correct;  // of those, predicted c (argmax, first on ties)
};

template <class T>
class Accumulator {
 public:
  // The model, loss and dataset must outlive the accumulator. Throws
  // std::invalid_argument for an empty dataset, a bad batch size or threads < 0.
  Accumulator(const nn::Module<T>& model, const nn::Loss<T>& loss, DatasetRef<T> data,
              AccumulatorOptions options = {});

  std::size_t dim() const { return model_.num_parameters(); }
  // The module every pass runs: the model, or nn::fuse(model) (options.fuse).
  const nn::Module<T>& model() const { return model_; }
  // Examples in this accumulator's dataset (with reduce: this process's shard).
  std::size_t size() const { return n_; }
  std::size_t batch_size() const { return batch_size_; }
  std::size_t num_batches() const { return (n_ + batch_size_ - 1) / batch_size_; }
  int threads() const { return threads_; }

  // Mean loss (1/N) Σᵢ ℓᵢ(w).
  double value(const Tensor<T>& w) const;
  // Mean loss; grad ← its gradient.
  double value_and_grad(const Tensor<T>& w, Tensor<T>& grad) const;
  // Mean loss; grad ← gradient, hv ← Hessian of the mean loss times v.
  double hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& grad, Tensor<T>& hv) const;
  // Mean loss; grad ← gradient, gv ← (1/N) Σᵢ Jᵢᵀ Hᵢ Jᵢ v, the Gauss–Newton
  // product (Jᵢ the model's Jacobian, Hᵢ the loss's Hessian in the output).
  double gnvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& grad, Tensor<T>& gv) const;
  // Mean loss and classification accuracy; targets must be class indices
  // below the model's output width (axis 1).
  Evaluation evaluate(const Tensor<T>& w) const;

  // Optional progress report, e.g. for a progress bar: called once per
  // minibatch of every full pass (value, value_and_grad, hvp, gnvp, evaluate)
  // right after that batch is added to the totals, i.e. from the in-order
  // reduction: serially, with batches_done = 1, 2, …, batches_total, and
  // told which pass it is and how many examples are done. It sees no numbers
  // and cannot change results; an exception it throws ends the pass. An
  // empty function (the default) switches it off and costs one test of the
  // empty function per minibatch.
  using Progress = std::function<void(const PassProgress& progress)>;
  void set_progress(Progress progress) { progress_ = std::move(progress); }

  // Optional cancellation check: asked before each minibatch of every full
  // pass is started (serially, in batch order). Returning true abandons the
  // pass: the batches already started finish, no output is written, and the
  // call throws Cancelled. This is how a program honours SIGTERM within one
  // minibatch rather than one pass. Empty (the default): never cancelled.
  using Cancel = std::function<bool()>;
  void set_cancel(Cancel cancel) { cancel_ = std::move(cancel); }

  // The epoch the full passes tell the model (ForwardContext::epoch: a new
  // Dropout mask per epoch); 0 until set.
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  std::uint64_t epoch() const { return epoch_; }
  // The rows the model is told for the examples (ForwardContext::rows):
  // example i of this accumulator's dataset is row (*ids)[i] — for a dataset
  // that is a view of another (a subsample), its rows in that other, so that
  // an example keeps its Dropout mask. Null (the default): i itself. *ids
  // must outlive the accumulator's passes and cover its dataset.
  void set_example_ids(const std::vector<std::size_t>* ids) { example_ids_ = ids; }

  // One minibatch on the calling thread: the *mean* loss over its examples
  // and, when grad is non-null, its gradient (what SGD-like optimizers step on).
  // A DataError names the bad example by its place in `batch`.
  double batch_value_and_grad(const Batch<T>& batch, const Tensor<T>& w, Tensor<T>* grad) const;
  // The same for minibatch b of `loader`'s current epoch, gathered from this
  // accumulator's dataset (the loader's must be the same, e.g. shuffled): a
  // DataError names the example's origin, dataset row, minibatch and epoch.
  double batch_value_and_grad(const DataLoader<T>& loader, std::size_t b, const Tensor<T>& w, Tensor<T>* grad) const;
  // One minibatch of a dataset sharded across processes (reduce set): `rows`
  // are the rows of this shard in it, in the minibatch's order, none when it
  // lies wholly on other shards; `batch` of `batches` in `epoch` is its place
  // (for the model's context and errors). Every process calls it for the same
  // minibatch: the loss and gradient sums of the shards are added by reduce,
  // and every process gets the *mean* over the whole minibatch — one
  // process's minibatch, to rounding. Without reduce, batch_value_and_grad
  // over `rows`.
  double shard_batch_value_and_grad(std::span<const std::size_t> rows, std::size_t batch, std::size_t batches,
                                    std::uint64_t epoch, const Tensor<T>& w, Tensor<T>* grad) const;

 private:
  struct Slot;
  struct Recording;
  struct Totals;
  Recording record_batch(Pass pass, Batch<T> batch, const nn::ForwardContext& context, const Tensor<T>& w,
                         const Tensor<T>* v) const;
  Recording record_checked(Pass pass, Batch<T> batch, const detail::BatchPlace& place, const Tensor<T>& w,
                           const Tensor<T>* v) const;
  Slot sweep_batch(Pass pass, Recording&& r) const;
  Totals run(Pass pass, const Tensor<T>& w, const Tensor<T>* v) const;  // run_local, then reduce
  Totals run_local(Pass pass, const Tensor<T>& w, const Tensor<T>* v) const;
  double run_single(Batch<T> batch, const detail::BatchPlace& place, const Tensor<T>& w, Tensor<T>* grad) const;
  void check_vector(const char* fn, const char* arg, const Tensor<T>& x) const;
  void check_finite(const Batch<T>& batch, const detail::BatchPlace& place, const Tensor<T>& w) const;

  std::shared_ptr<const nn::Module<T>> fused_;  // the fused model, or the caller's (not owned)
  const nn::Module<T>& model_;
  const nn::Loss<T>& loss_;
  DatasetRef<T> data_;
  std::size_t n_;
  std::size_t batch_size_;
  int threads_;
  nn::Mode mode_;
  std::uint64_t seed_;
  std::function<void(std::span<double>)> reduce_;
  std::size_t first_row_;
  std::uint64_t epoch_ = 0;
  const std::vector<std::size_t>* example_ids_ = nullptr;
  Progress progress_;
  Cancel cancel_;
  std::vector<std::size_t> order_;  // 0 … N−1: batch b is order_[b·B, (b+1)·B)
};

extern template class Accumulator<float>;
extern template class Accumulator<double>;

}  // namespace curv::datasets
