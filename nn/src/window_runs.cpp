// The fused op's pooling loops over window runs (see window_runs.hpp).
#include "window_runs.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

// Clones for AVX2 (x86-64-v3) and AVX-512 (x86-64-v4) CPUs, chosen at load
// time (GCC on x86-64 with glibc's ifunc).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define CURV_RUNS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CURV_RUNS_CLONES
#endif

namespace curv::nn::ops::detail {

namespace {

// 64-byte vectors of T, the integers of a comparison of two of them, and the
// choices of as many positions.
template <class T>
struct Simd;
template <>
struct Simd<float> {
  typedef float V __attribute__((vector_size(64)));
  typedef std::int32_t I __attribute__((vector_size(64)));
  typedef Choice C __attribute__((vector_size(32)));
};
template <>
struct Simd<double> {
  typedef double V __attribute__((vector_size(64)));
  typedef std::int64_t I __attribute__((vector_size(64)));
  typedef Choice C __attribute__((vector_size(16)));
};

template <class V, class T>
[[gnu::always_inline]] inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T, class V>
[[gnu::always_inline]] inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

template <class T>
constexpr std::size_t lanes = sizeof(typename Simd<T>::V) / sizeof(T);

// std::max's order (the second only when the first is smaller), for vectors
// lane by lane and for scalars.
template <class V>
[[gnu::always_inline]] inline V maximum(V a, V b) {
  return a < b ? b : a;
}

// The four candidates (plus the bias) at q…, their maximum and the first e
// holding it, for a vector's worth of positions or (V = T) one.
template <class V, class I, class T>
[[gnu::always_inline]] inline I pool_at(const T* z, std::size_t qn, std::size_t q, const T* bias, std::size_t o,
                                        V& max) {
  V a = load<V>(z + q), b = load<V>(z + qn + q), c = load<V>(z + 2 * qn + q), d = load<V>(z + 3 * qn + q);
  if (bias) {
    a += bias[o];
    b += bias[o];
    c += bias[o];
    d += bias[o];
  }
  max = maximum(maximum(a, b), maximum(c, d));
  const I n0 = (a != max) & 1, n1 = (b != max) & 1, n2 = (c != max) & 1;
  return n0 * (1 + n1 * (1 + n2));
}

template <class T>
[[gnu::always_inline]] inline void pool_body(const T* z, const T* bias, std::size_t planes, std::size_t qn, T* y,
                                             Choice* ch) {
  using V = typename Simd<T>::V;
  const std::size_t whole = qn / lanes<T> * lanes<T>;
  for (std::size_t o = 0; o < planes; ++o, z += 4 * qn, y += qn, ch += qn) {
    for (std::size_t q = 0; q < whole; q += lanes<T>) {
      V max;
      const auto code = pool_at<V, typename Simd<T>::I>(z, qn, q, bias, o, max);
      store(y + q, max);
      store(ch + q, __builtin_convertvector(code, typename Simd<T>::C));
    }
    for (std::size_t q = whole; q < qn; ++q) {
      T max;
      ch[q] = static_cast<Choice>(pool_at<T, int>(z, qn, q, bias, o, max));
      y[q] = max;
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void scatter_body(const Choice* ch, const T* u, std::size_t planes, std::size_t qn,
                                                T* zbar) {
  using V = typename Simd<T>::V;
  using I = typename Simd<T>::I;
  const std::size_t whole = qn / lanes<T> * lanes<T>;
  for (std::size_t o = 0; o < planes; ++o, ch += qn, u += qn, zbar += 4 * qn) {
    for (std::size_t q = 0; q < whole; q += lanes<T>) {
      const V uv = load<V>(u + q);
      const I e = __builtin_convertvector(load<typename Simd<T>::C>(ch + q), I);
      for (int run = 0; run < 4; ++run) store(zbar + run * qn + q, e == run ? uv : V{});
    }
    for (std::size_t q = whole; q < qn; ++q)
      for (std::size_t run = 0; run < 4; ++run) zbar[run * qn + q] = ch[q] == run ? u[q] : T(0);
  }
}

template <class T>
[[gnu::always_inline]] inline void gather_body(const Choice* ch, const T* z, std::size_t planes, std::size_t qn,
                                               T* out) {
  using V = typename Simd<T>::V;
  using I = typename Simd<T>::I;
  const std::size_t whole = qn / lanes<T> * lanes<T>;
  for (std::size_t o = 0; o < planes; ++o, ch += qn, z += 4 * qn, out += qn) {
    for (std::size_t q = 0; q < whole; q += lanes<T>) {
      const I e = __builtin_convertvector(load<typename Simd<T>::C>(ch + q), I);
      const V a = load<V>(z + q), b = load<V>(z + qn + q), c = load<V>(z + 2 * qn + q), d = load<V>(z + 3 * qn + q);
      store(out + q, e == 0 ? a : (e == 1 ? b : (e == 2 ? c : d)));
    }
    for (std::size_t q = whole; q < qn; ++q) out[q] = z[ch[q] * qn + q];
  }
}

}  // namespace

CURV_RUNS_CLONES void pool_window_runs(const float* z, const float* bias, std::size_t planes, std::size_t q,
                                       float* y, Choice* ch) {
  pool_body(z, bias, planes, q, y, ch);
}
CURV_RUNS_CLONES void pool_window_runs(const double* z, const double* bias, std::size_t planes, std::size_t q,
                                       double* y, Choice* ch) {
  pool_body(z, bias, planes, q, y, ch);
}

CURV_RUNS_CLONES void scatter_window_runs(const Choice* ch, const float* u, std::size_t planes, std::size_t q,
                                          float* zbar) {
  scatter_body(ch, u, planes, q, zbar);
}
CURV_RUNS_CLONES void scatter_window_runs(const Choice* ch, const double* u, std::size_t planes, std::size_t q,
                                          double* zbar) {
  scatter_body(ch, u, planes, q, zbar);
}

CURV_RUNS_CLONES void gather_window_runs(const Choice* ch, const float* z, std::size_t planes, std::size_t q,
                                         float* out) {
  gather_body(ch, z, planes, q, out);
}
CURV_RUNS_CLONES void gather_window_runs(const Choice* ch, const double* z, std::size_t planes, std::size_t q,
                                         double* out) {
  gather_body(ch, z, planes, q, out);
}

}  // namespace curv::nn::ops::detail
