// curv-train's engine: the epoch loop. One "epoch" is one optimizer iteration
// for the full-dataset optimizers (SCG, L-BFGS, CG) — however many passes
// over the data it takes — and one pass with a step per minibatch for SGD and
// Adam. The optimizers come from one table (optimizers.hpp), the data from
// data.hpp, the checks of every file before anything is written from
// outputs.hpp, the model from model.hpp; the checkpoint file is checkpoint.hpp.
#include "train/train.hpp"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include <tbb/info.h>

#include <curv/datasets.hpp>
#include <curv/nn.hpp>
#include <curv/optim.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/progress.hpp"
#include "curv_examples/signals.hpp"
#include "train/checkpoint.hpp"
#include "train/data.hpp"
#include "train/messages.hpp"
#include "train/model.hpp"
#include "train/optimizers.hpp"
#include "train/outputs.hpp"
#include "train/pass_bar.hpp"

namespace curv::examples {

namespace fs = std::filesystem;
namespace ds = curv::datasets;
namespace opt = curv::optim;

namespace {

// An epoch's training or validation loss is NaN or ±inf (curv-train then
// stops as on an optimizer's NonFiniteError).
class EpochNotFinite : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

double as_number(const CsvCell& cell) {
  if (const auto* d = std::get_if<double>(&cell)) return *d;
  if (const auto* i = std::get_if<long long>(&cell)) return static_cast<double>(*i);
  return kNaN;
}

// curv-train's own callback: an epoch's numbers are checked before anything
// is written, so a non-finite training or validation loss is a diverged run,
// like a refused step (EpochNotFinite); after each epoch it reports the
// metric of a reduce-on-plateau --lr-schedule (the validation loss, else the
// training loss).
template <class T>
class EpochCheck : public opt::Callback<T> {
 public:
  explicit EpochCheck(Runner<T>& runner) : runner_(runner) {}
  void on_begin(opt::CallbackContext<T>& c) override { check(c, true); }
  void on_epoch(opt::CallbackContext<T>& c) override {
    check(c, false);
    const std::optional<double> val = c.metrics().find("val_loss");
    runner_.report_metric(val ? *val : c.metrics().at("train_loss"));
  }

