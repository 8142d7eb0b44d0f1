// The loops of curv::nn::ops::tanh's rules (see ops/tanh.hpp). This file is
// compiled with -fno-trapping-math so that the float clamp vectorizes.
#include "curv/nn/ops/tanh.hpp"

#include "curv/autodiff/parallel.hpp"

// Clones for wider vectors, chosen at load time by the CPU (GCC on x86-64 with
// glibc's ifunc). They add vector width only (no FMA, whose contraction would
// round differently), so every CPU computes the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define CURV_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CURV_VECTOR_CLONES
#endif

namespace curv::nn::ops::detail {

namespace {

// Elements per parallel chunk (curv::for_each_chunk); smaller tensors run on
// the calling thread.
constexpr std::size_t chunk = std::size_t{1} << 15;

CURV_VECTOR_CLONES void values_f(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = tanh_value(x[i]);
}
CURV_VECTOR_CLONES void values_d(const double* x, double* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = tanh_value(x[i]);
}

template <class T>
[[gnu::always_inline]] inline void scale_body(const T* y, const T* d, T* out, std::size_t n, bool accumulate) {
  if (accumulate)
    for (std::size_t i = 0; i < n; ++i) out[i] += (T(1) - y[i] * y[i]) * d[i];
  else
    for (std::size_t i = 0; i < n; ++i) out[i] = (T(1) - y[i] * y[i]) * d[i];
}
CURV_VECTOR_CLONES void scale(const float* y, const float* d, float* out, std::size_t n, bool accumulate) {
  scale_body(y, d, out, n, accumulate);
}
CURV_VECTOR_CLONES void scale(const double* y, const double* d, double* out, std::size_t n, bool accumulate) {
  scale_body(y, d, out, n, accumulate);
}

template <class T>
[[gnu::always_inline]] inline void curvature_body(const T* y, const T* xdot, const T* ybar, T* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] -= T(2) * y[i] * (T(1) - y[i] * y[i]) * xdot[i] * ybar[i];
}
CURV_VECTOR_CLONES void curvature(const float* y, const float* xdot, const float* ybar, float* out, std::size_t n) {
  curvature_body(y, xdot, ybar, out, n);
}
CURV_VECTOR_CLONES void curvature(const double* y, const double* xdot, const double* ybar, double* out,
                                  std::size_t n) {
  curvature_body(y, xdot, ybar, out, n);
}

}  // namespace

void tanh_values(const float* x, float* y, std::size_t n) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) { values_f(x + a, y + a, b - a); });
}
void tanh_values(const double* x, double* y, std::size_t n) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) { values_d(x + a, y + a, b - a); });
}

void tanh_scale(const float* y, const float* d, float* out, std::size_t n, bool accumulate) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) {
    scale(y + a, d + a, out + a, b - a, accumulate);
  });
}
void tanh_scale(const double* y, const double* d, double* out, std::size_t n, bool accumulate) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) {
    scale(y + a, d + a, out + a, b - a, accumulate);
  });
}

void tanh_curvature(const float* y, const float* xdot, const float* ybar, float* out, std::size_t n) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) {
    curvature(y + a, xdot + a, ybar + a, out + a, b - a);
  });
}
void tanh_curvature(const double* y, const double* xdot, const double* ybar, double* out, std::size_t n) {
  curv::for_each_chunk(n, chunk, [&](std::size_t a, std::size_t b) {
    curvature(y + a, xdot + a, ybar + a, out + a, b - a);
  });
}

}  // namespace curv::nn::ops::detail
