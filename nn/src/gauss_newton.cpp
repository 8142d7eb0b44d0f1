// Gauss–Newton products Jᵀ H_ℓ J v (see gauss_newton.hpp).
#include "curv/nn/gauss_newton.hpp"

#include <stdexcept>
#include <string>

namespace curv::nn {

template <class T>
GaussNewtonProduct<T> gauss_newton_product(const Module<T>& module, const Loss<T>& loss, const Tensor<T>& w,
                                           const Tensor<T>& inputs, const Tensor<T>& targets, const Tensor<T>& v,
                                           const ForwardContext& context) {
  module.check_parameter_vector("gauss_newton_product", w.size());
  if (v.shape() != w.shape())
    throw std::invalid_argument("curv::nn::gauss_newton_product: direction v has shape " + shape_string(v.shape()) +
                                ", expected w's shape " + shape_string(w.shape()));
  if (w.dimension() != 1)
    throw std::invalid_argument("curv::nn::gauss_newton_product: w has shape " + shape_string(w.shape()) +
                                ", expected a 1-D parameter vector");

  // Forward with tangents: J v at the output. w, v and the inputs outlive the
  // tape: it reads them in place.
  ad::Tape<T> tape;
  const ad::Var<T> wv = tape.borrowed_variable(w, v);
  const ad::Var<T> output = module.forward(wv, tape.borrowed_constant(inputs), context);
  const Tensor<T> jv = output.has_tangent() ? output.tangent() : Tensor<T>(xt::zeros<T>(output.shape()));

  // The loss and its gradient at the output, on a tape of its own.
  ad::Tape<T> loss_tape;
  const ad::Var<T> y = loss_tape.variable(output.value());
  const ad::Var<T> l = loss.forward(y, targets, Reduction::sum);
  loss_tape.backward(l);
  GaussNewtonProduct<T> result;
  result.loss = *l.value().data();

  // One sweep with (ȳ, ȳ̇) = (∇ℓ, H_ℓ J v). Dropping the recorded tangents
  // first removes every second-order term of the network from the adjoint
  // tangent rules: what remains is the VJP Jᵀ H_ℓ J v.
  Tensor<T> hjv = loss.output_hessian_product(output.value(), targets, jv);
  tape.drop_tangents();
  tape.backward(output, y.grad(), std::move(hjv));
  result.grad = tape.take_adjoint(wv);  // moved out, not copied
  result.gv = tape.take_adjoint_tangent(wv);
  return result;
}

template GaussNewtonProduct<float> gauss_newton_product(const Module<float>&, const Loss<float>&,
                                                        const Tensor<float>&, const Tensor<float>&,
                                                        const Tensor<float>&, const Tensor<float>&,
                                                        const ForwardContext&);
template GaussNewtonProduct<double> gauss_newton_product(const Module<double>&, const Loss<double>&,
                                                         const Tensor<double>&, const Tensor<double>&,
                                                         const Tensor<double>&, const Tensor<double>&,
                                                         const ForwardContext&);

}  // namespace curv::nn
