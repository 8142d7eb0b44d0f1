// The test kit itself (<curv/autodiff/testing.hpp>): it passes correct rules
// and, for a rule broken on purpose, reports and throws naming the broken
// derivative and its worst element.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include "curv/autodiff.hpp"
#include "curv/autodiff/testing.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
namespace ad = curv::ad;
namespace testing = curv::testing;

// y = x³ with an adjoint-tangent rule that forgets the curvature term
// 6x ẋ ȳ: value, JVP and gradient are right, H·v is not.
template <class T>
class CubeWithoutCurvature final : public ad::Op<T> {
 public:
  std::string_view name() const override { return "cube_without_curvature"; }
  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    return T(3) * c.input(0) * c.input(0) * c.input_tangent(0);
  }
  void adjoint(ad::OpContext<T>& c) const override {
    c.input_adjoint(0) += T(3) * c.input(0) * c.input(0) * c.adjoint();
  }
  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (c.has_adjoint_tangent()) c.input_adjoint_tangent(0) += T(3) * c.input(0) * c.input(0) * c.adjoint_tangent();
  }
};

template <class T>
Var<T> broken_cube(const Var<T>& x) {
  Tensor<T> y = x.value() * x.value() * x.value();
  return x.tape().record(std::make_unique<CubeWithoutCurvature<T>>(), {x}, std::move(y));
}

const Tensor<double> x0 = {0.5, -1.0, 2.0};  // the largest H·v error is at x = 2, element 2

TEST(TestingKit, PassesCorrectDerivativesInFloat64AndFloat32) {
  const auto r = testing::check_function([]<class T>(const Var<T>& x) { return ad::sum(x * x * x); }, x0);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.comparisons.size(), 8u);  // 3 against finite differences, 5 of float32 against float64
  EXPECT_LT(r.max_rel_error(), 1e-6);
}

TEST(TestingKit, ReportsAMissingCurvatureTermAtItsWorstElement) {
  const auto r = testing::check_function([]<class T>(const Var<T>& x) { return ad::sum(broken_cube(x)); }, x0,
                                         Tensor<double>{1.0, 1.0, 1.0});
  EXPECT_FALSE(r.ok());
  const testing::Comparison& w = r.worst();
  EXPECT_NE(w.what.find("H·v: float64 vs central finite differences"), std::string::npos) << w.what;
  EXPECT_EQ(w.index, 2u);
  EXPECT_NEAR(w.expected, 6.0 * 2.0, 1e-6);  // ∂²(Σx³)/∂x² · 1 = 6x at x = 2
  EXPECT_EQ(w.found, 0.0);                   // ȳ̇ = 0 under a plain sum: only the missing term is left
  EXPECT_FALSE(w.ok);
  // Only H·v is wrong: the gradient and JVP comparisons pass.
  for (const testing::Comparison& c : r.comparisons)
    if (c.what.starts_with("gradient") || c.what.starts_with("JVP")) {
      EXPECT_TRUE(c.ok) << c.what;
    }
}

TEST(TestingKit, RequireThrowsAMessageNamingTheWorstElement) {
  try {
    testing::require_function([]<class T>(const Var<T>& x) { return ad::sum(broken_cube(x)); }, x0);
    FAIL() << "require_function accepted a wrong H·v";
  } catch (const testing::CheckFailed& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("H·v"), std::string::npos) << m;
    EXPECT_NE(m.find("at element"), std::string::npos) << m;
    EXPECT_NE(m.find("expected"), std::string::npos) << m;
    EXPECT_FALSE(e.report().ok());
  }
}

TEST(TestingKit, Float32ThatDiffersFromFloat64FailsOnlyThatComparison) {
  // A float32 function that is not the float64 one: 1% off.
  const auto f = []<class T>(const Var<T>& x) {
    if constexpr (std::is_same_v<T, float>) return ad::sum(x * x * T(1.01));
    else return ad::sum(x * x);
  };
  const auto r = testing::check_function(f, x0);
  EXPECT_FALSE(r.ok());
  for (const testing::Comparison& c : r.comparisons)
    EXPECT_EQ(c.ok, c.what.find("float32") == std::string::npos) << c.what;
  EXPECT_NEAR(r.max_rel_error(), 0.01 / 1.01, 1e-4);
}

}  // namespace
