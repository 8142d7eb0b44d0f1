// log: y = ln x,  y' = 1/x,  y'' = −1/x².
#pragma once

#include <cmath>

#include "curv/autodiff/detail/elementwise.hpp"

namespace curv::ad {

struct LogRule {
  static constexpr std::string_view name = "log";
  template <class T>
  static T value(T x) {
    return std::log(x);
  }
  template <class T>
  static T first(T x, T) {
    return T(1) / x;
  }
  template <class T>
  static T second(T x, T) {
    return T(-1) / (x * x);
  }
};

template <class T>
Var<T> log(const Var<T>& x) {
  return detail::elementwise<T>(x, LogRule{});
}

CURV_AD_EXPLICIT(Var<float> log(const Var<float>&));
CURV_AD_EXPLICIT(Var<double> log(const Var<double>&));

}  // namespace curv::ad
