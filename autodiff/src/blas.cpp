// CBLAS calls behind curv::blas; the only translation unit that sees cblas.h.
#include "curv/autodiff/blas.hpp"

#include <cblas.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "curv/autodiff/parallel.hpp"

namespace curv::blas {
namespace {

// OpenBLAS computes each call on the calling thread (set when curv is loaded;
// set_num_threads changes it): curv splits large products over TBB itself,
// so that one thread pool owns the cores. OpenBLAS's own workers, left
// spinning after each product, took the cores from TBB's between products.
const bool openblas_on_the_calling_thread = [] {
  openblas_set_num_threads(1);
  return true;
}();

// Products of at least this many multiply-adds are split into blocks of C's
// rows (or columns, whichever C has more of): at most max_blocks blocks of at
// least min_block rows, sized in multiples of 16, each computed by one
// OpenBLAS call on one of TBB's threads. The blocks depend on the shape only,
// never on the thread count, so neither do the results.
constexpr double parallel_work = double{1 << 21};
constexpr std::size_t max_blocks = 8, min_block = 64, block_multiple = 16;

CBLAS_TRANSPOSE flag(Op op) { return op == Op::none ? CblasNoTrans : CblasTrans; }

void sgemm_or_dgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k,
                    float alpha, const float* a, blasint lda, const float* b, blasint ldb,
                    float beta, float* c, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemm_or_dgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k,
                    double alpha, const double* a, blasint lda, const double* b, blasint ldb,
                    double beta, double* c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

template <class T>
void gemm(Op op_a, Op op_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS leaves C untouched for k = 0 only when beta = 1.
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  // C's rows [first, first + rows) × columns [col, col + cols) in one call.
  auto part = [&](std::size_t first, std::size_t rows, std::size_t col, std::size_t cols) {
    const T* a_part = op_a == Op::none ? a + first * lda : a + first;
    const T* b_part = op_b == Op::none ? b + col : b + col * ldb;
    sgemm_or_dgemm(flag(op_a), flag(op_b), static_cast<blasint>(rows), static_cast<blasint>(cols),
                   static_cast<blasint>(k), alpha, a_part, static_cast<blasint>(lda), b_part,
                   static_cast<blasint>(ldb), beta, c + first * ldc + col, static_cast<blasint>(ldc));
  };
  const bool by_rows = m >= n;
  const std::size_t extent = by_rows ? m : n;
  const std::size_t blocks = std::min(max_blocks, extent / min_block);
  if (static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < parallel_work || blocks < 2 ||
      openblas_get_num_threads() > 1)  // asked for OpenBLAS's own threads
    return part(0, m, 0, n);
  const std::size_t step = ((extent + blocks - 1) / blocks + block_multiple - 1) / block_multiple * block_multiple;
  for_each_chunk(extent, step, [&](std::size_t first, std::size_t last) {
    if (by_rows)
      part(first, last - first, 0, n);
    else
      part(0, m, first, last - first);
  });
}

template <class T>
void gemm(Op op_a, Op op_b, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, Tensor<T>& c) {
  if (a.dimension() != 2 || b.dimension() != 2)
    throw std::invalid_argument("curv::blas::gemm: expected 2-D operands, got " +
                                shape_string(a.shape()) + " and " + shape_string(b.shape()));
  const std::size_t m = op_a == Op::none ? a.shape(0) : a.shape(1);
  const std::size_t k = op_a == Op::none ? a.shape(1) : a.shape(0);
  const std::size_t kb = op_b == Op::none ? b.shape(0) : b.shape(1);
  const std::size_t n = op_b == Op::none ? b.shape(1) : b.shape(0);
  if (k != kb)
    throw std::invalid_argument("curv::blas::gemm: inner dimensions differ: " +
                                shape_string(a.shape()) + " and " + shape_string(b.shape()));
  if (beta == T(0)) {
    if (c.dimension() != 2 || c.shape(0) != m || c.shape(1) != n) c.resize({m, n});
  } else if (c.dimension() != 2 || c.shape(0) != m || c.shape(1) != n) {
    throw std::invalid_argument("curv::blas::gemm: accumulator has shape " +
                                shape_string(c.shape()) + ", expected (" + std::to_string(m) +
                                ", " + std::to_string(n) + ")");
  }
  gemm(op_a, op_b, m, n, k, alpha, a.data(), a.shape(1), b.data(), b.shape(1), beta, c.data(), n);
}

void set_num_threads(int threads) {
  (void)openblas_on_the_calling_thread;
  openblas_set_num_threads(threads);
}
int num_threads() { return openblas_get_num_threads(); }

template void gemm<float>(Op, Op, std::size_t, std::size_t, std::size_t, float, const float*,
                          std::size_t, const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(Op, Op, std::size_t, std::size_t, std::size_t, double, const double*,
                           std::size_t, const double*, std::size_t, double, double*, std::size_t);
template void gemm<float>(Op, Op, float, const Tensor<float>&, const Tensor<float>&, float,
                          Tensor<float>&);
template void gemm<double>(Op, Op, double, const Tensor<double>&, const Tensor<double>&, double,
                           Tensor<double>&);

}  // namespace curv::blas
