// tanh: y = tanh x,  y' = 1 − y²,  y'' = −2y(1 − y²).
//
// The value is computed without a library call, so that its loops vectorize
// (glibc's tanhf costs ~25 ns an element, and tanh of a CNN's convolution
// output once dominated its value_and_grad). In float it is the rational
// approximation of Eigen's generic_fast_tanh_float (odd degree-13 over even
// degree-6 polynomial, clamped where tanh rounds to ±1): within 4e-7
// relative, about 6 ulp. In double an exp / expm1 form with both
// exponentials as polynomials (see TanhRule::value): within 3 ulp. Both
// bounds are tested. TanhRule's loops are compiled in src/tanh.cpp (see there).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

namespace detail {

// e^y for y ∈ [−40, 0] with no library call, so that loops over it vectorize:
// y = k·ln 2 + r with k = round(y / ln 2) (by adding 1.5·2⁵², which leaves k in
// the low bits), r = y − k·ln 2 in two parts (fdlibm's split: k·ln2_hi is
// exact), |r| ≤ ½ ln 2, e^r by its Taylor polynomial of degree 13 (truncation
// below 5e-18 relative), and 2^k written into the exponent bits.
inline double exp_nonpositive(double y) {
  constexpr double inv_ln2 = 1.44269504088896338700e+00;
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double shifter = 0x1.8p52;
  const double kd = y * inv_ln2 + shifter;
  const double k = kd - shifter;
  const double r = (y - k * ln2_hi) - k * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // kd's low 52 bits hold 2⁵¹ + k; 2^k has exponent field k + 1023.
  const std::uint64_t low = std::bit_cast<std::uint64_t>(kd) & ((std::uint64_t{1} << 52) - 1);
  const double scale = std::bit_cast<double>((low - (std::uint64_t{1} << 51) + 1023) << 52);
  return p * scale;
}

// e^y − 1 for y ∈ [−1, 0] by its Taylor polynomial of degree 19 (truncation
// below 5e-19 relative), without the cancellation of e^y − 1.
inline double expm1_unit(double y) {
  double p = 1.0 / 121645100408832000.0;  // 1/19!
  p = p * y + 1.0 / 6402373705728000.0;
  p = p * y + 1.0 / 355687428096000.0;
  p = p * y + 1.0 / 20922789888000.0;
  p = p * y + 1.0 / 1307674368000.0;
  p = p * y + 1.0 / 87178291200.0;
  p = p * y + 1.0 / 6227020800.0;
  p = p * y + 1.0 / 479001600.0;
  p = p * y + 1.0 / 39916800.0;
  p = p * y + 1.0 / 3628800.0;
  p = p * y + 1.0 / 362880.0;
  p = p * y + 1.0 / 40320.0;
  p = p * y + 1.0 / 5040.0;
  p = p * y + 1.0 / 720.0;
  p = p * y + 1.0 / 120.0;
  p = p * y + 1.0 / 24.0;
  p = p * y + 1.0 / 6.0;
  p = p * y + 0.5;
  p = p * y + 1.0;
  return p * y;
}

}  // namespace detail

struct TanhRule {
  static constexpr std::string_view name = "tanh";
  static constexpr bool from_output = true;

  static float value(float x) {
    // Beyond ±7.905… tanh(x) rounds to ±1 in float.
    constexpr float clamp = 7.90531110763549805f;
    x = x < -clamp ? -clamp : (x > clamp ? clamp : x);  // NaN stays NaN
    const float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
  }

  // tanh(|x|) = (1 − e)/(1 + e) with e = exp(−2|x|) where 1 − e cannot cancel
  // (|x| ≥ ½), and −m/(2 + m) with m = expm1(−2|x|) below; |x| is clamped at
  // 20, beyond which tanh rounds to 1 (NaN stays NaN). Both branches are
  // computed and one selected, with the exponentials above instead of libm's:
  // no call and no branch, so loops over it vectorize.
  static double value(double x) {
    const double a = std::min(std::fabs(x), 20.0);
    const double e = detail::exp_nonpositive(-2 * a);
    const double large = (1 - e) / (1 + e);
    const double m = detail::expm1_unit(-2 * std::min(a, 0.5));
    const double small = -m / (2 + m);
    return std::copysign(a >= 0.5 ? large : small, x);
  }

  template <class T>
  static T first(T, T y) {
    return T(1) - y * y;
  }
  template <class T>
  static T first_dy(T y) {
    return T(-2) * y;
  }
  template <class T>
  static T second(T x, T y) {
    return first_dy(y) * first(x, y);
  }
};

// TanhRule's loops are compiled in src/tanh.cpp, for the CPU's vector width.
template <class T>
struct RuleLoops<TanhRule, T> {
  static void values(const TanhRule&, const T* x, T* y, std::size_t n);
  static void scale(const TanhRule&, const T* x, const T* y, const T* d, T* out, std::size_t n, bool accumulate);
  static void curvature(const TanhRule&, const T* x, const T* y, const T* xdot, const T* ybar, T* out,
                        std::size_t n);
  static void output_curvature(const TanhRule&, const T* y, const T* ydot, const T* ybar, T* out, std::size_t n);
};

extern template struct RuleLoops<TanhRule, float>;
extern template struct RuleLoops<TanhRule, double>;

template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::elementwise<T>(x, TanhRule{});
}

CURV_AD_EXPLICIT(Var<float> tanh(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> tanh(const Var<double>&));

}  // namespace curv::ad
