// softmax_cross_entropy: L = s Σₙ ( Aₙ logsumexp(zₙ) − aₙ·zₙ ) for logits
// z (N×K) and integer labels y, with s = 1 (sum) or 1/N (mean), one fused op.
// aₙ is the (weighted) target distribution of sample n, Aₙ = Σ_c aₙ[c]:
//   plain:                       aₙ = e_{yₙ}                     (Aₙ = 1)
//   class weights w, smoothing ε: aₙ = (1 − ε) w[yₙ] e_{yₙ} + (ε/K) w
// so that each term is −Σ_c aₙ[c] log softmax(zₙ)[c] (PyTorch's per-sample
// cross-entropy with `weight` and `label_smoothing`).
//
// With pₙ = softmax(zₙ) (computed stably, shifting by the row maximum),
// ∂L/∂zₙ = s (Aₙ pₙ − aₙ) and ∂²L/∂zₙ² = s Aₙ (diag pₙ − pₙpₙᵀ):
//   L̇ = s Σₙ (Aₙ pₙ − aₙ)·żₙ
//   z̄ₙ += ȳ s (Aₙ pₙ − aₙ)
//   z̄̇ₙ += ȳ̇ s (Aₙ pₙ − aₙ) + ȳ s Aₙ (pₙ ⊙ żₙ − pₙ (pₙ·żₙ))
// The labels are data (no adjoint); p is saved at recording. In the plain
// case every product with Aₙ = 1 is exact, so the plain loss is computed
// bit for bit as it was before weights and smoothing existed.
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

// The coefficients of aₙ = cₙ e_{yₙ} + spread (see the top of this file):
// label_coefficient cₙ, total Aₙ = Σ aₙ, and the spread over all classes
// (empty when there is none).
template <class T>
struct SoftmaxTargets {
  std::vector<std::size_t> labels;
  std::vector<T> label_coefficient;
  std::vector<T> total;
  std::vector<T> spread;
};

// The targets of the cross-entropy with class `weight`s (empty: all 1) and
// label smoothing ε, for class-index `targets` checked by class_labels; `fn`
// names the caller in errors. ε = 0 and no weights give cₙ = Aₙ = 1 exactly.
template <class T>
SoftmaxTargets<T> softmax_targets(std::string_view fn, const Tensor<T>& targets, std::size_t batch,
                                  std::size_t classes, double label_smoothing, const std::vector<double>& weight) {
  if (!weight.empty() && weight.size() != classes)
    throw std::invalid_argument(std::string(fn) + ": weight has " + std::to_string(weight.size()) +
                                " elements, expected one per class (" + std::to_string(classes) + ")");
  SoftmaxTargets<T> r;
  r.labels = class_labels(fn, targets, batch, classes);
  r.label_coefficient.resize(batch);
  r.total.resize(batch);
  T spread_sum = T(0);
  if (label_smoothing != 0) {
    r.spread.resize(classes);
    for (std::size_t j = 0; j < classes; ++j) {
      r.spread[j] = static_cast<T>(label_smoothing / static_cast<double>(classes) * (weight.empty() ? 1.0 : weight[j]));
      spread_sum += r.spread[j];
    }
  }
  for (std::size_t i = 0; i < batch; ++i) {
    const double w = weight.empty() ? 1.0 : weight[r.labels[i]];
    r.label_coefficient[i] = static_cast<T>((1 - label_smoothing) * w);
    r.total[i] = r.label_coefficient[i] + spread_sum;
  }
  return r;
}

namespace detail {

// p = softmax of each row of z (N×K); returns Σₙ Aₙ logsumexp(zₙ) − aₙ·zₙ in double.
template <class T>
double softmax_rows(const Tensor<T>& z, const SoftmaxTargets<T>& a, Tensor<T>& p) {
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
    const double lse = static_cast<double>(m) + std::log(static_cast<double>(denom));
    total += static_cast<double>(a.total[i]) * lse -
             static_cast<double>(a.label_coefficient[i]) * static_cast<double>(zi[a.labels[i]]);
    for (std::size_t j = 0; j < a.spread.size(); ++j)
      total -= static_cast<double>(a.spread[j]) * static_cast<double>(zi[j]);
  }
  return total;
}

// out += scale Aₙ (diag pₙ − pₙpₙᵀ) uₙ for every row n; `total` holds the
// Aₙ, or is null for Aₙ = 1.
template <class T>
void add_softmax_hessian_product(const Tensor<T>& p, const T* u, T scale, T* out, const T* total = nullptr) {
  const std::size_t n = p.shape(0), k = p.shape(1);
  for (std::size_t i = 0; i < n; ++i) {
    const T* pi = p.data() + i * k;
    const T* ui = u + i * k;
    const T row_scale = total ? scale * total[i] : scale;
    T dot = T(0);
    for (std::size_t j = 0; j < k; ++j) dot += pi[j] * ui[j];
    T* oi = out + i * k;
    for (std::size_t j = 0; j < k; ++j) oi[j] += row_scale * pi[j] * (ui[j] - dot);
  }
}

}  // namespace detail

