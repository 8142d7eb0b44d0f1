// curv::Tensor: the one dense array type of curv, a row-major xt::xarray whose
// buffers come from curv's buffer pool (see buffer_pool.hpp). Any xtensor
// expression, including a plain xt::xarray, converts to it.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include "curv/autodiff/buffer_pool.hpp"

namespace curv {

template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major, BufferAllocator<T>>;

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
