// The callbacks a training loop needs, ready to pass to any optimizer's
// minimize() or resume() (callback.hpp says when each event fires):
//
//   OnStep, OnEpoch    a function at every step / epoch
//   EarlyStopping      stop when a metric stops improving; restore the best weights
//   CsvLogger          one CSV row per epoch: epoch, passes, seconds and the metrics
//   ProgressPrinter    one line per epoch, with an ETA
//   Checkpointer       save the optimizer's state every N epochs
//
// Validation on a held-out set is datasets::Validation (it needs a model and
// data, which optim knows nothing of): put it first in the list, so that the
// callbacks after it see "val_loss" and "val_accuracy".
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "curv/optim/callback.hpp"
#include "curv/optim/csv_log.hpp"

namespace curv::optim {

// A function run at every step (OnStep) or epoch (OnEpoch):
//   OnEpoch<double> show([](CallbackContext<double>& c) { std::cout << c.info().loss << '\n'; });
//   scg.minimize(obj, x0, {&show});
template <class T>
class OnStep : public Callback<T> {
 public:
  explicit OnStep(std::function<void(CallbackContext<T>&)> f) : f_(std::move(f)) {}
  void on_step(CallbackContext<T>& c) override { f_(c); }

 private:
  std::function<void(CallbackContext<T>&)> f_;
};

template <class T>
class OnEpoch : public Callback<T> {
 public:
  explicit OnEpoch(std::function<void(CallbackContext<T>&)> f) : f_(std::move(f)) {}
  void on_epoch(CallbackContext<T>& c) override { f_(c); }

 private:
  std::function<void(CallbackContext<T>&)> f_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";  // the metric watched (lower is better)
  std::size_t patience = 5;          // epochs without improvement before the run stops (≥ 1)
  double min_delta = 0;              // an improvement lowers the best value by more than this (≥ 0)
  bool restore_best_weights = true;  // at the end, the result holds the best epoch's weights
};

// Keras' EarlyStopping: watches `monitor` at every epoch (and at a fresh
// start, epoch 0, when the metric is there), and stops the run once it has
// not improved on its best value for `patience` epochs. A NaN counts as no
// improvement. With restore_best_weights, on_end puts the best epoch's
// weights into the result (x, and value = E(x) by one more pass) and says so
// in its message; the result's optimizer state stays the last one, which is
// what a resume continues from.
template <class T>
class EarlyStopping : public Callback<T> {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {}) : options_(std::move(options)) {
    if (options_.patience == 0)
      throw std::invalid_argument("curv::optim::EarlyStopping: patience = 0, expected at least 1 epoch");
    if (!(options_.min_delta >= 0 && std::isfinite(options_.min_delta)))
      throw std::invalid_argument("curv::optim::EarlyStopping: min_delta = " + std::to_string(options_.min_delta) +
                                  ", expected a finite number >= 0");
  }

  void on_begin(CallbackContext<T>& c) override {
    if (c.fresh_start()) {
      if (const std::optional<double> v = c.metrics().find(options_.monitor)) observe(c, *v);
    } else if (bad_epochs_ >= options_.patience) {
      c.stop(reason());  // a resumed run that had already run out of patience
    }
  }
  void on_epoch(CallbackContext<T>& c) override { observe(c, c.metrics().at(options_.monitor)); }
  void on_end(CallbackContext<T>& c, Result<T>& result) override {
    if (!options_.restore_best_weights || !has_best() || best_epoch_ == c.epoch()) return;
    result.x = best_weights_;
    result.value = static_cast<double>(c.objective().value(best_weights_));
    result.passes += 1;
    result.message += "; restored the weights of epoch " + std::to_string(best_epoch_) + " (" + options_.monitor +
                      " = " + number(best_) + ")";
  }

  const EarlyStoppingOptions& options() const { return options_; }
  bool has_best() const { return !std::isnan(best_); }
  double best() const { return best_; }                       // NaN before the first finite value
  std::size_t best_epoch() const { return best_epoch_; }
  std::size_t bad_epochs() const { return bad_epochs_; }      // epochs since the best
  const Tensor<T>& best_weights() const { return best_weights_; }  // empty unless restore_best_weights

