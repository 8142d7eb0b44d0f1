// curv::datasets::ModelObjective: the mean loss of a model over a dataset as a
// function of its flat parameter vector w — what curv's optimizers minimize.
//
// Full-dataset quantities (value, gradient, H·v, Gauss–Newton·v) go through
// an Accumulator, so the batch size only sets memory and speed. The
// minibatch interface of optim::StochasticObjective walks the same batch size
// over an order reshuffled for each epoch from the seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "curv/datasets/accumulator.hpp"
#include "curv/datasets/data_loader.hpp"
#include "curv/optim/objective.hpp"

namespace curv::datasets {

struct ModelObjectiveOptions {
  // Minibatch size for accumulation and for stochastic steps; −1 = whole dataset.
  std::ptrdiff_t batch_size = 256;
  // Batches accumulated in parallel; 0 = all cores.
  int threads = 0;
  // Seed of the per-epoch minibatch order of the stochastic interface.
  std::uint64_t seed = 0;
};

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

  // Minibatches of the stochastic interface.
  std::size_t num_batches() const { return loader_.num_batches(); }
  // Fixes the minibatch order of epoch e: permutation from mix_seed(seed, e).
  void begin_epoch(std::size_t epoch) { loader_.set_epoch(epoch); }
  // Mean loss of minibatch b of the current epoch, and its gradient in g.
  T batch_value_and_grad(std::size_t b, const Tensor<T>& w, Tensor<T>& g) const {
    return static_cast<T>(accumulator_.batch_value_and_grad(loader_, b, w, &g));
  }

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
  void set_progress(Progress progress) { accumulator_.set_progress(std::move(progress)); }
  void set_cancel(Cancel cancel) { accumulator_.set_cancel(std::move(cancel)); }

  const Accumulator<T>& accumulator() const { return accumulator_; }
  const DataLoader<T>& loader() const { return loader_; }

 private:
  Accumulator<T> accumulator_;
  DataLoader<T> loader_;
};

template <class T>
ModelObjective<T>::ModelObjective(const nn::Module<T>& model, const nn::Loss<T>& loss, DatasetRef<T> data,
                                  ModelObjectiveOptions options)
    : accumulator_(model, loss, data, {options.batch_size, options.threads}),
      loader_(data, {options.batch_size, true, options.seed}) {}

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

}  // namespace curv::datasets
