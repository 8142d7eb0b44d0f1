// curv::nn::GELU, SiLU, LeakyReLU, Softplus, ELU: elementwise activations as
// layers without parameters, beside Tanh, ReLU and Sigmoid (activation.hpp).
// Each runs one autodiff Rule (ops/gelu.hpp, silu.hpp, …), which holds its
// calculus; a layer holds only its options, checked when it is built.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include "curv/nn/module.hpp"

namespace curv::nn {

// GELU's two forms, as PyTorch's approximate = "none" / "tanh".
enum class GeluForm { erf, tanh };

template <class T>
class GELU final : public Module<T> {
 public:
  explicit GELU(GeluForm form = GeluForm::erf) : form_(form) {}
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return form_ == GeluForm::erf ? "GELU" : "GELU(tanh)"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return form_ == GeluForm::erf ? ad::gelu(input) : ad::gelu_tanh(input);
  }

 private:
  GeluForm form_;
};

template <class T>
class SiLU final : public Module<T> {
 public:
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "SiLU"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::silu(input);
  }
};

struct LeakyReLUOptions {
  double negative_slope = 0.01;  // PyTorch's default
};

template <class T>
class LeakyReLU final : public Module<T> {
 public:
  explicit LeakyReLU(LeakyReLUOptions options = {}) : options_(options) {
    if (!std::isfinite(options_.negative_slope))
      throw std::invalid_argument("curv::nn::LeakyReLU: negative_slope = " + std::to_string(options_.negative_slope) +
                                  ", expected a finite number");
  }
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "LeakyReLU(" + std::to_string(options_.negative_slope) + ")"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::leaky_relu(input, static_cast<T>(options_.negative_slope));
  }

 private:
  LeakyReLUOptions options_;
};

struct SoftplusOptions {
  double beta = 1;        // y = log(1 + e^(βx)) / β
  double threshold = 20;  // y = x where βx > threshold
};

template <class T>
class Softplus final : public Module<T> {
 public:
  explicit Softplus(SoftplusOptions options = {}) : options_(options) {
    if (!(options_.beta > 0) || !std::isfinite(options_.beta))
      throw std::invalid_argument("curv::nn::Softplus: beta = " + std::to_string(options_.beta) +
                                  ", expected a finite beta > 0");
  }
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override {
    return "Softplus(beta=" + std::to_string(options_.beta) + ", threshold=" + std::to_string(options_.threshold) +
           ")";
  }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::softplus(input, static_cast<T>(options_.beta), static_cast<T>(options_.threshold));
  }

 private:
  SoftplusOptions options_;
};

struct ELUOptions {
  double alpha = 1;  // y = α (eˣ − 1) for x ≤ 0
};

template <class T>
class ELU final : public Module<T> {
 public:
  explicit ELU(ELUOptions options = {}) : options_(options) {
    if (!std::isfinite(options_.alpha))
      throw std::invalid_argument("curv::nn::ELU: alpha = " + std::to_string(options_.alpha) +
                                  ", expected a finite number");
  }
  std::size_t num_parameters() const override { return 0; }
  std::string describe() const override { return "ELU(" + std::to_string(options_.alpha) + ")"; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override {
    this->check_parameter_vector("forward", w.size());
    return ad::elu(input, static_cast<T>(options_.alpha));
  }

 private:
  ELUOptions options_;
};

}  // namespace curv::nn
