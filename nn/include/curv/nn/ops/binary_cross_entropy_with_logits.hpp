// binary_cross_entropy_with_logits: L = s Σᵢ ℓ(xᵢ, tᵢ) for logits x and
// targets t ∈ [0, 1] of the same shape, s = 1 (sum) or 1/size (mean), one
// fused op. With a positive-class weight p (per class: the last axis) and
// λ = 1 + (p − 1) t (λ = 1 without pos_weight), PyTorch's
//   ℓ = −[p t log σ(x) + (1 − t) log(1 − σ(x))] = (1 − t) x + λ softplus(−x),
// computed as (1 − t) x + λ (max(−x, 0) + log(1 + e^(−|x|))), which never
// overflows (for λ = 1: max(x, 0) − x t + log(1 + e^(−|x|))).
//   ℓ′ = (1 − t) − λ σ(−x),   ℓ″ = λ σ(x) σ(−x)
// (σ(±x) from e^(−|x|), so neither loses digits to 1 − σ):
//   L̇ = s Σ ℓ′ ẋ;   x̄ += ȳ s ℓ′;   x̄̇ += ȳ̇ s ℓ′ + ȳ s ℓ″ ẋ.
// The targets are data (no adjoint); ℓ′ and ℓ″ are saved at recording.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/autodiff.hpp"

namespace curv::nn::ops {

// Checks logits against targets (same shape, every target in [0, 1]) and
// pos_weight (empty, one element, or one per class along the last axis, each
// finite and ≥ 0); `fn` names the caller in the error.
template <class T, class S>
void check_binary_targets(std::string_view fn, const S& logits_shape, const Tensor<T>& targets,
                          const std::vector<double>& pos_weight) {
  const std::string where(fn);
  if (logits_shape.size() == 0)
    throw std::invalid_argument(where + ": logits have shape " + shape_string(logits_shape) +
                                ", expected at least one axis (batch, …)");
  if (!std::equal(logits_shape.begin(), logits_shape.end(), targets.shape().begin(), targets.shape().end()))
    throw std::invalid_argument(where + ": targets have shape " + shape_string(targets.shape()) +
                                ", expected the logits' shape " + shape_string(logits_shape));
  const std::size_t classes = logits_shape[logits_shape.size() - 1];
  if (pos_weight.size() > 1 && pos_weight.size() != classes)
    throw std::invalid_argument(where + ": pos_weight has " + std::to_string(pos_weight.size()) +
                                " elements, expected one per class along the last axis (" + std::to_string(classes) +
                                ") or one for all");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const T t = targets.data()[i];
    if (!(t >= T(0) && t <= T(1)))
      throw std::invalid_argument(where + ": targets[" + std::to_string(i) + "] (row-major) = " + std::to_string(t) +
                                  ", expected a probability in [0, 1]");
  }
}

namespace detail {

// ℓ′ and ℓ″ of every element into g and h (either may be null); returns Σℓ
// in double. pos_weight as check_binary_targets accepts it.
template <class T>
double binary_cross_entropy_terms(const Tensor<T>& x, const Tensor<T>& t, const std::vector<double>& pos_weight,
                                  T* g, T* h) {
  const std::size_t n = x.size(), classes = x.dimension() > 0 ? x.shape(x.dimension() - 1) : 1;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T xi = x.data()[i], ti = t.data()[i];
    const T p = pos_weight.empty() ? T(1) : static_cast<T>(pos_weight[pos_weight.size() == 1 ? 0 : i % classes]);
    const T lambda = T(1) + (p - T(1)) * ti;
    const T e = std::exp(-std::abs(xi));
    const T near = T(1) / (T(1) + e), far = e / (T(1) + e);  // σ(|x|), σ(−|x|)
    const T sigma_minus = xi >= T(0) ? far : near;          // σ(−x)
    const T sigma_plus = xi >= T(0) ? near : far;
    total += static_cast<double>((T(1) - ti) * xi) +
             static_cast<double>(lambda) * (static_cast<double>(std::max(-xi, T(0))) +
                                            std::log1p(static_cast<double>(e)));
    if (g) g[i] = xi != xi ? xi : (T(1) - ti) - lambda * sigma_minus;
    if (h) h[i] = xi != xi ? xi : lambda * sigma_plus * sigma_minus;
  }
  return total;
}

}  // namespace detail

template <class T>
class BinaryCrossEntropyWithLogitsOp final : public ad::Op<T> {
 public:
  BinaryCrossEntropyWithLogitsOp(Tensor<T> first, Tensor<T> second, T scale)
      : first_(std::move(first)), second_(std::move(second)), scale_(scale) {}

  std::string_view name() const override { return "binary_cross_entropy_with_logits"; }

  Tensor<T> tangent(const ad::OpContext<T>& c) const override {
    const T* xdot = c.input_tangent(0).data();
    T acc = T(0);
    for (std::size_t i = 0; i < first_.size(); ++i) acc += first_.data()[i] * xdot[i];
    return Tensor<T>(scale_ * acc);
  }

  void adjoint(ad::OpContext<T>& c) const override {
    if (c.needs_adjoint(0)) add_scaled(first_.data(), scale_ * c.adjoint()(), c.input_adjoint(0).data());
  }

  void adjoint_tangent(ad::OpContext<T>& c) const override {
    if (!c.needs_adjoint(0)) return;
    T* xbar_dot = c.input_adjoint_tangent(0).data();
    if (c.has_adjoint_tangent()) add_scaled(first_.data(), scale_ * c.adjoint_tangent()(), xbar_dot);
    if (c.has_tangent(0)) {
      const T f = scale_ * c.adjoint()();
      const T* xdot = c.input_tangent(0).data();
      for (std::size_t i = 0; i < second_.size(); ++i) xbar_dot[i] += f * second_.data()[i] * xdot[i];
    }
  }

 private:
  void add_scaled(const T* a, T factor, T* out) const {
    for (std::size_t i = 0; i < first_.size(); ++i) out[i] += factor * a[i];
  }

  Tensor<T> first_, second_;  // ℓ′, ℓ″
  T scale_;
};

// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], with an
// optional pos_weight (see the top of this file); `mean` divides by the
// number of elements.
template <class T>
ad::Var<T> binary_cross_entropy_with_logits(const ad::Var<T>& logits, const Tensor<T>& targets, bool mean,
                                            const std::vector<double>& pos_weight = {}) {
  check_binary_targets("curv::nn::ops::binary_cross_entropy_with_logits", logits.shape(), targets, pos_weight);
  Tensor<T> first = Tensor<T>::from_shape(logits.shape()), second = Tensor<T>::from_shape(logits.shape());
  const double total =
      detail::binary_cross_entropy_terms(logits.value(), targets, pos_weight, first.data(), second.data());
  const std::size_t n = logits.size();
  const T scale = mean && n > 0 ? T(1) / static_cast<T>(n) : T(1);
  Tensor<T> value(static_cast<T>(total * static_cast<double>(scale)));
  return logits.tape().record(
      std::make_unique<BinaryCrossEntropyWithLogitsOp<T>>(std::move(first), std::move(second), scale), {logits},
      std::move(value));
}

}  // namespace curv::nn::ops