template <class T>
class SoftmaxCrossEntropyOp final : public ad::Op<T> {
 public:
  SoftmaxCrossEntropyOp(SoftmaxTargets<T> targets, Tensor<T> p, T scale)
      : a_(std::move(targets)), p_(std::move(p)), scale_(scale) {}

  std::string_view name() const override { return "softmax_cross_entropy"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    const Tensor<T>& zdot = c.input_tangent(0);
    const std::size_t k = p_.shape(1);
    T acc = T(0);
    for (std::size_t i = 0; i < a_.labels.size(); ++i) {
      const T* pi = p_.data() + i * k;
      const T* zi = zdot.data() + i * k;
      const T total = a_.total[i];
      for (std::size_t j = 0; j < k; ++j) acc += total * pi[j] * zi[j];
      acc -= a_.label_coefficient[i] * zi[a_.labels[i]];
      for (std::size_t j = 0; j < a_.spread.size(); ++j) acc -= a_.spread[j] * zi[j];
    }
    return Tensor<T>(scale_ * acc);
  }

  void adjoint(ad::OpContext<T>& c) const override {
    if (c.needs_adjoint(0)) add_gradient(c.input_adjoint(0), scale_ * c.adjoint()());
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (!c.needs_adjoint(0)) return;
    Tensor<T>& zbar_dot = c.input_adjoint_tangent(0);
    if (c.has_adjoint_tangent()) add_gradient(zbar_dot, scale_ * c.adjoint_tangent()());
    if (c.has_tangent(0))
      detail::add_softmax_hessian_product(p_, c.input_tangent(0).data(), scale_ * c.adjoint()(), zbar_dot.data(),
                                          a_.total.data());
  }

 private:
  // into += factor (A p − a), row by row.
  void add_gradient(Tensor<T>& into, T factor) const {
    const std::size_t k = p_.shape(1);
    T* out = into.data();
    for (std::size_t i = 0; i < a_.labels.size(); ++i) {
      const T f = factor * a_.total[i];
      for (std::size_t j = 0; j < k; ++j) out[i * k + j] += f * p_.data()[i * k + j];
    }
    if (!a_.spread.empty())
      for (std::size_t i = 0; i < a_.labels.size(); ++i)
        for (std::size_t j = 0; j < k; ++j) out[i * k + j] -= factor * a_.spread[j];
    for (std::size_t i = 0; i < a_.labels.size(); ++i) out[i * k + a_.labels[i]] -= factor * a_.label_coefficient[i];
  }

  SoftmaxTargets<T> a_;
  Tensor<T> p_;
  T scale_;
};

// Cross-entropy of softmax(logits) against class labels stored as T, with
// class `weight`s (empty: all 1) and label smoothing ε (see the top of this
// file); `mean` divides by the batch size.
template <class T>
ad::Var<T> softmax_cross_entropy(const ad::Var<T>& logits, const Tensor<T>& targets, bool mean,
                                 double label_smoothing, const std::vector<double>& weight) {
  constexpr std::string_view fn = "curv::nn::ops::softmax_cross_entropy";
  if (logits.dimension() != 2 || logits.shape()[1] == 0)
    throw std::invalid_argument(std::string(fn) + ": logits have shape " + shape_string(logits.shape()) +
                                ", expected (batch, classes)");
  const std::size_t n = logits.shape()[0], k = logits.shape()[1];
  SoftmaxTargets<T> a = softmax_targets(fn, targets, n, k, label_smoothing, weight);
  Tensor<T> p;
  const double total = detail::softmax_rows(logits.value(), a, p);
  const T scale = mean && n > 0 ? T(1) / static_cast<T>(n) : T(1);
  Tensor<T> value(static_cast<T>(total * static_cast<double>(scale)));
  return logits.tape().record(std::make_unique<SoftmaxCrossEntropyOp<T>>(std::move(a), std::move(p), scale),
                              {logits}, std::move(value));
}

// The plain cross-entropy: no weights, no smoothing.
template <class T>
ad::Var<T> softmax_cross_entropy(const ad::Var<T>& logits, const Tensor<T>& targets, bool mean) {
  return softmax_cross_entropy(logits, targets, mean, 0.0, {});
}

}  // namespace curv::nn::ops
