// newton1d: the article's figure 1 as CSV — f(x) = x² + e^(−5(x−0.5)²), the
// parabola fitted at x₀ from curv's exact f′ and f″, and the Newton step.
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "curv_examples/csv.hpp"
#include "newton1d/newton1d.hpp"

namespace fs = std::filesystem;
using namespace curv::examples;

int main(int argc, char** argv) {
  CLI::App app{"newton1d: one Newton step on f(x) = x^2 + exp(-5 (x - 0.5)^2) (the article's figure 1).\n"
               "f' and f'' at x0 come from curv's value_and_grad and hvp (exact, no finite differences).\n"
               "Writes DIR/newton1d_curve.csv (x, f, parabola) and DIR/newton1d_step.csv (x0, f0, df, d2f, x1, f1)."};
  double x0 = 1.15, xmin = -0.5, xmax = 2.0;
  int samples = 501;
  std::string out = "out";
  app.add_option("--x0", x0, "point where the parabola is fitted")->capture_default_str();
  app.add_option("--xmin", xmin, "left end of the sampled interval")->capture_default_str();
  app.add_option("--xmax", xmax, "right end of the sampled interval")->capture_default_str();
  app.add_option("--samples", samples, "number of curve samples")->capture_default_str()->check(CLI::Range(2, 1000000));
  app.add_option("--out", out, "output directory (created if missing)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!(xmin < xmax)) {
    std::cerr << "newton1d: --xmin (" << xmin << ") must be less than --xmax (" << xmax << ")\n";
    return 2;
  }
  try {
    fs::create_directories(out);
    const NewtonStep s = newton1d_step(x0);
    if (!(s.d2f > 0))
      std::cerr << "newton1d: warning: f''(x0) = " << s.d2f << " <= 0, the parabola has no minimum\n";

    CsvTable curve({"x", "f", "parabola"});
    for (int i = 0; i < samples; ++i) {
      const double x = xmin + (xmax - xmin) * i / (samples - 1);
      curve.add_row({x, newton1d_value(x), s.parabola(x)});
    }
    curve.write(fs::path(out) / "newton1d_curve.csv");

    CsvTable step({"x0", "f0", "df", "d2f", "x1", "f1", "parabola_x1"});
    step.add_row({s.x0, s.f0, s.df, s.d2f, s.x1, s.f1, s.parabola(s.x1)});
    step.write(fs::path(out) / "newton1d_step.csv");

    std::cout.precision(10);
    std::cout << "x0=" << s.x0 << " f=" << s.f0 << " f'=" << s.df << " f''=" << s.d2f << "\n"
              << "newton step x1=" << s.x1 << " f(x1)=" << s.f1 << "\n"
              << "wrote " << (fs::path(out) / "newton1d_curve.csv").string() << " and "
              << (fs::path(out) / "newton1d_step.csv").string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "newton1d: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
