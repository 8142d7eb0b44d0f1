// curv's test kit for a Module: the gradient, JVP and H·v of a fixed
// nonlinear readout of its output with respect to its parameters, its input,
// and both jointly, in float64 against central finite differences and in
// float32 against float64. Built on the function checks of
// <curv/autodiff/testing.hpp> (Report, CheckOptions, CheckFailed).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "curv/autodiff/testing.hpp"
#include "curv/nn/module.hpp"

namespace curv::testing {

// A fixed nonlinear scalar readout of a module's output, Σ c ⊙ tanh(y) + ½ y ⊙ y
// with c drawn from seed 99: ȳ = c ⊙ tanh′(y) + y and ȳ̇ are nonzero and
// differ from element to element, so every term of a layer's adjoint-tangent
// rule meets a nonzero factor (a plain sum would have ȳ̇ = 0).
template <class T>
ad::Var<T> readout(const ad::Var<T>& y) {
  const Tensor<T> c = xt::cast<T>(random_normal(Shape(y.shape().begin(), y.shape().end()), 99));
  return ad::sum(ad::tanh(y) * c + y * y * T(0.5));
}

namespace detail {

inline std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

// readout(m(w, x)) as a function of z = [w; vec(x)]: the joint check, which
// is what catches a missing cross term (ȳ with ẇ in x̄̇) in adjoint_tangent.
template <class T>
auto joint_function(const nn::Module<T>& m, const Shape& x_shape, const nn::ForwardContext& context) {
  const std::size_t p = m.num_parameters(), n = element_count(x_shape);
  return [&m, x_shape, p, n, &context](const ad::Var<T>& z) {
    const ad::Var<T> w = ad::slice(z, 0, p);
    const ad::Var<T> x = ad::reshape(ad::slice(z, p, p + n), x_shape);
    return readout(m.forward(w, x, context));
  };
}

inline Tensor<double> joined(const Tensor<double>& w, const Tensor<double>& x) {
  Tensor<double> z = Tensor<double>::from_shape({w.size() + x.size()});
  std::copy(w.begin(), w.end(), z.begin());
  std::copy(x.begin(), x.end(), z.begin() + static_cast<std::ptrdiff_t>(w.size()));
  return z;
}

template <class T>
void check_parameter_count(std::string_view fn, const nn::Module<T>& m, const Tensor<double>& w) {
  if (w.size() != m.num_parameters())
    throw std::invalid_argument("curv::testing::" + std::string(fn) + ": w has " + std::to_string(w.size()) +
                                " elements, expected " + m.describe() + "'s " +
                                std::to_string(m.num_parameters()) + " parameters");
}

}  // namespace detail

// The module's derivatives in float64 against central finite differences, at
// parameters w and input x: with respect to w (x constant), to x (w
// constant), and to both, along random directions drawn from o.seed,
// o.seed + 1 and o.seed + 2. A module without parameters skips the first.
// The module runs in `context`: pass a training one (nn::Mode::train, a
// seed, an epoch) to check what training differentiates, e.g. with Dropout.
inline Report check_module(const nn::Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                           const nn::ForwardContext& context, const CheckOptions& o = {}) {
  detail::check_parameter_count("check_module", m, w);
  const Shape x_shape(x.shape().begin(), x.shape().end());
  Report r;
  if (m.num_parameters() > 0)
    r.append(check_float64([&](const ad::Var<double>& p) { return readout(m.forward(p, p.tape().constant(x), context)); }, w,
                           random_normal(Shape(w.shape().begin(), w.shape().end()), o.seed), o),
             m.describe() + ", with respect to the parameters");
  r.append(check_float64([&](const ad::Var<double>& u) { return readout(m.forward(u.tape().constant(w), u, context)); }, x,
                         random_normal(x_shape, o.seed + 1), o),
           m.describe() + ", with respect to the input");
  const Tensor<double> z = detail::joined(w, x);
  r.append(check_float64(detail::joint_function(m, x_shape, context), z, random_normal({z.size()}, o.seed + 2), o),
           m.describe() + ", with respect to parameters and input jointly");
  return r;
}

// check_module in evaluation mode (forward(w, x)).
inline Report check_module(const nn::Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                           const CheckOptions& o = {}) {
  return check_module(m, w, x, nn::ForwardContext{}, o);
}

// The float32 module's value, gradient, JVP and H·v, jointly in w and x,
// against the float64 module's (the same layer, instantiated twice) at the
// same float-rounded point, along a random direction drawn from o.seed;
// both run in `context`.
inline Report check_module_float32(const nn::Module<float>& m32, const nn::Module<double>& m64,
                                   const Tensor<double>& w, const Tensor<double>& x,
                                   const nn::ForwardContext& context, const CheckOptions& o = {}) {
  detail::check_parameter_count("check_module_float32", m64, w);
  detail::check_parameter_count("check_module_float32", m32, w);
  const Shape x_shape(x.shape().begin(), x.shape().end());
  const Tensor<double> z = detail::joined(w, x);
  Report r;
  r.append(check_float32(detail::joint_function(m32, x_shape, context), detail::joint_function(m64, x_shape, context), z,
                         random_normal({z.size()}, o.seed), o),
           m64.describe() + ", jointly in parameters and input");
  return r;
}

// check_module_float32 in evaluation mode.
inline Report check_module_float32(const nn::Module<float>& m32, const nn::Module<double>& m64,
                                   const Tensor<double>& w, const Tensor<double>& x, const CheckOptions& o = {}) {
  return check_module_float32(m32, m64, w, x, nn::ForwardContext{}, o);
}

// check_module, throwing CheckFailed (naming the worst element) on failure.
inline void require_module(const nn::Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                           const nn::ForwardContext& context, const CheckOptions& o = {}) {
  Report r = check_module(m, w, x, context, o);
  if (!r.ok()) throw CheckFailed(std::move(r));
}
inline void require_module(const nn::Module<double>& m, const Tensor<double>& w, const Tensor<double>& x,
                           const CheckOptions& o = {}) {
  require_module(m, w, x, nn::ForwardContext{}, o);
}

// check_module_float32, throwing CheckFailed on failure.
inline void require_module_float32(const nn::Module<float>& m32, const nn::Module<double>& m64,
                                   const Tensor<double>& w, const Tensor<double>& x,
                                   const nn::ForwardContext& context, const CheckOptions& o = {}) {
  Report r = check_module_float32(m32, m64, w, x, context, o);
  if (!r.ok()) throw CheckFailed(std::move(r));
}
inline void require_module_float32(const nn::Module<float>& m32, const nn::Module<double>& m64,
                                   const Tensor<double>& w, const Tensor<double>& x, const CheckOptions& o = {}) {
  require_module_float32(m32, m64, w, x, nn::ForwardContext{}, o);
}

}  // namespace curv::testing
