// value_and_grad, jvp and hvp against analytic results: quadratics, the
// n-dimensional Rosenbrock function, and the error contract.
#include <gtest/gtest.h>

#include <random>

#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "curv/autodiff.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;

Tensor<double> random_matrix(std::size_t rows, std::size_t cols, unsigned seed) {
  xt::random::seed(seed);
  return xt::random::randn<double>({rows, cols});
}

TEST(Hvp, QuadraticFormGivesAv) {
  const std::size_t n = 12;
  const Tensor<double> m = random_matrix(n, n, 1);
  const Tensor<double> a = m + xt::transpose(m);  // symmetric
  const Tensor<double> b = xt::view(random_matrix(1, n, 2), 0);
  const Tensor<double> x = xt::view(random_matrix(1, n, 3), 0);
  const Tensor<double> v = xt::view(random_matrix(1, n, 4), 0);
  // f(x) = ½ xᵀAx + bᵀx
  auto f = [&](const Var<double>& x) {
    return 0.5 * curv::ad::sum(x * curv::ad::matmul(a, x)) + curv::ad::sum(x * b);
  };
  const auto h = curv::ad::hvp(f, x, v);
  const Tensor<double> av = xt::linalg::dot(a, v);
  const Tensor<double> grad = xt::linalg::dot(a, x) + b;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(h.hv(i), av(i), 1e-12 * std::abs(av(i)) + 1e-14);
    EXPECT_NEAR(h.grad(i), grad(i), 1e-12 * std::abs(grad(i)) + 1e-14);
  }
  EXPECT_NEAR(h.value, 0.5 * xt::sum(x * xt::linalg::dot(a, x))() + xt::sum(b * x)(), 1e-12);
}

// f(x) = Σ tanh(A x)·x, nonlinear enough for a non-trivial H·v.
Tensor<double> forward_over_reverse(bool borrowed, const Tensor<double>& a, const Tensor<double>& x,
                                    const Tensor<double>& v, Tensor<double>& grad, Tensor<double>& hv) {
  curv::ad::Tape<double> tape;
  const Var<double> xv = borrowed ? tape.borrowed_variable(x, v) : tape.variable(x, v);
  if (borrowed) {
    EXPECT_EQ(xv.value().data(), x.data());  // read in place, no copy on the tape
    EXPECT_EQ(xv.tangent().data(), v.data());
  }
  const Var<double> y = curv::ad::sum(curv::ad::tanh(curv::ad::matmul(a, xv)) * xv);
  tape.backward(y);
  grad = xv.grad();
  hv = xv.adjoint_tangent();
  return y.value();
}

TEST(Tape, BorrowedVariableGivesBitIdenticalValueGradientAndHvToACopiedOne) {
  const std::size_t n = 9;
  const Tensor<double> a = random_matrix(n, n, 5);
  const Tensor<double> x = xt::view(random_matrix(1, n, 6), 0);
  const Tensor<double> v = xt::view(random_matrix(1, n, 7), 0);
  Tensor<double> g_copy, hv_copy, g_borrowed, hv_borrowed;
  const Tensor<double> y_copy = forward_over_reverse(false, a, x, v, g_copy, hv_copy);
  const Tensor<double> y_borrowed = forward_over_reverse(true, a, x, v, g_borrowed, hv_borrowed);
  EXPECT_EQ(*y_copy.data(), *y_borrowed.data());
  ASSERT_EQ(g_copy.shape(), g_borrowed.shape());
  ASSERT_EQ(hv_copy.shape(), hv_borrowed.shape());
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(g_copy(i), g_borrowed(i)) << i;
    EXPECT_EQ(hv_copy(i), hv_borrowed(i)) << i;
  }
  const auto h = curv::ad::hvp([&](const Var<double>& x) { return curv::ad::sum(curv::ad::tanh(curv::ad::matmul(a, x)) * x); }, x, v);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(h.grad(i), g_copy(i)) << i;
    EXPECT_EQ(h.hv(i), hv_copy(i)) << i;
  }
}