 private:
  static void check(const opt::CallbackContext<T>& c, bool initial) {
    for (const auto& [metric, what] : {std::pair{"train_loss", "the training loss"}, {"val_loss", "the validation loss"}})
      if (const std::optional<double> v = c.metrics().find(metric); v && !std::isfinite(*v))
        throw EpochNotFinite(std::string(what) + " is " + num(*v) + " at epoch " + std::to_string(c.epoch()) +
                             (initial ? " (the starting parameters)" : ""));
  }
  Runner<T>& runner_;
};

// A stop request (SIGINT, SIGTERM) seen by any rank, agreed by all: under
// mpirun the signal reaches the ranks at different moments, and they must
// stop at the same epoch. A collective: every rank calls it at the same
// places. One process: stop_requested().
bool stop_everywhere(const dist::Communicator& comm) {
  if (comm.size() == 1) return stop_requested();
  std::vector<double> flag{stop_requested() ? 1.0 : 0.0};
  comm.sum(flag);
  if (flag[0] > 0 && !stop_requested()) request_stop(SIGTERM);
  return flag[0] > 0;
}

template <class T>
TrainResult train(const TrainConfig& c) {
  // Under mpirun: rank 0 prints, logs and writes every file; each rank reads.
  const bool root = c.comm.is_root();
  const bool distributed = c.comm.size() > 1;
  check_output_paths(c);
  Data<T> data = load_data<T>(c);
  if (root)
    for (const std::string& w : data.warnings) std::fprintf(stderr, "curv-train: warning: %s\n", w.c_str());
  const Shape example(data.train.inputs().shape().begin() + 1, data.train.inputs().shape().end());
  check_mlp_fits(c, example);
  const std::unique_ptr<nn::Module<T>> model = make_model<T>(c, example);
  const nn::SoftmaxCrossEntropy<T> loss;
  const std::size_t dim = model->num_parameters();
  ds::ModelObjective<T> obj(*model, loss, data.train,
                            {.batch_size = static_cast<std::ptrdiff_t>(c.batch_size),
                             .threads = c.threads,
                             .seed = ds::mix_seed(c.seed, 3),
                             .curvature_fraction = c.curvature_fraction,
                             .curvature_seed = ds::mix_seed(c.seed, 4),
                             .reduce = c.comm.reducer(),
                             .first_row = data.whole.first_train_row});
  const std::ptrdiff_t eval_batch = c.batch_size < 0 ? std::ptrdiff_t(-1) : std::max<std::ptrdiff_t>(c.batch_size, 256);
  const ds::AccumulatorOptions eval_opts{.batch_size = eval_batch, .threads = c.threads, .reduce = c.comm.reducer()};
  Progress progress = c.progress_bar ? Progress(c.progress, *c.progress_bar) : Progress(c.progress);
  // The full-dataset optimizers' bar moves over each pass's minibatches.
  PassBar pass_bar(progress);
  obj.set_progress([&pass_bar](const ds::PassProgress& p) { pass_bar.report(p); });
  // A stop request abandons a full pass between two minibatches (ds::Cancelled).
  std::size_t batches_started = 0;
  // Under mpirun a pass is never abandoned midway (the ranks would disagree
  // on where): a stop request takes effect between epochs, agreed by all.
  auto cancel = [&c, &batches_started, distributed] {
    if (c.stop_after_batches && ++batches_started >= *c.stop_after_batches && !stop_requested()) request_stop(SIGINT);
    return !distributed && stop_requested();
  };
  obj.set_cancel(cancel);
  ds::Accumulator<T> train_acc(*model, loss, data.train,
                               {.batch_size = static_cast<std::ptrdiff_t>(c.batch_size),
                                .threads = c.threads,
                                .reduce = c.comm.reducer(),
                                .first_row = data.whole.first_train_row});
  train_acc.set_cancel(cancel);
  const OptimizerEntry& optimizer = find_optimizer(c.optimizer);
  std::unique_ptr<Runner<T>> runner = optimizer.make<T>()(c, RunnerInputs<T>{obj, pass_bar, train_acc, *model});
  runner->stop_after_steps = c.stop_after_steps;
  auto print = [&](const std::string& line) {
    if (!c.quiet && root) {
      progress.suspend();
      std::fputs((line + "\n").c_str(), c.out);
      std::fflush(c.out);
      progress.resume();
    }
  };

  const auto settings = settings_of(c, data, dim);
  const fs::path ckpt_dir = c.checkpoint;
  const fs::path ckpt_file = c.checkpoint.empty() ? fs::path() : ckpt_dir / "checkpoint.curv";

  std::optional<Checkpoint> resumed;
  if (c.resume) {
    if (c.checkpoint.empty()) bad_option("--resume", "", "needs --checkpoint DIR");
    if (!fs::exists(ckpt_file))
      throw CheckpointError("--resume: no checkpoint " + ckpt_file.string() + " to resume from");
    resumed = Checkpoint::read(ckpt_file);
    check_settings(ckpt_file, resumed->settings, settings);
  } else if (!c.checkpoint.empty() && fs::exists(ckpt_file) && !c.overwrite) {
    throw CheckpointError("--checkpoint " + ckpt_dir.string() + " already holds a checkpoint; pass --resume to continue it or --overwrite to replace it");
  }
  refuse_existing_outputs(c);  // every rank: each refuses alike
  if (resumed && !c.log.empty()) check_log_for_resume(c.log, log_columns(c), resumed->settings);

  print("curv-train: " + c.dataset + " (" + std::to_string(data.whole.train) + " train, " +
        std::to_string(data.whole.val) + " val, " + std::to_string(data.whole.test) + " test" +
        (distributed ? ", sharded over " + std::to_string(c.comm.size()) + " ranks" : std::string()) + "), " + c.model +
        " (" +
        std::to_string(dim) + " parameters, " + c.dtype + "), " + c.optimizer + optimizer.describe(c) +
        ", batch size " + std::to_string(c.batch_size) + ", " + std::to_string(c.epochs) + " epochs, seed " +
        std::to_string(c.seed));

  TrainResult result;
  result.num_parameters = dim;
  result.warnings = data.warnings;
  std::optional<opt::EarlyStopping<T>> early_stopping;
  if (c.early_stopping) {
    if (!data.val.size()) bad_option("--early-stopping", std::to_string(*c.early_stopping), "needs a validation set (--val-size > 0)");
    early_stopping.emplace(opt::EarlyStoppingOptions{.monitor = "val_loss", .patience = *c.early_stopping});
  }
  bool started = true;  // false: a stop request came during the start's pass, before any state
  if (resumed) {
    try {
      runner->restore(*resumed, dim, c.epochs);
      if (early_stopping) early_stopping->load(*resumed, dim);
    } catch (const std::exception& e) {
      throw CheckpointError("checkpoint " + ckpt_file.string() + ": " + e.what() + "; refusing to resume");
    }
    print("curv-train: resumed from " + ckpt_file.string() + " at epoch " + std::to_string(runner->epoch()));
  } else {
    try {
      runner->start(initial_parameters(c, *model));
    } catch (const ds::Cancelled&) {
      started = false;
    }
    progress.end();  // the start's gradient pass
  }

  // Everything is checked: from here on files are written.
  if (!c.export_data.empty() && root) export_data(c.export_data, data);
  if (!c.log.empty() && started && root) {
    if (fs::path(c.log).has_parent_path()) fs::create_directories(fs::path(c.log).parent_path());
    if (resumed) trim_log(c.log, runner->epoch());
  }

  std::optional<ds::Accumulator<T>> val_acc;
  if (data.val.size()) {
    val_acc.emplace(*model, loss, data.val, eval_opts);
    val_acc->set_cancel(cancel);
  }

  // checkpoint.curv is authoritative; model.npz is derived from the same
  // state, written right after it (and re-derived on resume when a kill
  // between the two left it behind).
  const fs::path model_file = c.checkpoint.empty() ? fs::path() : ckpt_dir / "model.npz";
  std::optional<std::size_t> saved_epoch;
  if (resumed) saved_epoch = runner->epoch();
  auto save_checkpoint = [&]() {
    if (c.checkpoint.empty()) return;
    if (!root) {  // rank 0 writes the state every rank holds alike
      saved_epoch = runner->epoch();
      return;
    }
    fs::create_directories(ckpt_dir);
    Checkpoint ck;
    ck.settings = settings;
    ck.settings["log"] = log_record(started ? fs::path(c.log) : fs::path());
    runner->save(ck);
    if (early_stopping) early_stopping->save(ck);
    ck.counters["epoch"] = runner->epoch();
    ck.write(ckpt_file);
    nn::save_parameters(model_file, *model, runner->w());
    saved_epoch = runner->epoch();
  };
  auto model_file_matches = [&]() {
    try {
      const Tensor<T> on_disk = nn::load_parameters<T>(model_file, *model);
      const Tensor<T>& w = runner->w();
      return on_disk.size() == w.size() && std::memcmp(on_disk.data(), w.data(), w.size() * sizeof(T)) == 0;
    } catch (const std::exception&) {
      return false;
    }
  };

  if (!c.checkpoint.empty() && fs::is_directory(ckpt_dir) && started && root) {
    // Temporary files of writes that a kill interrupted (this folder is this run's).
    const std::vector<fs::path> swept = nn::remove_stale_temp_files(ckpt_dir, {"checkpoint.curv", "model.npz"});
    if (!swept.empty())
      print("curv-train: removed " + std::to_string(swept.size()) + " stale temporary file(s) from " +
            ckpt_dir.string());
    if (resumed && !model_file_matches()) {
      nn::save_parameters(model_file, *model, runner->w());
      print("curv-train: " + model_file.string() + " did not hold the checkpoint's parameters; rewritten from it");
    }
  }

  // Each epoch's work is the library's callbacks (optim/callbacks.hpp,
  // datasets/validation.hpp), in this order: the validation pass, this
  // program's check of the epoch's losses (EpochCheck), early stopping, the
  // CSV log, the console line, the periodic checkpoint. The loop below only
  // runs epochs and fills in the event (the optimizer's counters and the
  // "train_loss" metric).
  std::optional<ds::Validation<T>> validation;
  if (val_acc) validation.emplace(*val_acc);
  // --log-test: the test set's numbers at every epoch, for curves of test
  // accuracy against passes (nothing reads them but the log and the console).
  std::optional<ds::Accumulator<T>> test_acc;
  std::optional<ds::Validation<T>> test_curve;
  if (c.log_test) {
    test_acc.emplace(*model, loss, data.test, eval_opts);
    test_acc->set_cancel(cancel);
    test_curve.emplace(*test_acc, ds::ValidationOptions{.prefix = "test"});
  }
  EpochCheck<T> epoch_check(*runner);
  std::optional<opt::CsvLogger<T>> csv;
  if (!c.log.empty() && started && root)
    csv.emplace(c.log, opt::CsvLoggerOptions{log_columns(c),
                                             resumed ? CsvLog::Mode::append : CsvLog::Mode::truncate});
  std::vector<std::string> shown{"train_loss", "val_loss", "val_accuracy"};
  if (c.log_test) shown.push_back("test_accuracy");
  opt::ProgressPrinter<T> printer({.epochs = c.epochs,
                                   .write = print,
                                   .suffix = [&runner](const opt::CallbackContext<T>&) { return runner->summary(); },
                                   .metrics = std::move(shown)});
  std::optional<opt::Checkpointer<T>> checkpointer;
  if (c.checkpoint_every) checkpointer.emplace(c.checkpoint_every, [&](const opt::CallbackContext<T>&) { save_checkpoint(); });
  const opt::CallbackList<T> callbacks({validation ? &*validation : nullptr, test_curve ? &*test_curve : nullptr, &epoch_check,
                                        early_stopping ? &*early_stopping : nullptr, csv ? &*csv : nullptr,
                                        c.quiet ? nullptr : &printer, checkpointer ? &*checkpointer : nullptr});
  opt::CallbackContext<T> context(c.optimizer, opt::ObjectiveRef<T>(obj),
                                  [&runner](opt::StateWriter& out) { runner->save(out); });
  opt::IterationInfo info;
  std::size_t logged_epoch = runner->epoch();  // the last epoch whose row is in the log (or the resumed one)
  // The event of the epoch just done; the training loss only where the
  // callbacks need it (for SGD and Adam it costs a pass).
  // The optimizer's own log columns (λ, α, …) are metrics too, after an
  // iteration.
  const std::vector<std::string> own_columns = optimizer.column_names();
  auto at_epoch = [&](bool with_train_loss, bool with_own_columns, bool fresh_start = false) {
    info = opt::IterationInfo{};
    info.iteration = runner->epoch();
    info.passes = runner->passes();
    info.seconds = runner->seconds();
    if (with_train_loss) info.loss = runner->train_loss();
    context.at(info, runner->w(), runner->epoch(), fresh_start);
    if (with_train_loss) context.metrics().set("train_loss", info.loss);
    if (with_own_columns) {
      const std::vector<CsvCell> cells = runner->extra();
      for (std::size_t i = 0; i < cells.size() && i < own_columns.size(); ++i)
        context.metrics().set(own_columns[i], as_number(cells[i]));
    }
  };
  auto remember = [&]() {
    result.train_loss = context.metrics().find("train_loss").value_or(kNaN);
    result.val_loss = context.metrics().find("val_loss").value_or(kNaN);
    result.val_accuracy = context.metrics().find("val_accuracy").value_or(kNaN);
    logged_epoch = runner->epoch();
  };

  // A stop request during a pass (ds::Cancelled) leaves the optimizer's state
  // at the end of its last finished iteration or step; during the epoch's
  // evaluation, at an epoch whose row is not written yet, which must not be
  // saved (the checkpoint on disk stays the last good one).
  bool unlogged = !started;
  try {
    if (started) {
      try {
        at_epoch(!resumed, false, !resumed);
        callbacks.begin(context);
        if (!resumed) {
          remember();
          save_checkpoint();
        }
      } catch (const ds::Cancelled&) {
        progress.end();
        unlogged = !resumed;
      }
      if (context.stop_requested()) {
        result.stop_message = context.stop_reason();
        print("curv-train: stopped at epoch " + std::to_string(runner->epoch()) + ": " + context.stop_reason());
      }
    }
    while (!unlogged && result.stop_message.empty() && runner->epoch() < c.epochs) {
      if (stop_everywhere(c.comm)) break;
      if (c.max_passes && runner->passes() >= *c.max_passes) {  // also a resumed run already there
        result.stop_message = "reached --max-passes " + num(*c.max_passes) + " (" + num(runner->passes()) + " passes)";
        print("curv-train: stopped at epoch " + std::to_string(runner->epoch()) + ": " + result.stop_message);
        break;
      }
      bool complete = false;
      try {
        complete = runner->run_epoch(progress, c.epochs);
      } catch (const ds::Cancelled&) {
        progress.end();
        break;
      }
      if (!complete) break;
      if (runner->stepped()) {
        try {
          at_epoch(true, true);
          callbacks.epoch(context);
          remember();
        } catch (const ds::Cancelled&) {
          progress.end();
          unlogged = true;
          break;
        }
      }
      if (context.stop_requested()) {
        result.stop_message = context.stop_reason();
        print("curv-train: stopped at epoch " + std::to_string(runner->epoch()) + ": " + context.stop_reason());
      } else if (const std::string why = runner->finished(); !why.empty()) {
        result.stop_message = why;
        print("curv-train: " + c.optimizer + " stopped at epoch " + std::to_string(runner->epoch()) + ": " + why);
      }
    }
  } catch (const std::exception& e) {
    if (!dynamic_cast<const opt::NonFiniteError*>(&e) && !dynamic_cast<const EpochNotFinite*>(&e)) throw;
    progress.end();
    std::string kept = c.checkpoint.empty() ? "no --checkpoint was given"
                       : saved_epoch       ? "the checkpoint of epoch " + std::to_string(*saved_epoch) + " in " +
                                           ckpt_dir.string() + " and its model.npz are kept"
                                           : "no checkpoint was written";
    const std::string when = dynamic_cast<const EpochNotFinite*>(&e)
                                 ? std::string()
                                 : " in epoch " + std::to_string(runner->epoch() + 1) + " of " + std::to_string(c.epochs);
    const auto* refused = dynamic_cast<const opt::NonFiniteError*>(&e);
    const std::string what = refused ? describe_non_finite(*refused, *model) : std::string(e.what());
    throw TrainingDiverged("training diverged" + when + ": " + what + ". Nothing more was written: " +
                           kept + (c.log.empty() ? "" : ", the log ends at epoch " + std::to_string(logged_epoch)) +
                           (c.save_model.empty() ? "" : ", --save-model was not written") +
                           ". Resume with a smaller learning rate, or check the data and --init.");
  }
  progress.end();
  result.epochs_done = unlogged ? saved_epoch.value_or(0) : runner->epoch();
  if (!unlogged && saved_epoch != runner->epoch()) save_checkpoint();
  bool interrupted = stop_everywhere(c.comm) && result.stop_message.empty() && (unlogged || runner->epoch() < c.epochs);
  // The weights tested and saved: the last ones, or early stopping's best.
  opt::Result<T> final_weights;
  final_weights.x = runner->w();
  if (!interrupted && !unlogged) {
    try {
      at_epoch(false, false);
      callbacks.end(context, final_weights);
    } catch (const ds::Cancelled&) {
      interrupted = true;
    }
    if (!final_weights.message.empty()) print("curv-train: " + final_weights.message.substr(2));
  }
  ds::Evaluation t;
  if (!interrupted) {
    try {
      ds::Accumulator<T> test_acc(*model, loss, data.test, eval_opts);
      test_acc.set_cancel(cancel);
      t = test_acc.evaluate(final_weights.x);
    } catch (const ds::Cancelled&) {
      interrupted = true;
    }
  }
  if (interrupted) {
    result.interrupted = true;
    result.signal = stop_signal();
    result.test_accuracy = result.test_loss = kNaN;
    std::string where = c.checkpoint.empty() ? "no --checkpoint was given, so nothing was saved"
                        : saved_epoch        ? "checkpoint of epoch " + std::to_string(*saved_epoch) + " in " +
                                            ckpt_file.string() + "; continue with --resume"
                                             : "no checkpoint was written yet";
    if (root)
      std::fprintf(stderr, "curv-train: stopped at epoch %zu by signal %d; %s\n", result.epochs_done, result.signal,
                   where.c_str());
  } else {
    result.test_loss = t.loss;
    result.test_accuracy = t.accuracy;
    char line[128];
    std::snprintf(line, sizeof line, "test_loss=%.6f test_accuracy=%.4f", t.loss, t.accuracy);
    if (root) {
      std::fputs((std::string(line) + "\n").c_str(), c.out);
      std::fflush(c.out);
      if (!c.save_model.empty()) save_model(c.save_model, *model, final_weights.x);
    }
  }
  const Tensor<T>& w = final_weights.x;
  result.parameters.assign(w.begin(), w.end());
  return result;
}

}  // namespace

std::vector<std::string> log_columns(const TrainConfig& c) {
  std::vector<std::string> cols = {"epoch", "passes", "seconds", "train_loss", "val_loss", "val_accuracy"};
  if (c.log_test) cols.insert(cols.end(), {"test_loss", "test_accuracy"});
  const std::vector<std::string> own = find_optimizer(c.optimizer).column_names();
  cols.insert(cols.end(), own.begin(), own.end());
  return cols;
}

int max_threads() { return 4 * std::max(1, tbb::info::default_concurrency()); }

void validate(const TrainConfig& c) {
  if (c.dataset.empty()) bad_option("--dataset", "''", "expected mnist, mnist-small, fashion-mnist or a folder");
  if (c.model != "article-cnn" && c.model != "mlp") bad_option("--model", c.model, "expected article-cnn or mlp");
  if (c.kernel_size % 2 == 0) bad_option("--kernel-size", std::to_string(c.kernel_size), "expected an odd number");
  if (c.hidden == 0) bad_option("--hidden", "0", "expected at least 1");
  if (!(c.dropout >= 0 && c.dropout < 1)) bad_option("--dropout", num(c.dropout), "expected a probability in [0, 1)");
  const OptimizerEntry& optimizer = find_optimizer(c.optimizer);
  parse_curvature(c.curvature);
  if (c.lr && !(*c.lr > 0 && std::isfinite(*c.lr))) bad_option("--lr", num(*c.lr), "expected a positive number");
  if (c.lr && !optimizer.takes_lr)
    bad_option("--lr", num(*c.lr), "--optimizer " + c.optimizer + " takes no learning rate (it sets its own step)");
  if (c.lambda_initial && !optimizer.takes_lambda_initial)
    bad_option("--lambda-initial", num(*c.lambda_initial),
               "applies to --optimizer " + optimizers_that([](const OptimizerEntry& e) { return e.takes_lambda_initial; }) +
                   " only (the optimizers damped by a lambda); --optimizer " + c.optimizer + " has none");
  if (c.lambda_initial && !(*c.lambda_initial >= optimizer.lambda_min && *c.lambda_initial < optimizer.lambda_max))
    bad_option("--lambda-initial", num(*c.lambda_initial),
               "expected a damping in [" + num(optimizer.lambda_min) + ", " + num(optimizer.lambda_max) + ")");
  if (!(c.momentum >= 0 && c.momentum < 1)) bad_option("--momentum", num(c.momentum), "expected 0 <= momentum < 1");
  if (c.max_passes && !(*c.max_passes > 0 && std::isfinite(*c.max_passes)))
    bad_option("--max-passes", num(*c.max_passes), "expected a positive number of passes over the training data");
  if (c.accumulate == 0) bad_option("--accumulate", "0", "expected at least 1 minibatch per step");
  if (c.early_stopping && *c.early_stopping == 0)
    bad_option("--early-stopping", "0", "expected a patience of at least 1 epoch");
  if (!(c.curvature_fraction > 0 && c.curvature_fraction <= 1))
    bad_option("--curvature-fraction", num(c.curvature_fraction), "expected a share of the training set in (0, 1]");
  if (c.curvature_fraction != 1 && !optimizer.subsampled_curvature)
    bad_option("--curvature-fraction", num(c.curvature_fraction),
               "applies to --optimizer " + optimizers_that([](const OptimizerEntry& e) { return e.subsampled_curvature; }) +
                   " only (their curvature products may run on a subsample); --optimizer " + c.optimizer +
                   " uses the whole set's");
  if (!(c.weight_decay >= 0 && std::isfinite(c.weight_decay))) bad_option("--weight-decay", num(c.weight_decay), "expected a number >= 0");
  if (c.clip_grad_norm && !(*c.clip_grad_norm > 0 && std::isfinite(*c.clip_grad_norm) && !optimizer.full_dataset))
    bad_option("--clip-grad-norm", num(*c.clip_grad_norm), optimizer.full_dataset ? "applies to --optimizer sgd or adam only" : "expected a positive number");
  parse_lr_schedule(c.lr_schedule, std::max<std::size_t>(c.epochs, 1), 1 << 20);  // the real steps per epoch later
  if (c.batch_size == 0 || c.batch_size < -1)
    bad_option("--batch-size", std::to_string(c.batch_size), "expected a positive number or -1 (the whole set)");
  if (c.dtype != "float32" && c.dtype != "float64") bad_option("--dtype", c.dtype, "expected float32 or float64");
  if (c.threads < 0 || c.threads > max_threads())
    bad_option("--threads", std::to_string(c.threads),
               "expected 0 (every core) to " + std::to_string(max_threads()) + " (4 × the " +
                   std::to_string(max_threads() / 4) +
                   " cores of this machine: no more run at once, and each holds a minibatch in memory)");
  if (c.model == "article-cnn" && c.kernel_size > 27)
    bad_option("--kernel-size", std::to_string(c.kernel_size), "expected an odd size up to 27 (the images are 28×28)");

  if (c.resume && c.checkpoint.empty()) bad_option("--resume", "", "needs --checkpoint DIR");
  if (c.resume && c.overwrite) bad_option("--overwrite", "", "cannot be combined with --resume");
  auto ends_with = [](const std::string& s, const char* ext) { return fs::path(s).extension() == ext; };
  if (!c.export_data.empty() && !ends_with(c.export_data, ".npz"))
    bad_option("--export-data", c.export_data, "expected a file name ending in .npz");
  if (!c.init.empty() && !ends_with(c.init, ".npz") && !ends_with(c.init, ".npy"))
    bad_option("--init", c.init, "expected an .npz of named parameters (as --save-model writes) or an .npy flat vector");
  if (!c.save_model.empty() && !ends_with(c.save_model, ".npz") && !ends_with(c.save_model, ".npy"))
    bad_option("--save-model", c.save_model, "expected a file name ending in .npz (named parameters) or .npy (flat vector)");
  if (!c.init.empty() && c.resume)
    bad_option("--init", c.init, "cannot be combined with --resume (the checkpoint holds the parameters)");
  if (c.comm.size() > 1 && !c.export_data.empty())
    bad_option("--export-data", c.export_data,
               "cannot be used under mpirun -np " + std::to_string(c.comm.size()) +
                   ": each rank holds only its shard; export from one process");
}

TrainResult run_training(const TrainConfig& config) {
  validate(config);
  return config.dtype == "float64" ? train<double>(config) : train<float>(config);
}

}  // namespace curv::examples

