// batch_sweep: the article's figure 4 — SCG from one initialization with
// minibatch sizes 32, 64, 256, 1024 and −1 (the whole set). The accumulated
// gradient and H·p are full-dataset quantities, so the loss curves must lie on
// top of each other up to floating-point summation order; this program
// measures by how much they differ.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "curv_examples/csv.hpp"
#include "curv_examples/signals.hpp"
#include "curv_examples/train_options.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

int main(int argc, char** argv) {
  CLI::App app{"batch_sweep: SCG with several minibatch sizes from one initialization (the article's figure 4).\n"
               "Writes DIR/batch_<size>.csv (curv-train's log) per batch size and DIR/batch_sweep_summary.csv\n"
               "(per epoch: the largest relative difference of train and validation loss across batch sizes);\n"
               "prints max_relative_difference=<value>."};
  TrainConfig c;
  c.dtype = "float64";
  c.epochs = 20;
  std::string out = "out";
  std::vector<long long> sizes = {32, 64, 256, 1024, -1};
  add_data_options(app, c);
  app.add_option("--curvature", c.curvature, "exact, gauss-newton or finite-difference")->capture_default_str();
  app.add_option("--epochs", c.epochs, "SCG iterations per batch size")->capture_default_str();
  app.add_option("--batch-sizes", sizes, "batch sizes (-1 = the whole set)")->delimiter(',')->capture_default_str();
  app.add_option("--out", out, "output directory (created if missing)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    check_model_options(app, c);
  } catch (const std::invalid_argument& e) {
    std::cerr << "batch_sweep: " << e.what() << "\n";
    return 2;
  }
  c.optimizer = "scg";
  install_stop_handlers();
  try {
    fs::create_directories(out);
    std::map<long long, std::vector<std::pair<double, double>>> curves;  // batch → (train, val) per epoch
    for (long long b : sizes) {
      TrainConfig run = c;
      run.batch_size = b;
      run.overwrite = true;  // DIR holds this program's own outputs, rewritten by every run
      run.log = (fs::path(out) / ("batch_" + (b < 0 ? std::string("all") : std::to_string(b)) + ".csv")).string();
      std::cout << "== batch size " << b << "\n" << std::flush;
      const TrainResult r = run_training(run);
      if (r.interrupted) return 128 + r.signal;
      const CsvContent log = read_csv(run.log);
      for (const auto& row : log.rows) curves[b].emplace_back(std::stod(row[3]), std::stod(row[4]));
    }
    CsvTable summary({"epoch", "max_rel_diff_train_loss", "max_rel_diff_val_loss"});
    double overall = 0;
    std::size_t epochs = SIZE_MAX;
    for (const auto& [b, curve] : curves) epochs = std::min(epochs, curve.size());
    for (std::size_t e = 0; e < epochs; ++e) {
      double lo_t = INFINITY, hi_t = -INFINITY, lo_v = INFINITY, hi_v = -INFINITY;
      for (const auto& [b, curve] : curves) {
        lo_t = std::min(lo_t, curve[e].first), hi_t = std::max(hi_t, curve[e].first);
        lo_v = std::min(lo_v, curve[e].second), hi_v = std::max(hi_v, curve[e].second);
      }
      const double dt = (hi_t - lo_t) / std::abs(hi_t), dv = (hi_v - lo_v) / std::abs(hi_v);
      overall = std::max({overall, dt, std::isnan(dv) ? 0.0 : dv});
      summary.add_row({static_cast<long long>(e), dt, dv});
    }
    summary.write(fs::path(out) / "batch_sweep_summary.csv");
    std::ostringstream s;
    s.precision(3);
    s << "max_relative_difference=" << overall;
    std::cout << s.str() << "  (largest relative difference of the train/val loss across batch sizes, over "
              << epochs << " epochs, " << c.dtype << ")\n";
  } catch (const std::exception& e) {
    std::cerr << "batch_sweep: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