TEST(Tape, BorrowedConstantIsReadInPlaceAndGetsNoAdjoint) {
  curv::ad::Tape<double> tape;
  const Tensor<double> data = {1.0, 2.0, 3.0};
  const Tensor<double> x0 = {0.5, -1.0, 2.0};
  const Var<double> c = tape.borrowed_constant(data);
  const Var<double> x = tape.variable(x0);
  EXPECT_EQ(c.value().data(), data.data());
  EXPECT_EQ(tape.node_info(c.index()).value_size, 0u);  // the tape holds no copy
  const Var<double> y = curv::ad::sum(c * x * x);
  tape.backward(y);
  EXPECT_EQ(*y.value().data(), 0.25 + 2.0 + 12.0);
  const Tensor<double> expected_grad = {1.0, -4.0, 12.0};  // 2 c x
  EXPECT_EQ(x.grad(), expected_grad);
  EXPECT_EQ(c.grad(), Tensor<double>(xt::zeros<double>({3})));
}

TEST(Tape, BorrowedVariableRejectsATangentOfAnotherShape) {
  curv::ad::Tape<double> tape;
  const Tensor<double> x = {1.0, 2.0, 3.0};
  const Tensor<double> v = {1.0, 2.0};
  try {
    tape.borrowed_variable(x, v);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tangent has shape (2,), expected the value's shape (3,)"), std::string::npos)
        << e.what();
  }
}

TEST(Tape, TakeAdjointMovesTheGradientOutAndLeavesTheLeafWithNone) {
  curv::ad::Tape<double> tape;
  const Tensor<double> x0 = {0.5, -1.0, 2.0}, v = {1.0, 2.0, -3.0};
  const Var<double> x = tape.variable(x0, v);
  const Var<double> y = curv::ad::sum(x * x * x);  // ∇ = 3x², H·v = 6 x v
  tape.backward(y);
  const Tensor<double> grad = 3.0 * x0 * x0, hv = 6.0 * x0 * v;
  EXPECT_EQ(tape.node_info(x.index()).adjoint_size, 3u);
  EXPECT_EQ(tape.take_adjoint(x), grad);
  EXPECT_EQ(x.grad(), Tensor<double>(xt::zeros<double>({3})));
  EXPECT_EQ(tape.node_info(x.index()).adjoint_size, 0u);
  EXPECT_EQ(tape.take_adjoint_tangent(x), hv);
  EXPECT_EQ(x.adjoint_tangent(), Tensor<double>(xt::zeros<double>({3})));
  // Taken once: a second take finds zeros, as for a leaf the sweep never reached.
  EXPECT_EQ(tape.take_adjoint(x), Tensor<double>(xt::zeros<double>({3})));
  const Var<double> unused = tape.variable(Tensor<double>{1.0, 2.0});
  EXPECT_EQ(tape.take_adjoint(unused), Tensor<double>(xt::zeros<double>({2})));
  EXPECT_EQ(tape.take_adjoint_tangent(unused), Tensor<double>(xt::zeros<double>({2})));
}

TEST(Tape, TakeAdjointRejectsAVarOfAnotherTape) {
  curv::ad::Tape<double> tape, other;
  const Var<double> x = other.variable(Tensor<double>{1.0});
  EXPECT_THROW(tape.take_adjoint(x), std::invalid_argument);
  EXPECT_THROW(tape.take_adjoint_tangent(x), std::invalid_argument);
}

TEST(Tape, DropTangentsLeavesNoTangentAndASeededSweepGivesExactlyTheVjp) {
  const std::size_t n = 5;
  const Tensor<double> a = random_matrix(n, n, 5);
  const Tensor<double> x0 = xt::view(random_matrix(1, n, 6), 0), v = xt::view(random_matrix(1, n, 7), 0);
  const Tensor<double> ybar = xt::view(random_matrix(1, n, 8), 0), u = xt::view(random_matrix(1, n, 9), 0);
  const Tensor<double> v_before = v;
  // With tangents dropped, sweeping (ȳ, ȳ̇ = u) through y = tanh(A x) gives x̄̇ = Jᵀ u,
  // bit for bit what a tape that never carried a tangent gives.
  curv::ad::Tape<double> tape;
  const Var<double> x = tape.borrowed_variable(x0, v);
  const Var<double> y = curv::ad::tanh(curv::ad::matmul(a, x));
  ASSERT_TRUE(y.has_tangent());
  tape.drop_tangents();
  for (const Var<double>& node : {x, y}) EXPECT_FALSE(node.has_tangent());
  EXPECT_FALSE(curv::ad::sum(y).has_tangent());  // nor do ops recorded afterwards
  tape.backward(y, ybar, u);
  curv::ad::Tape<double> plain;
  const Var<double> xp = plain.variable(x0);
  const Var<double> yp = curv::ad::tanh(curv::ad::matmul(a, xp));
  plain.backward(yp, ybar, u);
  EXPECT_EQ(tape.take_adjoint(x), plain.take_adjoint(xp));
  EXPECT_EQ(tape.take_adjoint_tangent(x), plain.take_adjoint_tangent(xp));
  EXPECT_EQ(v, v_before);  // the caller's borrowed tangent is not touched
  // An H·v afterwards is still exact: f(x) = ½ xᵀ S x, H·v = S v.
  const Tensor<double> sym = a + xt::transpose(a);
  const auto h = curv::ad::hvp([&](const Var<double>& z) { return 0.5 * curv::ad::sum(z * curv::ad::matmul(sym, z)); },
                               x0, v);
  const Tensor<double> sv = xt::linalg::dot(sym, v);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(h.hv(i), sv(i), 1e-12 * std::abs(sv(i)) + 1e-14);
}

