// A user's own residual block, in one header over curv's public Composite:
// a pre-norm SiLU-gated feed-forward block (the GLU variant "SwiGLU" of
// Shazeer 2020, "GLU Variants Improve Transformer"),
//
//   y = x + down(Dropout(value(n) ⊙ silu(gate(n)))),   n = LayerNorm(x),
//
// made of five named children; its value, JVP, VJP and adjoint tangent are
// those of the layers and ops it composes, and Composite hands each child
// its forward context, so the Dropout acts in training. train_blocks.cpp
// checks it with <curv/testing.hpp> and trains it.
#pragma once

#include <stdexcept>
#include <string>

#include <curv/nn.hpp>

namespace my {

struct GatedBlockOptions {
  std::size_t features = 0;  // the width of x and y; at least 1
  std::size_t hidden = 0;    // the width of the gated product; at least 1
  double dropout = 0;        // Dropout's p on the gated product
};

template <class T>
class GatedBlock final : public curv::nn::Composite<T> {
 public:
  explicit GatedBlock(GatedBlockOptions o) : curv::nn::Composite<T>("GatedBlock") {
    if (o.features == 0 || o.hidden == 0)
      throw std::invalid_argument("my::GatedBlock: features = " + std::to_string(o.features) + ", hidden = " +
                                  std::to_string(o.hidden) + ", expected both at least 1");
    this->template emplace<curv::nn::LayerNorm<T>>("norm", o.features);
    this->template emplace<curv::nn::Linear<T>>("value", o.features, o.hidden);
    this->template emplace<curv::nn::Linear<T>>("gate", o.features, o.hidden);
    this->template emplace<curv::nn::Dropout<T>>("drop", o.dropout);
    this->template emplace<curv::nn::Linear<T>>("down", o.hidden, o.features);
  }

 private:
  curv::ad::Var<T> compose(const curv::nn::Children<T>& children, const curv::ad::Var<T>& x) const override {
    const curv::ad::Var<T> n = children("norm", x);
    const curv::ad::Var<T> gated = children("value", n) * curv::ad::silu(children("gate", n));
    return x + children("down", children("drop", gated));
  }
};

}  // namespace my
