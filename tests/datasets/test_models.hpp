// Small models, a loss and synthetic data for the datasets tests, written with
// curv::ad ops only (independent of nn's layers): a tanh MLP, a linear
// softmax classifier, and softmax cross-entropy with its output Hessian.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>

#include "curv/autodiff.hpp"
#include "curv/datasets/dataset.hpp"
#include "curv/nn/loss.hpp"
#include "curv/nn/module.hpp"

namespace curv::test {

using ad::Var;

// in → hidden (tanh) → classes; hidden = 0 gives a linear model in → classes.
template <class T>
class TinyMlp final : public nn::Module<T> {
 public:
  TinyMlp(std::size_t in, std::size_t hidden, std::size_t classes) : in_(in), hidden_(hidden), classes_(classes) {}

  std::size_t num_parameters() const override {
    return hidden_ == 0 ? in_ * classes_ + classes_ : in_ * hidden_ + hidden_ + hidden_ * classes_ + classes_;
  }

  Var<T> forward(const Var<T>& w, const Var<T>& input) const override {
    std::size_t at = 0;
    auto take = [&](Shape shape) {
      std::size_t n = 1;
      for (std::size_t d : shape) n *= d;
      const Var<T> part = ad::slice(w, at, at + n);
      at += n;
      return shape.size() == 1 ? part : ad::reshape(part, shape);
    };
    const Var<T> x = ad::reshape(input, Shape{input.shape()[0], in_});
    if (hidden_ == 0) {
      const Var<T> weights = take({in_, classes_});
      return ad::add(ad::matmul(x, weights), take({classes_}));
    }
    const Var<T> w1 = take({in_, hidden_});
    const Var<T> b1 = take({hidden_});
    const Var<T> h = ad::tanh(ad::add(ad::matmul(x, w1), b1));
    const Var<T> w2 = take({hidden_, classes_});
    return ad::add(ad::matmul(h, w2), take({classes_}));
  }

 private:
  std::size_t in_, hidden_, classes_;
};

template <class T>
Tensor<T> one_hot(const Tensor<T>& targets, std::size_t classes) {
  Tensor<T> y = xt::zeros<T>({targets.size(), classes});
  for (std::size_t i = 0; i < targets.size(); ++i)
    y.data()[i * classes + static_cast<std::size_t>(targets.data()[i])] = T(1);
  return y;
}

// ℓ = log Σ_c exp(z_c) − z_y per example (no max shift: test logits are small).
template <class T>
class CrossEntropy final : public nn::Loss<T> {
 public:
  Var<T> forward(const Var<T>& output, const Tensor<T>& targets, nn::Reduction reduction) const override {
    ad::Tape<T>& tape = output.tape();
    const Var<T> lse = ad::log(ad::sum(ad::exp(output), 1));
    const Var<T> picked = ad::mul(output, tape.constant(one_hot(targets, output.shape()[1])));
    const Var<T> total = ad::sub(ad::sum(lse), ad::sum(picked));
    if (reduction == nn::Reduction::sum) return total;
    return ad::mul(total, tape.constant(Tensor<T>(T(1) / static_cast<T>(targets.size()))));
  }

  // Per row: (diag p − p pᵀ) u = p ⊙ (u − p·u), p = softmax(z).
  Tensor<T> output_hessian_product(const Tensor<T>& output, const Tensor<T>& /*targets*/,
                                   const Tensor<T>& u) const override {
    const std::size_t rows = output.shape(0), cols = output.shape(1);
    Tensor<T> hu = Tensor<T>::from_shape({rows, cols});
    for (std::size_t i = 0; i < rows; ++i) {
      const T* z = output.data() + i * cols;
      const T* ui = u.data() + i * cols;
      T* out = hu.data() + i * cols;
      T norm = 0, pu = 0;
      for (std::size_t c = 0; c < cols; ++c) norm += std::exp(z[c]);
      for (std::size_t c = 0; c < cols; ++c) pu += std::exp(z[c]) / norm * ui[c];
      for (std::size_t c = 0; c < cols; ++c) out[c] = std::exp(z[c]) / norm * (ui[c] - pu);
    }
    return hu;
  }
};

// Uniform in [-scale, scale) from our own generator (same on every platform).
template <class T>
Tensor<T> uniform(Shape shape, std::uint64_t seed, double scale = 1.0) {
  Tensor<T> x = Tensor<T>::from_shape(shape);
  std::mt19937_64 rng(seed);
  for (T& v : x) v = static_cast<T>(scale * (2.0 * static_cast<double>(rng() >> 11) / 9007199254740992.0 - 1.0));
  return x;
}

// n examples of `in` features in 3 classes, labels from a noisy linear rule.
template <class T>
datasets::TensorDataset<T> synthetic(std::size_t n, std::size_t in, std::uint64_t seed) {
  Tensor<T> x = uniform<T>({n, in}, seed);
  Tensor<T> y = Tensor<T>::from_shape({n});
  std::mt19937_64 rng(seed + 1);
  for (std::size_t i = 0; i < n; ++i) {
    const double s = static_cast<double>(x(i, 0)) + 0.5 * static_cast<double>(x(i, 1 % in));
    y(i) = static_cast<T>(rng() % 5 == 0 ? rng() % 3 : (s < -0.4 ? 0 : s < 0.4 ? 1 : 2));
  }
  return datasets::TensorDataset<T>(std::move(x), std::move(y));
}

}  // namespace curv::test
