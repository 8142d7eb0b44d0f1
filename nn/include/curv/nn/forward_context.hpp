// curv::nn::ForwardContext: what a forward pass knows beyond w and the input
// — training or evaluation, the run's seed, the epoch, and which examples
// the batch holds — for the modules whose output depends on it (Dropout).
//
// The context is what keeps such a module a deterministic function of w:
// Dropout's mask is a pure function of (seed, epoch, the module's place in
// the model, the example's dataset row, the element), so for a fixed epoch
// the objective is one smooth function of w — batch-size invariant, its H·v
// exact, a resumed run bit-identical — whichever minibatch an example falls
// into and whichever thread runs it.
//
// Module::forward(w, x) is forward(w, x, ForwardContext{}): evaluation mode.
// Composites hand each child child(name) of their context, so two Dropouts
// of one model (or one Dropout shared by two places) draw different masks,
// and nn::fuse, which keeps every child's name, changes no mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "curv/autodiff/tensor.hpp"

namespace curv::nn {

enum class Mode { eval, train };

// Told of every child a Composite runs, in order: enter(name) before it,
// leave(…) with what it is and made after it. nn::summary is one.
class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  virtual void enter(std::string_view name) = 0;
  virtual void leave(std::string_view name, std::string_view description, std::size_t num_parameters,
                     const Shape& output_shape) = 0;
};

struct ForwardContext {
  Mode mode = Mode::eval;
  std::uint64_t seed = 0;   // the run's seed
  std::uint64_t epoch = 0;  // the training epoch the batch belongs to
  // Dataset row of each example of the batch, in batch order; empty: the
  // batch's own positions 0, 1, … (a batch that stands alone).
  std::span<const std::size_t> rows;
  // The module's place in the model: a hash of the names on its path from
  // the root (child() mixes one in). 0 at the root.
  std::uint64_t stream = 0;
  // Told of each child run below (null: nobody).
  ForwardObserver* observer = nullptr;

  bool training() const { return mode == Mode::train; }
  std::size_t row(std::size_t j) const { return rows.empty() ? j : rows[j]; }

  // The context of the child called `name`: the same but for its stream.
  ForwardContext child(std::string_view name) const {
    ForwardContext c = *this;
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name
    for (const char ch : name) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
    c.stream = mix(stream ^ h);
    return c;
  }

  // splitmix64's finalizer: a bijection of 64 bits whose every output bit
  // depends on every input bit (Steele, Lea & Flood 2014).
  static constexpr std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

}  // namespace curv::nn
