// Gradient clipping for the first-order optimizers, as PyTorch's
// torch.nn.utils.clip_grad_norm_ (norm type 2) and clip_grad_value_.
//
//   clip by norm:   g ← g · max_norm/|g|   when |g| > max_norm, else g unchanged
//   clip by value:  gᵢ ← min(max(gᵢ, −c), c)
//
// SGD and Adam apply them to each step's gradient (after accumulation, before
// weight decay and momentum): value first, then norm, so that with both set
// the step's gradient satisfies both bounds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

#include "curv/autodiff/tensor.hpp"
#include "curv/optim/reductions.hpp"

namespace curv::optim {

// Scales g to norm max_norm if its norm is above; returns the norm before
// (in double). Unlike PyTorch, the factor is max_norm/|g| without a 1e-6
// added to |g|, so a clipped g has norm max_norm to rounding; a g at or below
// max_norm is left bit for bit.
template <class T>
double clip_grad_norm(Tensor<T>& g, double max_norm) {
  const double total = curv::optim::norm(g);
  if (total > max_norm) {
    const double factor = max_norm / total;
    for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = static_cast<T>(static_cast<double>(g.data()[i]) * factor);
  }
  return total;
}

// Clamps every element of g to [−clip_value, clip_value].
template <class T>
void clip_grad_value(Tensor<T>& g, double clip_value) {
  const T c = static_cast<T>(clip_value);
  for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = std::clamp(g.data()[i], static_cast<T>(-c), c);
}

// Both clips as an options struct sets them (each off when unset).
template <class T>
void clip_gradient(Tensor<T>& g, const std::optional<double>& max_norm, const std::optional<double>& clip_value) {
  if (clip_value) clip_grad_value(g, *clip_value);
  if (max_norm) clip_grad_norm(g, *max_norm);
}

// Throws std::invalid_argument "curv::optim::<options>: clip_grad_norm = <v>,
// expected a finite max_norm > 0" (the same for clip_grad_value) when one is
// set to something else.
void check_clip_options(std::string_view options, const std::optional<double>& max_norm,
                        const std::optional<double>& clip_value);

}  // namespace curv::optim
