// curv::nn::fuse: the explicit pass that rewrites a model into one computing
// the same function faster, and the fused modules it puts in.
//
// Layers know nothing of each other: a Conv2d computes a convolution, a
// MaxPool2d a pooling. Where a run of layers is faster as one op — today a
// Conv2d followed by a MaxPool2d, and optionally a Tanh or ReLU, as
// ops::conv2d_max_pool2d (the convolution's output, the largest tensor of a
// small CNN, is then never stored) — fuse() returns a model with that run
// replaced by one Conv2dMaxPool2d module, inside every Sequential, nested
// ones included. The fused op takes every option of the two layers (kernel
// shapes, strides, padding, dilation, ceil_mode) but groups: a Conv2d with
// groups > 1 stays unfused, with its pooling (see fusible()). The fused module takes the Conv2d's name and parameters
// ("0.weight", "0.bias" stay), so a w, a saved model or a checkpoint is the
// same for both; describe() shows what was fused. A layer matches by its
// exact type, so a user's subclass of Conv2d (whose forward may differ) is
// never fused, nor is anything fuse() does not know.
//
// The fused model equals the unfused one to rounding, in every rule (value,
// gradient, JVP, H·v): per element within a few units in the last place of
// the largest term (the gemm may sum a convolution output in another order);
// tests/nn/test_fused.cpp checks 1e-12 relative in float64. The
// Accumulator applies fuse() by default (AccumulatorOptions::fuse), so
// training gets the fused speed whatever the container.
#pragma once

#include <memory>
#include <string>

#include "curv/nn/layers/conv2d.hpp"
#include "curv/nn/layers/pooling.hpp"
#include "curv/nn/layers/sequential.hpp"
#include "curv/nn/ops/conv2d_max_pool2d.hpp"

namespace curv::nn {

// Whether ops::conv2d_max_pool2d computes this Conv2d: every option but
// groups > 1 (the fused op runs one gemm per sample). Any MaxPool2d fuses.
inline bool fusible(const Conv2dOptions& conv) { return conv.groups == 1; }

// a(max_pool2d(conv2d(x, W) + b)) as one op: Conv2d's parameters, options
// and errors, then the pooling and the activation. The Conv2d must be
// fusible (throws std::invalid_argument otherwise).
template <class T>
class Conv2dMaxPool2d final : public Module<T> {
 public:
  Conv2dMaxPool2d(Conv2dOptions conv, Pool2dOptions pool,
                  ops::PooledActivation activation = ops::PooledActivation::identity);

  std::size_t num_parameters() const override { return conv_.num_parameters(); }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  // "Conv2dMaxPool2d(Conv2d(…), MaxPool2d(2), Tanh)".
  std::string describe() const override;
  std::vector<ParameterInfo> parameters() const override { return conv_.parameters(); }

 private:
  Conv2d<T> conv_;
  MaxPool2d<T> pool_;
  ops::PooledActivation activation_;
};

// `model` with every fusible run of children of a Sequential (nested ones
// included) replaced by its fused module; a model with nothing to fuse comes
// back as it is. The result shares the unfused children (modules are
// stateless) and computes the same function of (w, x) to rounding.
template <class T>
std::shared_ptr<const Module<T>> fuse(std::shared_ptr<const Module<T>> model);

extern template class Conv2dMaxPool2d<float>;
extern template class Conv2dMaxPool2d<double>;
extern template std::shared_ptr<const Module<float>> fuse(std::shared_ptr<const Module<float>>);
extern template std::shared_ptr<const Module<double>> fuse(std::shared_ptr<const Module<double>>);

}  // namespace curv::nn