  // Its memory (best, best_epoch, bad_epochs, best_weights), for a run that
  // is checkpointed and resumed: saved as early_stopping.* fields.
  void save(StateWriter& out) const {
    out.write_scalar("early_stopping.best", best_);
    out.write_counter("early_stopping.best_epoch", best_epoch_);
    out.write_counter("early_stopping.bad_epochs", bad_epochs_);
    if (options_.restore_best_weights && has_best()) out.write_tensor("early_stopping.best_weights", best_weights_);
  }
  // Reads what save wrote; `dim` is the weights' length. Throws
  // std::invalid_argument naming the field that is out of range.
  void load(const StateReader& in, std::size_t dim) {
    const double best = in.read_scalar("early_stopping.best");
    const std::uint64_t best_epoch = in.read_counter("early_stopping.best_epoch");
    const std::uint64_t bad = in.read_counter("early_stopping.bad_epochs");
    if (std::isinf(best))
      throw std::invalid_argument("curv::optim::EarlyStopping::load: early_stopping.best = " + number(best) +
                                  ", expected a finite number or NaN (no best yet)");
    if (bad > options_.patience)
      throw std::invalid_argument("curv::optim::EarlyStopping::load: early_stopping.bad_epochs = " +
                                  std::to_string(bad) + ", expected at most the patience " +
                                  std::to_string(options_.patience));
    Tensor<T> weights;
    if (options_.restore_best_weights && !std::isnan(best)) weights = in.tensor<T>("early_stopping.best_weights", dim);
    best_ = best;
    best_epoch_ = static_cast<std::size_t>(best_epoch);
    bad_epochs_ = static_cast<std::size_t>(bad);
    best_weights_ = std::move(weights);
  }

 private:
  void observe(CallbackContext<T>& c, double v) {
    if (!std::isnan(v) && (!has_best() || v < best_ - options_.min_delta)) {
      best_ = v;
      best_epoch_ = c.epoch();
      bad_epochs_ = 0;
      if (options_.restore_best_weights) best_weights_ = c.w();
      return;
    }
    if (++bad_epochs_ >= options_.patience) c.stop(reason());
  }
  std::string reason() const {
    return "early stopping: " + options_.monitor + " has not improved by more than " + number(options_.min_delta) +
           " for " + std::to_string(bad_epochs_) + " epochs (best " + number(best_) + " at epoch " +
           std::to_string(best_epoch_) + ")";
  }
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }

  EarlyStoppingOptions options_;
  double best_ = std::nan("");
  std::size_t best_epoch_ = 0;
  std::size_t bad_epochs_ = 0;
  Tensor<T> best_weights_;
};

struct CsvLoggerOptions {
  // The columns, in order. "epoch", "iteration", "passes" and "seconds" come
  // from the event; any other name is a metric, NaN in a row where no
  // callback set it. Empty: epoch, passes, seconds and the metrics of the
  // first row, in their order.
  std::vector<std::string> columns;
  CsvLog::Mode mode = CsvLog::Mode::truncate;  // append: continue a resumed run's log (same header)
  bool log_start = true;                       // a row for epoch 0 at a fresh start (not after a resume)
};

// One row per epoch into a CSV file, flushed after each (CsvLog).
template <class T>
class CsvLogger : public Callback<T> {
 public:
  explicit CsvLogger(std::filesystem::path path, CsvLoggerOptions options = {})
      : path_(std::move(path)), options_(std::move(options)) {}

  void on_begin(CallbackContext<T>& c) override {
    if (c.fresh_start() && options_.log_start) write(c);
  }
  void on_epoch(CallbackContext<T>& c) override { write(c); }

  const std::filesystem::path& path() const { return path_; }

 private:
  void write(const CallbackContext<T>& c) {
    if (!log_) {
      std::vector<std::string> columns = options_.columns;
      if (columns.empty()) {
        columns = {"epoch", "passes", "seconds"};
        for (const auto& [name, value] : c.metrics().items()) columns.push_back(name);
      }
      log_.emplace(path_, std::move(columns), options_.mode);
    }
    std::vector<CsvCell> row;
    for (const std::string& name : log_->header()) {
      if (name == "epoch") row.emplace_back(static_cast<long long>(c.epoch()));
      else if (name == "iteration") row.emplace_back(static_cast<long long>(c.info().iteration));
      else if (name == "passes") row.emplace_back(c.info().passes);
      else if (name == "seconds") row.emplace_back(c.info().seconds);
      else row.emplace_back(c.metrics().find(name).value_or(IterationInfo::nan));
    }
    log_->write_row(row);
  }

