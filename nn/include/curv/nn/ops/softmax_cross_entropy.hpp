// softmax_cross_entropy: L = s Σₙ ( logsumexp(zₙ) − zₙ[yₙ] ) for logits
// z (N×K) and integer labels y, with s = 1 (sum) or 1/N (mean), one fused op.
//
// With pₙ = softmax(zₙ) (computed stably, shifting by the row maximum) and
// eₙ the one-hot label, ∂L/∂zₙ = s (pₙ − eₙ) and ∂²L/∂zₙ² = s (diag pₙ − pₙpₙᵀ):
//   L̇ = s Σₙ (pₙ − eₙ)·żₙ
//   z̄ₙ += ȳ s (pₙ − eₙ)
//   z̄̇ₙ += ȳ̇ s (pₙ − eₙ) + ȳ s (pₙ ⊙ żₙ − pₙ (pₙ·żₙ))
// The labels are data (no adjoint); p is saved at recording.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

// A target that is not a class index, as class_labels finds it: what()
// names the element of the batch; index(), value() and classes() let a
// caller that knows where the batch came from name the example instead (the
// Accumulator names its file and record).
class ClassIndexError : public std::invalid_argument {
 public:
  ClassIndexError(const std::string& what, std::size_t index, double value, std::size_t classes)
      : std::invalid_argument(what), index_(index), value_(value), classes_(classes) {}
  std::size_t index() const { return index_; }  // in the batch
  double value() const { return value_; }
  std::size_t classes() const { return classes_; }

 private:
  std::size_t index_;
  double value_;
  std::size_t classes_;
};

// The class indices in a 1-D tensor of integer-valued T (one per sample, as
// datasets store labels), checked against `batch` samples of `classes`
// classes; `fn` names the caller in the error, which names the bad element
// (ClassIndexError). The one check of class-index targets: the losses and
// the Accumulator's evaluation use it.
template <class T>
std::vector<std::size_t> class_labels(std::string_view fn, const Tensor<T>& targets, std::size_t batch,
                                      std::size_t classes) {
  if (targets.dimension() != 1 || targets.size() != batch)
    throw std::invalid_argument(std::string(fn) + ": targets have shape " + shape_string(targets.shape()) +
                                ", expected (" + std::to_string(batch) + ",), one class index per sample");
  std::vector<std::size_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) {
    const T t = targets.data()[i];
    if (!(t >= T(0)) || t != std::floor(t) || t >= static_cast<T>(classes))
      throw ClassIndexError(std::string(fn) + ": targets[" + std::to_string(i) + "] = " + std::to_string(t) +
                                " is not a class index (expected an integer in [0, " + std::to_string(classes) + "))",
                            i, static_cast<double>(t), classes);
    labels[i] = static_cast<std::size_t>(t);
  }
  return labels;
}

namespace detail {

// p = softmax of each row of z (N×K); returns Σₙ logsumexp(zₙ) − zₙ[yₙ] in double.
template <class T>
double softmax_rows(const Tensor<T>& z, const std::vector<std::size_t>& labels, Tensor<T>& p) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  p = Tensor<T>::from_shape({n, k});
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T* zi = z.data() + i * k;
    T* pi = p.data() + i * k;
    T m = zi[0];
    for (std::size_t j = 1; j < k; ++j) m = zi[j] > m ? zi[j] : m;
    T denom = T(0);
    for (std::size_t j = 0; j < k; ++j) denom += (pi[j] = std::exp(zi[j] - m));
    for (std::size_t j = 0; j < k; ++j) pi[j] /= denom;
    total += static_cast<double>(m) + std::log(static_cast<double>(denom)) - static_cast<double>(zi[labels[i]]);
  }
  return total;
}

// out += scale (diag pₙ − pₙpₙᵀ) uₙ for every row n.
template <class T>
void add_softmax_hessian_product(const Tensor<T>& p, const T* u, T scale, T* out) {
  const std::size_t n = p.shape(0), k = p.shape(1);
  for (std::size_t i = 0; i < n; ++i) {
    const T* pi = p.data() + i * k;
    const T* ui = u + i * k;
    T dot = T(0);
    for (std::size_t j = 0; j < k; ++j) dot += pi[j] * ui[j];
    T* oi = out + i * k;
    for (std::size_t j = 0; j < k; ++j) oi[j] += scale * pi[j] * (ui[j] - dot);
  }
}

}  // namespace detail

template <class T>
class SoftmaxCrossEntropyOp final : public ad::Op<T> {
 public:
  SoftmaxCrossEntropyOp(std::vector<std::size_t> labels, Tensor<T> p, T scale)
      : labels_(std::move(labels)), p_(std::move(p)), scale_(scale) {}

  std::string_view name() const override { return "softmax_cross_entropy"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    const Tensor<T>& zdot = c.input_tangent(0);
    const std::size_t k = p_.shape(1);
    T acc = T(0);
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      const T* pi = p_.data() + i * k;
      const T* zi = zdot.data() + i * k;
      for (std::size_t j = 0; j < k; ++j) acc += pi[j] * zi[j];
      acc -= zi[labels_[i]];
    }
    return Tensor<T>(scale_ * acc);
  }

  void adjoint(ad::OpContext<T>& c) const override { add_gradient(c.input_adjoint(0), scale_ * c.adjoint()()); }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    Tensor<T>& zbar_dot = c.input_adjoint_tangent(0);
    if (c.has_adjoint_tangent()) add_gradient(zbar_dot, scale_ * c.adjoint_tangent()());
    if (c.has_tangent(0))
      detail::add_softmax_hessian_product(p_, c.input_tangent(0).data(), scale_ * c.adjoint()(), zbar_dot.data());
  }

 private:
  // into += factor (p − onehot).
  void add_gradient(Tensor<T>& into, T factor) const {
    const std::size_t k = p_.shape(1);
    T* out = into.data();
    for (std::size_t i = 0, n = p_.size(); i < n; ++i) out[i] += factor * p_.data()[i];
    for (std::size_t i = 0; i < labels_.size(); ++i) out[i * k + labels_[i]] -= factor;
  }

  std::vector<std::size_t> labels_;
  Tensor<T> p_;
  T scale_;
};

// Cross-entropy of softmax(logits) against class labels stored as T; `mean`
// divides by the batch size.
template <class T>
ad::Var<T> softmax_cross_entropy(const ad::Var<T>& logits, const Tensor<T>& targets, bool mean) {
  if (logits.dimension() != 2 || logits.shape()[1] == 0)
    throw std::invalid_argument("curv::nn::ops::softmax_cross_entropy: logits have shape " +
                                shape_string(logits.shape()) + ", expected (batch, classes)");
  const std::size_t n = logits.shape()[0], k = logits.shape()[1];
  std::vector<std::size_t> labels =
      class_labels("curv::nn::ops::softmax_cross_entropy", targets, n, k);
  Tensor<T> p;
  const double total = detail::softmax_rows(logits.value(), labels, p);
  const T scale = mean && n > 0 ? T(1) / static_cast<T>(n) : T(1);
  Tensor<T> value(static_cast<T>(total * static_cast<double>(scale)));
  return logits.tape().record(std::make_unique<SoftmaxCrossEntropyOp<T>>(std::move(labels), std::move(p), scale),
                              {logits}, std::move(value));
}

}  // namespace curv::nn::ops
