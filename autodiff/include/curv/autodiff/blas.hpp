// Thin, checked wrappers over OpenBLAS's CBLAS for row-major curv::Tensor.
//
// Every matrix product in curv goes through here, so that transposes are BLAS
// flags rather than copies and results can accumulate in place (beta = 1).
#pragma once

#include <cstddef>

#include "curv/autodiff/tensor.hpp"

namespace curv::blas {

enum class Op { none, transpose };

// C = alpha * op(A) * op(B) + beta * C on raw row-major storage, where op(A) is
// m x k, op(B) is k x n and C is m x n. lda/ldb/ldc are the row strides.
// Products of 2²¹ multiply-adds or more are split into at most 8 blocks of C's
// rows or columns (fixed by the shape) computed on TBB's threads, one
// single-threaded OpenBLAS call each: the results do not depend on the number
// of threads, and OpenBLAS's own threads never compete with TBB's.
template <class T>
void gemm(Op op_a, Op op_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

// C = alpha * op(A) * op(B) + beta * C for 2-D tensors. C must already have the
// result's shape when beta != 0; it is resized otherwise.
template <class T>
void gemm(Op op_a, Op op_b, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta, Tensor<T>& c);

// Number of threads OpenBLAS may use per call: 1 from the start (curv
// splits large products over TBB itself, above). More hands every product to
// OpenBLAS's own threads instead, unsplit.
void set_num_threads(int threads);
int num_threads();

}  // namespace curv::blas
