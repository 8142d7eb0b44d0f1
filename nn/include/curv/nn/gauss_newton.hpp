// Generalized Gauss–Newton products: G v = Jᵀ H_ℓ J v, where J is the
// Jacobian of the module's output with respect to w and H_ℓ the Hessian of the
// batch-summed loss with respect to that output (Schraudolph 2002, "Fast
// curvature matrix-vector products for second-order gradient descent").
//
// G is positive semi-definite whenever H_ℓ is (every curv loss is convex in
// the output: their weights are refused below 0), so SCG and Hessian-free
// methods may use it in place of H.
//
// Cost: one tangent-carrying forward pass (J v at the output, as a by-product
// of recording), the loss's own output Hessian on it, and one reverse sweep
// carrying (ȳ, ȳ̇) = (∇ℓ, H_ℓ J v) with the forward tangents dropped, so the
// adjoint-tangent channel is a second, plain VJP: at w the adjoint is the
// gradient and the adjoint tangent is G v.
#pragma once

#include "curv/nn/loss.hpp"
#include "curv/nn/module.hpp"

namespace curv::nn {

template <class T>
struct GaussNewtonProduct {
  T loss;           // batch-summed loss
  Tensor<T> grad;   // its gradient with respect to w
  Tensor<T> gv;     // G v
};

// Sum reduction over the batch (divide all three by the batch size for the
// mean). The module runs in `context` (evaluation mode by default).
template <class T>
GaussNewtonProduct<T> gauss_newton_product(const Module<T>& module, const Loss<T>& loss, const Tensor<T>& w,
                                           const Tensor<T>& inputs, const Tensor<T>& targets, const Tensor<T>& v,
                                           const ForwardContext& context = {});

extern template GaussNewtonProduct<float> gauss_newton_product(const Module<float>&, const Loss<float>&,
                                                               const Tensor<float>&, const Tensor<float>&,
                                                               const Tensor<float>&, const Tensor<float>&,
                                                               const ForwardContext&);
extern template GaussNewtonProduct<double> gauss_newton_product(const Module<double>&, const Loss<double>&,
                                                                const Tensor<double>&, const Tensor<double>&,
                                                                const Tensor<double>&, const Tensor<double>&,
                                                                const ForwardContext&);

}  // namespace curv::nn
