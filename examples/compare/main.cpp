// compare: SCG against SGD and Adam on the same model, data and initial
// weights, for the same budget of passes over the training data; the logs
// give the loss against passes and against seconds.
#include <filesystem>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "curv_examples/train_options.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

int main(int argc, char** argv) {
  CLI::App app{"compare: SCG vs SGD vs Adam from one initialization, for a budget of passes over the training data\n"
               "(an SCG iteration costs about 2 passes, an SGD/Adam epoch 1). Writes DIR/compare_<optimizer>.csv\n"
               "(curv-train's log) and DIR/compare_summary.csv (final losses, test accuracy, seconds)."};
  TrainConfig c;
  std::string out = "out";
  std::size_t passes = 20;
  long long batch = 256;
  double sgd_lr = 0.01, adam_lr = 0.001, momentum = 0.9;
  std::vector<std::string> optimizers = {"scg", "sgd", "adam"};
  add_data_options(app, c);
  app.add_option("--passes", passes, "passes over the training data per optimizer")->capture_default_str();
  app.add_option("--batch-size", batch, "minibatch size (SGD/Adam step on each; SCG accumulates over them)")->capture_default_str();
  app.add_option("--sgd-lr", sgd_lr, "SGD learning rate")->capture_default_str();
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str();
  app.add_option("--adam-lr", adam_lr, "Adam learning rate")->capture_default_str();
  app.add_option("--optimizers", optimizers, "optimizers to run")->delimiter(',')->capture_default_str();
  app.add_option("--out", out, "output directory (created if missing)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    check_model_options(app, c);
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
      if (o == "scg") {
        run.epochs = std::max<std::size_t>(1, passes / 2);
      } else if (o == "sgd") {
        run.epochs = passes, run.lr = sgd_lr, run.momentum = momentum;
      } else if (o == "adam") {
        run.epochs = passes, run.lr = adam_lr;
      } else {
        std::cerr << "compare: --optimizers " << o << ": expected scg, sgd or adam\n";
        return 2;
      }
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
