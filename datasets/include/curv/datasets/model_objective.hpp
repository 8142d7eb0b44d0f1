// curv::datasets::ModelObjective: the mean loss of a model over a dataset as a
// function of its flat parameter vector w — what curv's optimizers minimize.
//
// Full-dataset quantities (value, gradient, H·v, Gauss–Newton·v) go through
// an Accumulator, so the batch size only sets memory and speed. The
// minibatch interface of optim::StochasticObjective walks the same batch size
// over an order reshuffled for each epoch from the seed. Curvature products
// may also be taken on a subsample (optim::SubsampledCurvatureObjective), a
// fixed fraction of the examples drawn anew for each sample number, for
// Hessian-free and trust-region Newton–CG.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "curv/datasets/accumulator.hpp"
#include "curv/datasets/data_loader.hpp"
#include "curv/datasets/split.hpp"
#include "curv/datasets/subset.hpp"
#include "curv/optim/objective.hpp"

namespace curv::datasets {

struct ModelObjectiveOptions {
  // Minibatch size for accumulation and for stochastic steps; −1 = whole dataset.
  std::ptrdiff_t batch_size = 256;
  // Batches accumulated in parallel; 0 = all cores.
  int threads = 0;
  // Seed of the per-epoch minibatch order of the stochastic interface, and
  // of the model's forward context (a Dropout's mask: nn::ForwardContext).
  std::uint64_t seed = 0;
  // The share of the examples the sampled curvature products (sampled_hvp,
  // sampled_gnvp) run on, in (0, 1]; 1 = every example (the full products).
  double curvature_fraction = 1;
  // Seed of those subsamples: sample s is drawn from mix_seed(curvature_seed, s).
  std::uint64_t curvature_seed = 0;
  // The dataset as a shard of one held by several processes (curv::dist):
  // AccumulatorOptions::reduce and first_row, for the full passes and the
  // sampled products. A subsample is then drawn from each shard with the
  // same fraction. The stochastic interface walks minibatches of the whole
  // dataset — the order one process would draw, from the shard sizes summed
  // at construction (a collective) — each process adding the rows it holds
  // (Accumulator::shard_batch_value_and_grad): one process's steps, to
  // rounding.
  std::function<void(std::span<double>)> reduce = {};
  std::size_t first_row = 0;
};

namespace detail {
// The options of a ModelObjective's accumulators: training mode, its seed.
inline AccumulatorOptions accumulator_options(const ModelObjectiveOptions& o) {
  AccumulatorOptions a;
  a.batch_size = o.batch_size;
  a.threads = o.threads;
  a.mode = nn::Mode::train;
  a.seed = o.seed;
  a.reduce = o.reduce;
  a.first_row = o.first_row;
  return a;
}
}  // namespace detail

template <class T>
class ModelObjective {
 public:
  // The model, loss and dataset must outlive the objective.
  ModelObjective(const nn::Module<T>& model, const nn::Loss<T>& loss, DatasetRef<T> data,
                 ModelObjectiveOptions options = {});

  std::size_t dim() const { return accumulator_.dim(); }