TEST(Tape, NodeInfoNamesTheOpAndCountsWhatTheTapeStores) {
  curv::ad::Tape<double> tape;
  const Tensor<double> data = {1.0, 2.0, 3.0};
  const Var<double> c = tape.borrowed_constant(data);
  const Var<double> x = tape.variable(Tensor<double>{0.5, -1.0, 2.0});
  const Var<double> y = curv::ad::sum(c * x);
  EXPECT_EQ(tape.node_info(c.index()).op, "");
  EXPECT_EQ(tape.node_info(c.index()).value_size, 0u);  // borrowed
  EXPECT_EQ(tape.node_info(x.index()).value_size, 3u);
  EXPECT_EQ(tape.node_info(y.index()).op, "sum");
  EXPECT_EQ(tape.node_info(x.index()).adjoint_size, 0u);  // before the sweep
  tape.backward(y);
  EXPECT_EQ(tape.node_info(x.index()).adjoint_size, 3u);
  EXPECT_THROW(tape.node_info(tape.size()), std::out_of_range);
}

TEST(ScalarResult, NamesTheEntryPointWhenFReturnsMoreThanOneElement) {
  curv::ad::Tape<double> tape;
  const Var<double> y = tape.constant(Tensor<double>{1.0, 2.0});
  EXPECT_EQ(curv::ad::scalar_result("my_entry", tape.constant(Tensor<double>{4.0})), 4.0);
  try {
    curv::ad::scalar_result("my_entry", y);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("curv::ad::my_entry: f must return a scalar, got shape (2,)"),
              std::string::npos)
        << e.what();
  }
}

TEST(ValueAndGrad, RejectsNonScalarResult) {
  auto f = [](const Var<double>& x) { return x * x; };
  const Tensor<double> x = {1.0, 2.0};
  try {
    curv::ad::value_and_grad(f, x);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("must return a scalar, got shape (2,)"), std::string::npos)
        << e.what();
  }
}

TEST(Hvp, RejectsDirectionOfWrongShape) {
  auto f = [](const Var<double>& x) { return curv::ad::sum(x * x); };
  const Tensor<double> x = {1.0, 2.0, 3.0};
  const Tensor<double> v = {1.0, 2.0};
  try {
    curv::ad::hvp(f, x, v);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("direction v has shape (2,), expected x's shape (3,)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(curv::ad::jvp(f, x, v), std::invalid_argument);
}

TEST(Matmul, ShapeErrorNamesOpAndShapes) {
  curv::ad::Tape<double> tape;
  const auto a = tape.variable(Tensor<double>(xt::ones<double>({2, 3})));
  const auto b = tape.variable(Tensor<double>(xt::ones<double>({2, 3})));
  try {
    curv::ad::matmul(a, b);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("matmul: cannot multiply shapes (2, 3) and (2, 3)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Add, BroadcastErrorNamesOpAndShapes) {
  curv::ad::Tape<double> tape;
  const auto a = tape.variable(Tensor<double>(xt::ones<double>({2, 3})));
  const auto b = tape.variable(Tensor<double>(xt::ones<double>({4})));
  try {
    curv::ad::add(a, b);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("add: shapes (2, 3) and (4,) do not broadcast"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
