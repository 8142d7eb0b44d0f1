// newton1d: curv's exact f′, f″ against the calculus by hand, and the step.
#include <cmath>

#include <gtest/gtest.h>

#include "newton1d/newton1d.hpp"

namespace {

double f(double x) { return x * x + std::exp(-5 * (x - 0.5) * (x - 0.5)); }
double df(double x) {
  const double d = x - 0.5, e = std::exp(-5 * d * d);
  return 2 * x - 10 * d * e;
}
double d2f(double x) {
  const double d = x - 0.5, e = std::exp(-5 * d * d);
  return 2 - 10 * e + 100 * d * d * e;
}

TEST(Newton1d, DerivativesAtArticlePointMatchAnalyticOnes) {
  const auto s = curv::examples::newton1d_step(1.15);
  EXPECT_NEAR(s.f0, f(1.15), 1e-15);
  EXPECT_NEAR(s.df, df(1.15), 1e-14);
  EXPECT_NEAR(s.d2f, d2f(1.15), 1e-13);
}

TEST(Newton1d, StepIsMinimumOfFittedParabola) {
  const auto s = curv::examples::newton1d_step(1.15);
  EXPECT_NEAR(s.x1, 1.15 - df(1.15) / d2f(1.15), 1e-14);
  EXPECT_NEAR(s.f1, f(s.x1), 1e-15);
  // The parabola touches f at x0 and is flat at x1.
  EXPECT_NEAR(s.parabola(s.x0), s.f0, 1e-15);
  const double h = 1e-6;
  EXPECT_NEAR((s.parabola(s.x1 + h) - s.parabola(s.x1 - h)) / (2 * h), 0.0, 1e-8);
  // On this f the step decreases the value (the article's point).
  EXPECT_LT(s.f1, s.f0);
}

TEST(Newton1d, DerivativesMatchAnalyticOnesOnAGrid) {
  for (double x = -1.0; x <= 2.0; x += 0.125) {
    const auto s = curv::examples::newton1d_step(x);
    EXPECT_NEAR(s.df, df(x), 1e-13) << "x = " << x;
    EXPECT_NEAR(s.d2f, d2f(x), 1e-12) << "x = " << x;
  }
}

}  // namespace
