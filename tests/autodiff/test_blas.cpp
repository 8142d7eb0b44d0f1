// curv::blas::gemm against a plain triple loop, for products it computes in
// one OpenBLAS call and for those it splits into blocks of rows or columns
// over TBB; split results that do not depend on the thread count.
#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "curv/autodiff/blas.hpp"

namespace {

using curv::blas::Op;

struct Product {
  std::size_t m, n, k;
  Op op_a, op_b;
  double beta;
};

std::string describe(const Product& p) {
  return std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k) +
         (p.op_a == Op::transpose ? " Aᵀ" : " A") + (p.op_b == Op::transpose ? " Bᵀ" : " B") +
         " beta=" + std::to_string(p.beta);
}

template <class T>
std::vector<T> random(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& e : v) e = static_cast<T>(u(rng));
  return v;
}

// C = alpha op(A) op(B) + beta C by curv::blas::gemm, with A, B, C of the
// storage op asks for and row strides wider than the rows (views into larger
// matrices).
template <class T>
struct Operands {
  Product p;
  std::size_t lda, ldb, ldc;
  std::vector<T> a, b, c;
  explicit Operands(const Product& q)
      : p(q),
        lda((q.op_a == Op::none ? q.k : q.m) + 3),
        ldb((q.op_b == Op::none ? q.n : q.k) + 5),
        ldc(q.n + 2),
        a(random<T>((q.op_a == Op::none ? q.m : q.k) * lda, 1)),
        b(random<T>((q.op_b == Op::none ? q.k : q.n) * ldb, 2)),
        c(random<T>(q.m * ldc, 3)) {}
  T at_a(std::size_t i, std::size_t l) const { return p.op_a == Op::none ? a[i * lda + l] : a[l * lda + i]; }
  T at_b(std::size_t l, std::size_t j) const { return p.op_b == Op::none ? b[l * ldb + j] : b[j * ldb + l]; }
  std::vector<T> product(T alpha) const {
    std::vector<T> out = c;
    curv::blas::gemm(p.op_a, p.op_b, p.m, p.n, p.k, alpha, a.data(), lda, b.data(), ldb, static_cast<T>(p.beta),
                     out.data(), ldc);
    return out;
  }
};

// Rows split (m ≥ n, 2²¹ multiply-adds or more), columns split, too small to split.
const Product products[] = {
    {520, 70, 64, Op::none, Op::none, 0.0},      {520, 70, 64, Op::transpose, Op::transpose, 0.5},
    {64, 700, 50, Op::none, Op::transpose, 0.0}, {64, 700, 50, Op::transpose, Op::none, -1.0},
    {30, 20, 10, Op::none, Op::none, 0.5},
};

TEST(Gemm, MatchesATripleLoop) {
  for (const Product& p : products) {
    SCOPED_TRACE(describe(p));
    const Operands<double> d(p);
    const std::vector<double> got = d.product(1.5);
    double worst = 0;
    for (std::size_t i = 0; i < p.m; ++i)
      for (std::size_t j = 0; j < p.n; ++j) {
        double sum = 0;
        for (std::size_t l = 0; l < p.k; ++l) sum += d.at_a(i, l) * d.at_b(l, j);
        const double expected = 1.5 * sum + p.beta * d.c[i * d.ldc + j];
        worst = std::max(worst, std::abs(got[i * d.ldc + j] - expected));
      }
    EXPECT_LT(worst, 1e-12);
    // The padding between rows of C is never written.
    for (std::size_t i = 0; i < p.m; ++i)
      for (std::size_t j = p.n; j < d.ldc; ++j) EXPECT_EQ(got[i * d.ldc + j], d.c[i * d.ldc + j]);
  }
}

TEST(Gemm, SplitProductsDoNotDependOnTheThreadCount) {
  for (const Product& p : products) {
    SCOPED_TRACE(describe(p));
    const Operands<float> f(p);
    const std::vector<float> many = f.product(1.0f);
    std::vector<float> one;
    {
      const tbb::global_control only_one(tbb::global_control::max_allowed_parallelism, 1);
      one = f.product(1.0f);
    }
    EXPECT_TRUE(many == one);
  }
}

TEST(Gemm, OpenBlasRunsOnTheCallingThreadUnlessAskedOtherwise) {
  // curv splits large products over TBB itself; OpenBLAS's own threads stay idle.
  EXPECT_EQ(curv::blas::num_threads(), 1);
  const Operands<double> d(products[0]);
  const std::vector<double> split = d.product(1.0);
  curv::blas::set_num_threads(2);  // OpenBLAS's threads take the product whole instead
  const std::vector<double> whole = d.product(1.0);
  curv::blas::set_num_threads(1);
  double worst = 0;
  for (std::size_t i = 0; i < split.size(); ++i) worst = std::max(worst, std::abs(split[i] - whole[i]));
  EXPECT_LT(worst, 1e-13);
}

}  // namespace
