// curv::ad::Op: the four rules every differentiable operation provides.
//
// An op y = f(x₁, …, xₙ) recorded on a Tape answers, at its node:
//   value            y                       computed by the op's free function
//   tangent          ẏ = Σᵢ (∂y/∂xᵢ) ẋᵢ       forward mode (JVP)
//   adjoint          x̄ᵢ += (∂y/∂xᵢ)ᵀ ȳ        reverse mode (VJP)
//   adjoint_tangent  x̄̇ᵢ += (∂y/∂xᵢ)ᵀ ȳ̇ + (d/dt (∂y/∂xᵢ)ᵀ) ȳ
// The last rule is the tangent of the adjoint rule along the forward tangent:
// sweeping it backwards after a tangent-seeded forward pass turns the adjoint
// of each input into the gradient and its tangent into H·v (Pearlmutter's
// R-operator, i.e. forward-over-reverse). See docs/adding-an-op.md.
#pragma once

// An op header ends with its instantiations for float and double, e.g.
//   CURV_AD_EXPLICIT(Var<float> tanh(const Var<float>&));
// an `extern template` declaration everywhere but in autodiff/src/ops.cpp,
// which defines CURV_AD_INSTANTIATE_OPS and includes every op: there they are
// the explicit instantiations. Users' translation units compile only
// declarations, and a new op needs no line outside its header but its
// #include in curv/autodiff.hpp.
#ifdef CURV_AD_INSTANTIATE_OPS
#define CURV_AD_EXPLICIT(...) template __VA_ARGS__
#else
#define CURV_AD_EXPLICIT(...) extern template __VA_ARGS__
#endif

#include <string_view>

#include "curv/autodiff/tensor.hpp"

namespace curv::ad {

template <class T>
class OpContext;

template <class T>
class Op {
 public:
  virtual ~Op() = default;

  // Short lower-case name used in error messages ("matmul", "conv2d").
  virtual std::string_view name() const = 0;

  // ẏ from the input tangents. Called while recording, only when at least one
  // input carries a tangent; inputs without one have a zero tangent.
  virtual Tensor<T> tangent(const OpContext<T>& c) const = 0;

  // Accumulates x̄ᵢ += (∂y/∂xᵢ)ᵀ ȳ into every input with c.needs_adjoint(i).
  virtual void adjoint(OpContext<T>& c) const = 0;

  // Accumulates the tangent of the adjoint rule into every input with
  // c.needs_adjoint(i). Called only when the output has a tangent or an
  // adjoint tangent; either may be absent (zero), check with has_*.
  virtual void adjoint_tangent(OpContext<T>& c) const = 0;
};

}  // namespace curv::ad
