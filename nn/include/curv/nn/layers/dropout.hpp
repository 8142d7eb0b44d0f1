// curv::nn::Dropout: in training, each element of each example is zeroed
// with probability p and the rest scaled by 1/(1 − p); in evaluation, the
// identity. No parameters.
//
// The mask is not drawn from a generator's state but is a pure function of
// (context.seed, context.stream — the layer's place in the model —,
// context.epoch, the example's dataset row, the element's index within the
// example) — splitmix64 of the first four, a 32-bit bijective hash of that
// and the element (dropout.cpp) — the same example gets the same mask in any
// minibatch, on any thread, at any batch size, and again after a resume. So
// for a fixed epoch the training loss is one deterministic function of w:
// y = x ⊙ m with a constant m, whose four rules are ad::mul's — its gradient
// and H·v exact, accumulated sums batch-size invariant. A new epoch draws a
// new mask. forward(w, x) without a context is evaluation mode.
#pragma once

#include <cstdint>
#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

struct DropoutOptions {
  double p = 0.5;  // probability of zeroing an element, in [0, 1]
};

template <class T>
class Dropout final : public Module<T> {
 public:
  explicit Dropout(DropoutOptions options = {});
  explicit Dropout(double p) : Dropout(DropoutOptions{p}) {}

  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override;
  // Evaluation: the input itself.
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  // Training (context.training()): input ⊙ mask(context); evaluation: the input.
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input, const ForwardContext& context) const override;

  // The mask a training forward pass multiplies `shape` (batch first) by in
  // `context`: 0 or 1/(1 − p) per element.
  Tensor<T> mask(const Shape& shape, const ForwardContext& context) const;

  const DropoutOptions& options() const { return options_; }

 private:
  DropoutOptions options_;
};

extern template class Dropout<float>;
extern template class Dropout<double>;

}  // namespace curv::nn
