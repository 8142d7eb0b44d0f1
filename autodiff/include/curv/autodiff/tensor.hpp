// curv::Tensor: the one dense array type of curv, a row-major xt::xarray.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

namespace curv {

template <class T>
using Tensor = xt::xarray<T>;

using Shape = std::vector<std::size_t>;

// "(2, 3)" for error messages; "()" for a 0-d tensor.
template <class S>
std::string shape_string(const S& shape) {
  std::ostringstream out;
  out << '(';
  bool first = true;
  for (auto d : shape) {
    out << (first ? "" : ", ") << d;
    first = false;
  }
  if (shape.size() == 1) out << ',';
  out << ')';
  return out.str();
}

}  // namespace curv
