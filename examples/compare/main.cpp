// compare: curv-train's optimizers (SCG, SGD and Adam by default; any entry
// of its table, optimizers.hpp) on the same model, data and initial weights,
// for the same budget of passes over the training data; the logs give the
// loss against passes and against seconds.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "curv_examples/train_options.hpp"
#include "train/messages.hpp"
#include "train/optimizers.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

int main(int argc, char** argv) {
  CLI::App app{"compare: optimizers from one initialization, for a budget of passes over the training data\n"
               "(each runs until the epoch that reaches it: an SCG iteration costs 2 passes, an SGD/Adam epoch 1). Writes DIR/compare_<optimizer>.csv\n"
               "(curv-train's log) and DIR/compare_summary.csv (final losses, test accuracy, seconds)."};
  const auto all = [](const OptimizerEntry&) { return true; };
  const auto momentum = [](const OptimizerEntry& e) { return e.takes_momentum; };
  TrainConfig c;
  std::string out = "out";
  std::size_t passes = 20;
  long long batch = 256;
  double momentum_value = 0.9;
  std::map<std::string, double> lr;  // --<name>-lr of every optimizer of the table that takes one
  std::vector<std::string> optimizers = {"scg", "sgd", "adam"};
  add_data_options(app, c);
  app.add_option("--passes", passes, "passes over the training data per optimizer")->capture_default_str();
  app.add_option("--batch-size", batch, "minibatch size (SGD/Adam step on each; SCG accumulates over them)")->capture_default_str();
  for (const OptimizerEntry& e : optimizer_table()) {
    if (!e.takes_lr) continue;
    lr[e.name] = e.default_lr;
    app.add_option("--" + std::string(e.name) + "-lr", lr[e.name], std::string(e.name) + " learning rate")
        ->capture_default_str();
  }
  app.add_option("--momentum", momentum_value, "momentum of " + optimizers_that(momentum))->capture_default_str();
  app.add_option("--optimizers", optimizers, "optimizers to run, of " + optimizers_that(all))
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--out", out, "output directory (created if missing)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    check_model_options(app, c);
    for (const std::string& o : optimizers)
      if (std::none_of(optimizer_table().begin(), optimizer_table().end(),
                       [&](const OptimizerEntry& e) { return o == e.name; }))
        bad_option("--optimizers", o, "expected " + optimizers_that(all));
  } catch (const std::invalid_argument& e) {
    std::cerr << "compare: " << e.what() << "\n";
    return 2;
  }
  install_stop_handlers();
  try {
    fs::create_directories(out);
    CsvTable summary({"optimizer", "epochs", "passes", "seconds", "train_loss", "val_loss", "val_accuracy", "test_accuracy"});
    for (const std::string& o : optimizers) {
      TrainConfig run = c;
      run.optimizer = o;
      run.batch_size = batch;
      const OptimizerEntry& e = find_optimizer(o);
      run.epochs = passes;  // every epoch costs at least one pass
      run.max_passes = static_cast<double>(passes);
      if (e.takes_lr) run.lr = lr.at(o);
      if (e.takes_momentum) run.momentum = momentum_value;
      run.overwrite = true;  // DIR holds this program's own outputs, rewritten by every run
      run.log = (fs::path(out) / ("compare_" + o + ".csv")).string();
      std::cout << "== " << o << "\n" << std::flush;
      const TrainResult r = run_training(run);
      if (r.interrupted) return 128 + r.signal;
      const CsvContent log = read_csv(run.log);
      const auto& last = log.rows.back();
      summary.add_row({o, static_cast<long long>(r.epochs_done), std::stod(last[1]), std::stod(last[2]), r.train_loss,
                       r.val_loss, r.val_accuracy, r.test_accuracy});
    }
    summary.write(fs::path(out) / "compare_summary.csv");
  } catch (const std::exception& e) {
    std::cerr << "compare: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
