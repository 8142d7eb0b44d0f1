// Every full-dataset optimizer (SCG, L-BFGS, nonlinear CG, Hessian-free on
// the exact Hessian, trust-region Newton–CG) on every function
// of the zoo: it must find a known minimum.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <tuple>

#include "zoo.hpp"

namespace {

using curv::Tensor;
using namespace curv::optim;
using curv::optim::test::Problem;

enum class Method { scg, lbfgs, cg, hf, trust_ncg };

std::string name_of(Method m) {
  switch (m) {
    case Method::scg: return "SCG";
    case Method::lbfgs: return "LBFGS";
    case Method::cg: return "NonlinearCG";
    case Method::hf: return "HessianFree";
    case Method::trust_ncg: return "TrustRegionNewtonCG";
  }
  return "?";
}

template <class Obj>
Result<double> run(Method m, Obj& obj, const Tensor<double>& x0) {
  switch (m) {
    case Method::scg: {
      ScgOptions opt;
      opt.max_iterations = 2000;
      opt.gradient_tolerance = 1e-9;
      return SCG<double>(opt).minimize(obj, x0);
    }
    case Method::lbfgs: {
      LbfgsOptions opt;
      opt.max_iterations = 2000;
      opt.gradient_tolerance = 1e-9;
      return LBFGS<double>(opt).minimize(obj, x0);
    }
    case Method::cg: {
      NonlinearCgOptions opt;
      opt.max_iterations = 2000;
      opt.gradient_tolerance = 1e-9;
      return NonlinearCG<double>(opt).minimize(obj, x0);
    }
    case Method::hf: {  // the zoo's functions are no least-squares problems: no Gauss–Newton product
      HessianFreeOptions opt;
      opt.curvature = Curvature::exact;
      opt.max_iterations = 2000;
      opt.gradient_tolerance = 1e-9;
      return HessianFree<double>(opt).minimize(obj, x0);
    }
    case Method::trust_ncg: {
      TrustRegionOptions opt;
      opt.max_iterations = 2000;
      opt.gradient_tolerance = 1e-9;
      return TrustRegionNewtonCG<double>(opt).minimize(obj, x0);
    }
  }
  throw std::logic_error("unknown method");
}

class Zoo : public ::testing::TestWithParam<std::tuple<Method, std::size_t>> {};

TEST_P(Zoo, FindsAKnownMinimum) {
  const auto [method, index] = GetParam();
  const Problem p = test::zoo().at(index);
  auto obj = make_objective<double>(p.f, p.x0.size());
  const Result<double> r = run(method, obj, p.x0);
  std::printf("[ measure ] %-11s %-16s %4zu iterations, %5g passes, |x - x*| = %.2g, stop: %s\n",
              name_of(method).c_str(), p.name.c_str(), r.iterations, r.passes,
              test::distance_to_minimum(r.x, p.minima), std::string(to_string(r.stop_reason)).c_str());
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_LT(test::distance_to_minimum(r.x, p.minima), 1e-6);
  EXPECT_NEAR(r.value, p.f_min, 1e-10 + 1e-10 * std::abs(p.f_min));
}

INSTANTIATE_TEST_SUITE_P(
    AllOptimizers, Zoo,
    ::testing::Combine(::testing::Values(Method::scg, Method::lbfgs, Method::cg, Method::hf, Method::trust_ncg),
                       ::testing::Range(std::size_t{0}, test::zoo().size())),
    [](const ::testing::TestParamInfo<Zoo::ParamType>& info) {
      return name_of(std::get<0>(info.param)) + "_" + test::zoo().at(std::get<1>(info.param)).name;
    });

TEST(Zoo, HimmelblauFromNearAMinimumGoesToThatMinimum) {
  for (Method m : {Method::scg, Method::lbfgs, Method::cg}) {
    auto obj = make_objective<double>(test::himmelblau, 2);
    const Result<double> r = run(m, obj, Tensor<double>{3.3, -1.6});
    EXPECT_NEAR(r.x(0), 3.584428340330492, 1e-6) << name_of(m);
    EXPECT_NEAR(r.x(1), -1.848126526964404, 1e-6) << name_of(m);
  }
}

TEST(Zoo, LbfgsAndCgWorkInSinglePrecision) {
  auto booth = [](const curv::ad::Var<float>& v) {
    const auto x = curv::ad::slice(v, 0, 1), y = curv::ad::slice(v, 1, 2);
    const auto a = x + 2.0f * y - 7.0f;
    const auto b = 2.0f * x + y - 5.0f;
    return curv::ad::sum(a * a + b * b);
  };
  auto obj = make_objective<float>(booth, 2);
  LbfgsOptions lo;
  lo.gradient_tolerance = 1e-4;
  const Result<float> l = LBFGS<float>(lo).minimize(obj, Tensor<float>{0.0f, 0.0f});
  EXPECT_TRUE(l.converged) << l.message;
  EXPECT_NEAR(l.x(0), 1.0f, 1e-4f);
  EXPECT_NEAR(l.x(1), 3.0f, 1e-4f);
  NonlinearCgOptions co;
  co.gradient_tolerance = 1e-4;
  const Result<float> c = NonlinearCG<float>(co).minimize(obj, Tensor<float>{0.0f, 0.0f});
  EXPECT_TRUE(c.converged) << c.message;
  EXPECT_NEAR(c.x(0), 1.0f, 1e-4f);
  EXPECT_NEAR(c.x(1), 3.0f, 1e-4f);
}

}  // namespace
