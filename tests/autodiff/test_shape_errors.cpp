// Bad operands throw std::invalid_argument whose message names the op and
// the shapes (or axis) it was given.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "curv/autodiff.hpp"

namespace {

using curv::Tensor;
using curv::ad::Var;
namespace ad = curv::ad;

void expect_invalid_argument(const std::function<void()>& call, const std::string& expected) {
  try {
    call();
    FAIL() << "expected std::invalid_argument containing \"" << expected << "\"";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

class ShapeErrors : public ::testing::Test {
 protected:
  Var<double> ones(std::vector<std::size_t> shape) { return tape.variable(Tensor<double>(xt::ones<double>(shape))); }
  ad::Tape<double> tape;
};

TEST_F(ShapeErrors, BinaryOpsNameTheOpAndBothShapes) {
  const Var<double> a = ones({2, 3}), b = ones({4});
  expect_invalid_argument([&] { ad::add(a, b); }, "add: shapes (2, 3) and (4,) do not broadcast");
  expect_invalid_argument([&] { ad::sub(a, b); }, "sub: shapes (2, 3) and (4,) do not broadcast");
  expect_invalid_argument([&] { ad::mul(a, b); }, "mul: shapes (2, 3) and (4,) do not broadcast");
  expect_invalid_argument([&] { ad::div(a, b); }, "div: shapes (2, 3) and (4,) do not broadcast");
  expect_invalid_argument([&] { a / Tensor<double>(xt::ones<double>({3, 2})); },
                          "div: shapes (2, 3) and (3, 2) do not broadcast");
}

TEST_F(ShapeErrors, MatmulNamesBothShapes) {
  expect_invalid_argument([&] { ad::matmul(ones({2, 3}), ones({2, 3})); },
                          "matmul: cannot multiply shapes (2, 3) and (2, 3)");
}

TEST_F(ShapeErrors, DotNamesBothShapes) {
  expect_invalid_argument([&] { ad::dot(ones({3}), ones({4})); }, "dot: shapes (3,) and (4,)");
  expect_invalid_argument([&] { ad::dot(ones({2, 2}), ones({4})); }, "dot: shapes (2, 2) and (4,)");
}

TEST_F(ShapeErrors, ConcatNamesTheMismatchedShapes) {
  expect_invalid_argument([&] { ad::concat({ones({2, 3}), ones({2, 4})}, 0); },
                          "concat: shapes (2, 3) and (2, 4) differ outside axis 0");
  expect_invalid_argument([&] { ad::concat({ones({2, 3}), ones({2, 3})}, 2); },
                          "concat: axis 2 out of range for shape (2, 3)");
}

TEST_F(ShapeErrors, TransposeNamesTheShape) {
  expect_invalid_argument([&] { ad::transpose(ones({2, 3, 4})); }, "transpose: expected a 2-D Var, got shape (2, 3, 4)");
}

TEST_F(ShapeErrors, ReductionsNameTheAxisAndShape) {
  expect_invalid_argument([&] { ad::sum(ones({2, 3}), 2); }, "sum: axis 2 out of range for shape (2, 3)");
  expect_invalid_argument([&] { ad::mean(ones({2, 3}), 5); }, "mean: axis 5 out of range for shape (2, 3)");
  expect_invalid_argument([&] { ad::logsumexp(ones({4}), 1); }, "logsumexp: axis 1 out of range for shape (4,)");
  expect_invalid_argument([&] { ad::log_softmax(ones({4}), 1); }, "log_softmax: axis 1 out of range for shape (4,)");
}

TEST_F(ShapeErrors, SliceAndReshapeNameTheShape) {
  expect_invalid_argument([&] { ad::slice(ones({4}), 2, 6); }, "slice: range [2, 6) does not fit shape (4,)");
  expect_invalid_argument([&] { ad::reshape(ones({2, 3}), {4, 2}); }, "reshape: cannot reshape (2, 3) (6 elements) to (4, 2)");
}

TEST_F(ShapeErrors, OperandsFromAnotherTapeAreRejected) {
  ad::Tape<double> other;
  const Var<double> a = ones({2});
  const Var<double> b = other.variable(Tensor<double>{1.0, 2.0});
  expect_invalid_argument([&] { ad::add(a, b); }, "add: an operand belongs to another tape");
}

}  // namespace