  // f(w) = (1/N) Σᵢ ℓ(model(w, xᵢ), yᵢ), accumulated in double.
  T value(const Tensor<T>& w) const { return static_cast<T>(accumulator_.value(w)); }
  T value_and_grad(const Tensor<T>& w, Tensor<T>& g) const {
    return static_cast<T>(accumulator_.value_and_grad(w, g));
  }
  T hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) const {
    return static_cast<T>(accumulator_.hvp(w, v, g, hv));
  }
  T gnvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& gv) const {
    return static_cast<T>(accumulator_.gnvp(w, v, g, gv));
  }

  // Curvature on a subsample (Martens 2010, §4.3): the products of the mean
  // loss over the examples curvature_sample(sample) — m = max(1,
  // round(curvature_fraction · N)) of them drawn from the seed and the
  // sample number, kept in dataset order — with the same batch size. The
  // same number always gives the same subset; with curvature_fraction = 1
  // these are the full products. Not safe to call concurrently.
  double curvature_fraction() const {
    return static_cast<double>(sample_size_) / static_cast<double>(accumulator_.size());
  }
  std::vector<std::size_t> curvature_sample(std::size_t sample) const;
  void sampled_hvp(std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& hv) {
    Tensor<T> g;
    sample_accumulator(sample).hvp(w, v, g, hv);
  }
  void sampled_gnvp(std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& gv) {
    Tensor<T> g;
    sample_accumulator(sample).gnvp(w, v, g, gv);
  }

  // Minibatches of the stochastic interface (of the whole dataset when this
  // one is a shard).
  std::size_t num_batches() const {
    return shard_ ? (shard_->whole + shard_->batch_size - 1) / shard_->batch_size : loader_.num_batches();
  }
  // Fixes the minibatch order of epoch e (permutation from mix_seed(seed,
  // e)) and the epoch the full passes tell the model (a Dropout's mask).
  void begin_epoch(std::size_t epoch);
  // Mean loss of minibatch b of the current epoch, and its gradient in g.
  // A shard's: a collective, every process calling it with the same b.
  T batch_value_and_grad(std::size_t b, const Tensor<T>& w, Tensor<T>& g) const;

  // Mean loss and accuracy over the dataset.
  Evaluation evaluate(const Tensor<T>& w) const { return accumulator_.evaluate(w); }

  // The Accumulator's options for the full passes (value, value_and_grad,
  // hvp, gnvp, evaluate), with its contract: a progress report after each
  // minibatch added, in batch order, told the pass and the counts done; a
  // cancellation check before each minibatch started (throws Cancelled).
  // Neither changes a result; both are off by default. The stochastic
  // interface's single batches report nothing and are never cancelled.
  using Progress = typename Accumulator<T>::Progress;
  using Cancel = typename Accumulator<T>::Cancel;
  // They apply to the sampled products' passes too.
  void set_progress(Progress progress) {
    if (sampled_) sampled_->set_progress(progress);
    accumulator_.set_progress(std::move(progress));
  }
  void set_cancel(Cancel cancel) {
    if (sampled_) sampled_->set_cancel(cancel);
    accumulator_.set_cancel(std::move(cancel));
  }

  const Accumulator<T>& accumulator() const { return accumulator_; }
  const DataLoader<T>& loader() const { return loader_; }

 private:
  // The accumulator over subsample `sample` (the full one when it is everything).
  const Accumulator<T>& sample_accumulator(std::size_t sample) {
    if (!sampled_) return accumulator_;
    view_->set_indices(curvature_sample(sample));
    return *sampled_;
  }

  Accumulator<T> accumulator_;
  DataLoader<T> loader_;
  std::uint64_t curvature_seed_;
  std::size_t sample_size_;
  // Held by pointer so that the accumulator's reference to the view survives a move.
  std::unique_ptr<SubsetView<T>> view_;
  std::unique_ptr<Accumulator<T>> sampled_;
  // The stochastic interface over the whole dataset, when this one is a shard.
  struct Shard {
    std::size_t first_row = 0;             // this shard is rows [first_row, first_row + size) of the whole
    std::size_t whole = 0;                 // the whole dataset's size
    std::size_t batch_size = 0;
    std::uint64_t seed = 0;
    std::uint64_t epoch = 0;
    std::vector<std::size_t> order;        // the epoch's permutation of the whole's rows
  };
  std::optional<Shard> shard_;
};

template <class T>
ModelObjective<T>::ModelObjective(const nn::Module<T>& model, const nn::Loss<T>& loss, DatasetRef<T> data,
                                  ModelObjectiveOptions options)
    : accumulator_(model, loss, data, detail::accumulator_options(options)),
      loader_(data, {options.batch_size, true, options.seed}),
      curvature_seed_(options.curvature_seed),
      sample_size_(accumulator_.size()) {
  const double f = options.curvature_fraction;
  if (!(f > 0 && f <= 1))
    throw std::invalid_argument("curv::datasets::ModelObjective: curvature_fraction = " + std::to_string(f) +
                                ", expected a share of the examples in (0, 1]");
  const std::size_t n = accumulator_.size();
  sample_size_ = std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(f * static_cast<double>(n))), 1, n);
  if (sample_size_ < n) {
    view_ = std::make_unique<SubsetView<T>>(data, curvature_sample(0));
    sampled_ = std::make_unique<Accumulator<T>>(model, loss, *view_, detail::accumulator_options(options));
    sampled_->set_example_ids(&view_->indices());  // a subsampled example keeps its Dropout mask
  }
  if (options.reduce) {
    std::vector<double> size{static_cast<double>(n)};
    options.reduce(size);
    Shard s;
    s.first_row = options.first_row;
    s.whole = static_cast<std::size_t>(size[0]);
    s.batch_size = resolve_batch_size("curv::datasets::ModelObjective", options.batch_size, s.whole);
    s.seed = options.seed;
    shard_ = std::move(s);
    begin_epoch(0);
  }
}

