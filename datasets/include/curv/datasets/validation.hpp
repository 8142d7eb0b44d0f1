// curv::datasets::Validation: the callback (optim/callback.hpp) that
// evaluates the model on a held-out dataset at every epoch and hands the
// numbers to the callbacks after it as the metrics "val_loss" and
// "val_accuracy" — what EarlyStopping watches and the loggers write:
//
//   ds::Validation<float> val(model, loss, split.val);
//   opt::EarlyStopping<float> stop({.monitor = "val_loss", .patience = 5});
//   opt::CsvLogger<float> log("train.csv");
//   auto r = opt::SCG<float>().minimize(objective, w0, {&val, &stop, &log});
//
// It evaluates through an Accumulator (batched, parallel, the loss in double,
// no tangents or adjoints recorded), so the numbers are those of
// datasets::evaluate and independent of the batch size up to rounding.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "curv/datasets/accumulator.hpp"
#include "curv/optim/callback.hpp"

namespace curv::datasets {

struct ValidationOptions {
  std::string prefix = "val";  // the metrics are <prefix>_loss and <prefix>_accuracy
  bool accuracy = true;        // set <prefix>_accuracy (a classifier's targets are class indices)
  std::size_t every = 1;       // evaluate at epochs every, 2·every, … (≥ 1)
  bool at_start = true;        // also at a fresh start (epoch 0; not after a resume)
};

template <class T>
class Validation : public optim::Callback<T> {
 public:
  // Evaluates through its own Accumulator over `data`; model, loss and data
  // must outlive it.
  Validation(const nn::Module<T>& model, const nn::Loss<T>& loss, std::type_identity_t<DatasetRef<T>> data,
             AccumulatorOptions accumulator = {}, ValidationOptions options = {})
      : options_(check(std::move(options))) {
    own_.emplace(model, loss, data, accumulator);
    accumulator_ = &*own_;
  }
  // Evaluates through `accumulator` (kept by reference: its progress and
  // cancellation hooks apply).
  explicit Validation(const Accumulator<T>& accumulator, ValidationOptions options = {})
      : options_(check(std::move(options))), accumulator_(&accumulator) {}

  void on_begin(optim::CallbackContext<T>& c) override {
    if (c.fresh_start() && options_.at_start) evaluate(c);
  }
  void on_epoch(optim::CallbackContext<T>& c) override {
    if (c.epoch() % options_.every == 0) evaluate(c);
  }

  // The last evaluation (nothing before the first).
  const std::optional<Evaluation>& last() const { return last_; }
  const ValidationOptions& options() const { return options_; }

 private:
  static ValidationOptions check(ValidationOptions o) {
    if (o.every == 0) throw std::invalid_argument("curv::datasets::Validation: every = 0, expected at least 1 epoch");
    if (o.prefix.empty()) throw std::invalid_argument("curv::datasets::Validation: empty prefix, expected e.g. \"val\"");
    return o;
  }
  void evaluate(optim::CallbackContext<T>& c) {
    last_ = accumulator_->evaluate(c.w());
    c.metrics().set(options_.prefix + "_loss", last_->loss);
    if (options_.accuracy) c.metrics().set(options_.prefix + "_accuracy", last_->accuracy);
  }

  ValidationOptions options_;
  std::optional<Accumulator<T>> own_;
  const Accumulator<T>* accumulator_ = nullptr;
  std::optional<Evaluation> last_;
};

}  // namespace curv::datasets
