// TanhRule's loops (see ops/tanh.hpp and rule.hpp). This file is compiled
// with -fno-trapping-math, without which GCC does not vectorize the float
// clamp, and -ffp-contract=off (see below).
#include "curv/autodiff/ops/tanh.hpp"

// Clones for wider vectors, chosen at load time by the CPU (GCC on x86-64 with
// glibc's ifunc). They add vector width only (no FMA, whose contraction would
// round differently), so every CPU computes the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define CURV_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CURV_VECTOR_CLONES
#endif

namespace curv::ad {

namespace {

// One clone set per loop and type (GCC clones functions, not templates); each
// inlines rule.hpp's loop with TanhRule's formulas.
CURV_VECTOR_CLONES void values(const float* x, float* y, std::size_t n) {
  detail::values_loop(TanhRule{}, x, y, n);
}
CURV_VECTOR_CLONES void values(const double* x, double* y, std::size_t n) {
  detail::values_loop(TanhRule{}, x, y, n);
}

CURV_VECTOR_CLONES void scale(const float* y, const float* d, float* out, std::size_t n, bool accumulate) {
  detail::scale_loop(TanhRule{}, static_cast<const float*>(nullptr), y, d, out, n, accumulate);
}
CURV_VECTOR_CLONES void scale(const double* y, const double* d, double* out, std::size_t n, bool accumulate) {
  detail::scale_loop(TanhRule{}, static_cast<const double*>(nullptr), y, d, out, n, accumulate);
}

CURV_VECTOR_CLONES void curvature(const float* y, const float* xdot, const float* ybar, float* out, std::size_t n) {
  detail::curvature_loop(TanhRule{}, static_cast<const float*>(nullptr), y, xdot, ybar, out, n);
}
CURV_VECTOR_CLONES void curvature(const double* y, const double* xdot, const double* ybar, double* out,
                                  std::size_t n) {
  detail::curvature_loop(TanhRule{}, static_cast<const double*>(nullptr), y, xdot, ybar, out, n);
}

CURV_VECTOR_CLONES void output_curvature(const float* y, const float* ydot, const float* ybar, float* out,
                                         std::size_t n) {
  detail::output_curvature_loop(TanhRule{}, y, ydot, ybar, out, n);
}
CURV_VECTOR_CLONES void output_curvature(const double* y, const double* ydot, const double* ybar, double* out,
                                         std::size_t n) {
  detail::output_curvature_loop(TanhRule{}, y, ydot, ybar, out, n);
}

}  // namespace

template <class T>
void RuleLoops<TanhRule, T>::values(const TanhRule&, const T* x, T* y, std::size_t n) {
  ad::values(x, y, n);
}

template <class T>
void RuleLoops<TanhRule, T>::scale(const TanhRule&, const T*, const T* y, const T* d, T* out, std::size_t n,
                                   bool accumulate) {
  ad::scale(y, d, out, n, accumulate);
}

template <class T>
void RuleLoops<TanhRule, T>::curvature(const TanhRule&, const T*, const T* y, const T* xdot, const T* ybar, T* out,
                                       std::size_t n) {
  ad::curvature(y, xdot, ybar, out, n);
}

template <class T>
void RuleLoops<TanhRule, T>::output_curvature(const TanhRule&, const T* y, const T* ydot, const T* ybar, T* out,
                                              std::size_t n) {
  ad::output_curvature(y, ydot, ybar, out, n);
}

template struct RuleLoops<TanhRule, float>;
template struct RuleLoops<TanhRule, double>;

}  // namespace curv::ad