template <class T>
void ModelObjective<T>::begin_epoch(std::size_t epoch) {
  loader_.set_epoch(epoch);
  accumulator_.set_epoch(epoch);
  if (sampled_) sampled_->set_epoch(epoch);
  if (shard_) {
    shard_->epoch = epoch;
    shard_->order = permutation(shard_->whole, mix_seed(shard_->seed, epoch));
  }
}

template <class T>
T ModelObjective<T>::batch_value_and_grad(std::size_t b, const Tensor<T>& w, Tensor<T>& g) const {
  if (!shard_) return static_cast<T>(accumulator_.batch_value_and_grad(loader_, b, w, &g));
  const Shard& s = *shard_;
  const std::size_t batches = num_batches();
  if (b >= batches)
    throw std::out_of_range("curv::datasets::ModelObjective::batch_value_and_grad: minibatch " + std::to_string(b) +
                            ", expected one below " + std::to_string(batches));
  const std::size_t begin = b * s.batch_size, end = std::min(begin + s.batch_size, s.whole);
  const std::size_t n = accumulator_.size();
  std::vector<std::size_t> rows;  // this shard's rows of the minibatch, in its order
  for (std::size_t i = begin; i < end; ++i)
    if (const std::size_t r = s.order[i]; r >= s.first_row && r - s.first_row < n) rows.push_back(r - s.first_row);
  return static_cast<T>(accumulator_.shard_batch_value_and_grad(rows, b, batches, s.epoch, w, &g));
}

template <class T>
std::vector<std::size_t> ModelObjective<T>::curvature_sample(std::size_t sample) const {
  const std::size_t n = accumulator_.size();
  std::vector<std::size_t> chosen = permutation(n, mix_seed(curvature_seed_, sample));
  chosen.resize(sample_size_);
  std::sort(chosen.begin(), chosen.end());  // dataset order: the same summation order as a copied subset
  return chosen;
}

// Evaluation helpers: the mean loss, and accuracy with per-class counts, of a
// model at parameters w over a dataset.
template <class T>
double mean_loss(const nn::Module<T>& model, const nn::Loss<T>& loss, std::type_identity_t<DatasetRef<T>> data, const Tensor<T>& w,
                 AccumulatorOptions options = {}) {
  return Accumulator<T>(model, loss, data, options).value(w);
}

template <class T>
Evaluation evaluate(const nn::Module<T>& model, const nn::Loss<T>& loss, std::type_identity_t<DatasetRef<T>> data, const Tensor<T>& w,
                    AccumulatorOptions options = {}) {
  return Accumulator<T>(model, loss, data, options).evaluate(w);
}

static_assert(optim::CurvatureObjective<ModelObjective<double>, double>);
static_assert(optim::GaussNewtonObjective<ModelObjective<double>, double>);
static_assert(optim::StochasticObjective<ModelObjective<double>, double>);
static_assert(optim::CurvatureObjective<ModelObjective<float>, float>);
static_assert(optim::GaussNewtonObjective<ModelObjective<float>, float>);
static_assert(optim::StochasticObjective<ModelObjective<float>, float>);
static_assert(optim::SubsampledCurvatureObjective<ModelObjective<float>, float>);
static_assert(optim::SubsampledGaussNewtonObjective<ModelObjective<float>, float>);
static_assert(optim::SubsampledCurvatureObjective<ModelObjective<double>, double>);
static_assert(optim::SubsampledGaussNewtonObjective<ModelObjective<double>, double>);

}  // namespace curv::datasets