  std::filesystem::path path_;
  CsvLoggerOptions options_;
  std::optional<CsvLog> log_;
};

template <class T>
struct ProgressPrinterOptions {
  std::size_t epochs = 0;  // the run's epoch limit, for "epoch 3/10" and the ETA; 0 = unknown
  // Where each line goes (without its newline); default: stdout, flushed.
  std::function<void(const std::string&)> write;
  // Text appended to each epoch's line (e.g. an optimizer's λ); may be empty.
  std::function<std::string(const CallbackContext<T>&)> suffix;
  // The metrics shown, in this order (those absent from an event are left
  // out); empty: every metric, in the order they were set.
  std::vector<std::string> metrics;
};

// One line per epoch — "epoch 3/10  passes 7  12.3s  loss 0.0845  val_loss 0.0911
// val_accuracy 0.9731  eta 1m02s" — the ETA extrapolating this run's own
// seconds per epoch (a resumed run's earlier epochs may have run elsewhere).
template <class T>
class ProgressPrinter : public Callback<T> {
 public:
  explicit ProgressPrinter(ProgressPrinterOptions<T> options = {}) : options_(std::move(options)) {
    if (!options_.write)
      options_.write = [](const std::string& line) {
        std::fputs((line + "\n").c_str(), stdout);
        std::fflush(stdout);
      };
  }

  void on_begin(CallbackContext<T>& c) override {
    start_epoch_ = c.epoch();
    start_seconds_ = c.info().seconds;
    if (c.fresh_start()) print(c, false);
  }
  void on_epoch(CallbackContext<T>& c) override { print(c, true); }

 private:
  void print(const CallbackContext<T>& c, bool with_suffix) {
    std::string line = "epoch " + std::to_string(c.epoch());
    if (options_.epochs) line += "/" + std::to_string(options_.epochs);
    char buf[64];
    std::snprintf(buf, sizeof buf, "  passes %.4g  %.1fs", c.info().passes, c.info().seconds);
    line += buf;
    auto show = [&](const std::string& name, double value) {
      std::snprintf(buf, sizeof buf, "  %.24s %.6g", name.c_str(), value);
      line += buf;
    };
    if (options_.metrics.empty()) {
      for (const auto& [name, value] : c.metrics().items()) show(name, value);
    } else {
      for (const std::string& name : options_.metrics)
        if (const std::optional<double> v = c.metrics().find(name)) show(name, *v);
    }
    if (with_suffix && options_.suffix) {
      const std::string s = options_.suffix(c);
      if (!s.empty()) line += "  " + s;
    }
    if (options_.epochs && c.epoch() > start_epoch_ && c.epoch() < options_.epochs) {
      const double per_epoch = (c.info().seconds - start_seconds_) / static_cast<double>(c.epoch() - start_epoch_);
      const auto left = static_cast<long long>(per_epoch * static_cast<double>(options_.epochs - c.epoch()) + 0.5);
      line += "  eta " + (left >= 60 ? std::to_string(left / 60) + "m" : std::string()) + std::to_string(left % 60) + "s";
    }
    options_.write(line);
  }

  ProgressPrinterOptions<T> options_;
  std::size_t start_epoch_ = 0;
  double start_seconds_ = 0;
};

// Saves the run every `every` epochs: `save` gets the context, whose
// save_state(writer) writes the optimizer's whole state through optim's
// state I/O into the user's storage (a file written atomically, a map, …).
template <class T>
class Checkpointer : public Callback<T> {
 public:
  Checkpointer(std::size_t every, std::function<void(const CallbackContext<T>&)> save)
      : every_(every), save_(std::move(save)) {
    if (every_ == 0) throw std::invalid_argument("curv::optim::Checkpointer: every = 0, expected at least 1 epoch");
    if (!save_) throw std::invalid_argument("curv::optim::Checkpointer: no save function");
  }
  void on_epoch(CallbackContext<T>& c) override {
    if (c.epoch() % every_ == 0) {
      save_(c);
      last_saved_ = c.epoch();
    }
  }
  std::optional<std::size_t> last_saved() const { return last_saved_; }

 private:
  std::size_t every_;
  std::function<void(const CallbackContext<T>&)> save_;
  std::optional<std::size_t> last_saved_;
};

}  // namespace curv::optim
