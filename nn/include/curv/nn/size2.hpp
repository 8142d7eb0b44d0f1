// curv::nn::Size2: a (height, width) pair for kernel sizes, strides, padding
// and dilation, written as one number when both are equal (PyTorch's
// `int or tuple`): `.kernel_size = 3` and `.kernel_size = {3, 5}` both work.
#pragma once

#include <cstddef>
#include <string>

namespace curv::nn {

struct Size2 {
  std::size_t h = 0;
  std::size_t w = 0;

  constexpr Size2(std::size_t both = 0) : h(both), w(both) {}  // NOLINT: implicit, as PyTorch's int-or-tuple
  constexpr Size2(std::size_t height, std::size_t width) : h(height), w(width) {}

  constexpr bool square() const { return h == w; }
  constexpr bool operator==(const Size2&) const = default;
};

// "3" when both are equal, else "3x5" (height x width).
inline std::string to_string(Size2 s) {
  return s.square() ? std::to_string(s.h) : std::to_string(s.h) + "x" + std::to_string(s.w);
}

}  // namespace curv::nn
