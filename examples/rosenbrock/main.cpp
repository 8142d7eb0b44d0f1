// rosenbrock: the article's figure 2 — paths of SCG (exact H·p), SGD, Adam
// (η = 0.01) and L-BFGS on f(x, y) = (1 − x)² + 100 (y − x²)² from one start,
// and the steps each needs to come within a tolerance of the minimum (1, 1).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <curv/autodiff.hpp>
#include <curv/optim.hpp>

#include "curv_examples/csv.hpp"

namespace fs = std::filesystem;
namespace ad = curv::ad;
namespace opt = curv::optim;
using curv::Tensor;
using namespace curv::examples;

namespace {

// Σᵢ 100 (x_{i+1} − x_i²)² + (1 − x_i)², the n-dimensional Rosenbrock function.
ad::Var<double> rosenbrock(const ad::Var<double>& x) {
  const std::size_t n = x.size();
  const ad::Var<double> head = ad::slice(x, 0, n - 1);
  const ad::Var<double> tail = ad::slice(x, 1, n);
  const ad::Var<double> a = tail - head * head;
  const ad::Var<double> b = 1.0 - head;
  return ad::sum(100.0 * a * a + b * b);
}

struct Point {
  std::size_t iteration;
  double x, y, f, passes;
};

struct Run {
  std::string name;
  std::vector<Point> path;
  std::string stop;
};

double distance_to_minimum(const Point& p) { return std::hypot(p.x - 1, p.y - 1); }

Point at(std::size_t k, const Tensor<double>& w, double passes) {
  const double x = w(0), y = w(1);
  return {k, x, y, (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x), passes};
}

bool done(const Point& p, double tol) { return distance_to_minimum(p) <= tol; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rosenbrock: paths of SCG (exact Hessian-vector products), SGD, Adam and L-BFGS on\n"
               "f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from one start (the article's figure 2).\n"
               "Writes DIR/rosenbrock_<optimizer>.csv (iteration, x, y, f, passes) and DIR/rosenbrock_summary.csv."};
  double x0 = -1.2, y0 = 1.0, tol = 1e-6, sgd_lr = 1e-3, adam_lr = 1e-2;
  std::size_t max_iterations = 20000;
  std::string out = "out";
  app.add_option("--x0", x0, "start x")->capture_default_str();
  app.add_option("--y0", y0, "start y")->capture_default_str();
  app.add_option("--tolerance", tol, "a run has reached the minimum when |(x, y) - (1, 1)| <= this")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-iterations", max_iterations, "iteration cap of every optimizer")->capture_default_str();
  app.add_option("--sgd-lr", sgd_lr, "SGD learning rate (above ~2e-3 it diverges from this start)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--adam-lr", adam_lr, "Adam learning rate (the article's 0.01)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", out, "output directory (created if missing)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    fs::create_directories(out);
    const Tensor<double> start = {x0, y0};
    std::vector<Run> runs;

    {  // SCG, one step() at a time so that the path is the iterates w_k.
      Run r{"scg", {}, ""};
      auto obj = opt::make_objective<double>(rosenbrock, 2);
      opt::ScgOptions o;
      o.gradient_tolerance = 0;
      opt::SCG<double> scg(o);
      opt::ScgState<double> st = scg.start(obj, start);
      r.path.push_back(at(0, st.w, st.passes));
      while (st.iteration < max_iterations && !done(r.path.back(), tol)) {
        scg.step(obj, st);
        r.path.push_back(at(st.iteration, st.w, st.passes));
        if (xt::all(xt::equal(st.r, 0.0)) || st.lambda >= o.lambda_max) break;  // r = −E′(w) exactly 0
      }
      r.stop = done(r.path.back(), tol) ? "reached" : "cap";
      runs.push_back(std::move(r));
    }
    auto first_order = [&](const char* name, auto& optimizer) {
      Run r{name, {}, ""};
      auto obj = opt::make_objective<double>(rosenbrock, 2);
      auto st = optimizer.start(start);
      r.path.push_back(at(0, st.w, st.passes));
      while (st.step < max_iterations && !done(r.path.back(), tol)) {
        try {
          optimizer.step(obj, st);
        } catch (const opt::NonFiniteError&) {  // the state keeps the last finite point
          r.stop = "diverged";
          break;
        }
        r.path.push_back(at(st.step, st.w, st.passes));
      }
      if (r.stop.empty()) r.stop = done(r.path.back(), tol) ? "reached" : "cap";
      if (!std::isfinite(r.path.back().f)) r.stop = "diverged";
      runs.push_back(std::move(r));
    };
    {
      opt::SgdOptions o;
      o.learning_rate = sgd_lr;
      opt::SGD<double> sgd(o);
      first_order("sgd", sgd);
    }
    {
      opt::AdamOptions o;
      o.learning_rate = adam_lr;
      opt::Adam<double> adam(o);
      first_order("adam", adam);
    }
    {  // L-BFGS: minimize() with a callback reading each accepted iterate.
      Run r{"lbfgs", {}, ""};
      auto obj = opt::make_objective<double>(rosenbrock, 2);
      r.path.push_back(at(0, start, 1));
      opt::LbfgsOptions o;
      o.max_iterations = max_iterations;
      o.gradient_tolerance = 1e-12;
      opt::OnStep<double> record([&](opt::CallbackContext<double>& c) {
        r.path.push_back(at(c.info().iteration, c.w(), c.info().passes));
        if (done(r.path.back(), tol)) c.stop("reached the tolerance");
      });
      opt::LBFGS<double> lbfgs(o);
      const auto res = lbfgs.minimize(obj, start, {&record});
      r.stop = done(r.path.back(), tol) ? "reached" : std::string(opt::to_string(res.stop_reason));
      runs.push_back(std::move(r));
    }

    CsvTable summary({"optimizer", "iterations", "reached", "final_x", "final_y", "final_f", "final_distance", "passes", "stop"});
    std::cout << "start (" << x0 << ", " << y0 << "), tolerance |(x,y) - (1,1)| <= " << tol << "\n";
    for (const Run& r : runs) {
      CsvTable path({"iteration", "x", "y", "f", "passes"});
      for (const Point& p : r.path)
        path.add_row({static_cast<long long>(p.iteration), p.x, p.y, p.f, p.passes});
      path.write(fs::path(out) / ("rosenbrock_" + r.name + ".csv"));
      const Point& last = r.path.back();
      const bool reached = r.stop == "reached";
      summary.add_row({r.name, static_cast<long long>(last.iteration), static_cast<long long>(reached ? 1 : 0), last.x,
                       last.y, last.f, distance_to_minimum(last), last.passes, r.stop});
      std::cout << r.name << ": " << (reached ? "reached the minimum in " : "stopped (" + r.stop + ") after ")
                << last.iteration << " iterations, " << last.passes << " passes, f = " << last.f
                << ", |x - x*| = " << distance_to_minimum(last) << "\n";
    }
    summary.write(fs::path(out) / "rosenbrock_summary.csv");
  } catch (const std::exception& e) {
    std::cerr << "rosenbrock: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
