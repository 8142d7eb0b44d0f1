// curv::nn::fuse and the fused modules it puts in (see fuse.hpp).
#include "curv/nn/fuse.hpp"

#include <stdexcept>
#include <typeinfo>
#include <vector>

#include "curv/nn/layers/activation.hpp"

namespace curv::nn {

template <class T>
Conv2dMaxPool2d<T>::Conv2dMaxPool2d(Conv2dOptions conv, Pool2dOptions pool, ops::PooledActivation activation)
    : conv_(conv), pool_(pool), activation_(activation) {
  if (!fusible(conv))
    throw std::invalid_argument("curv::nn::Conv2dMaxPool2d: " + conv_.describe() +
                                " has groups = " + std::to_string(conv.groups) + ", expected 1 (fuse() leaves such a "
                                "Conv2d unfused)");
}

template <class T>
std::string Conv2dMaxPool2d<T>::describe() const {
  const char* activation = activation_ == ops::PooledActivation::tanh   ? ", Tanh"
                           : activation_ == ops::PooledActivation::relu ? ", ReLU"
                                                                        : "";
  return "Conv2dMaxPool2d(" + conv_.describe() + ", " + pool_.describe() + activation + ")";
}

template <class T>
ad::Var<T> Conv2dMaxPool2d<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  conv_.check_input(input);
  const Shape z = *conv_.output_shape(Shape(input.shape().begin(), input.shape().end()));
  const Pool2dOptions& o = pool_.options();
  const Size2 k = o.kernel_size, pad = o.padding;
  if (z[2] + 2 * pad.h < k.h || z[3] + 2 * pad.w < k.w) {
    const std::string fits = k.square() && pad == Size2(0)
                                 ? "height, width >= " + std::to_string(k.h)
                                 : "height + 2 * " + std::to_string(pad.h) + " >= " + std::to_string(k.h) +
                                       " and width + 2 * " + std::to_string(pad.w) + " >= " + std::to_string(k.w);
    throw std::invalid_argument("curv::nn::" + describe() + ": the convolution's output has shape " +
                                shape_string(z) + ", expected " + fits + " for the pooling");
  }
  const std::vector<ad::Var<T>> p = conv_.parameter_views(w);
  const ops::Pool2dGeometry pool = o.geometry();
  if (p.size() == 1) return ops::conv2d_max_pool2d(input, p[0], conv_.geometry(), pool, activation_);
  return ops::conv2d_max_pool2d(input, p[0], p[1], conv_.geometry(), pool, activation_);
}

namespace {

// Whether m is exactly an M (not a subclass, whose forward may differ).
template <class M, class T>
const M* exactly(const Module<T>& m) {
  return typeid(m) == typeid(M) ? static_cast<const M*>(&m) : nullptr;
}

// The activation a Tanh or ReLU child applies, or identity for any other.
template <class T>
ops::PooledActivation activation_of(const Module<T>& m) {
  if (exactly<Tanh<T>>(m)) return ops::PooledActivation::tanh;
  if (exactly<ReLU<T>>(m)) return ops::PooledActivation::relu;
  return ops::PooledActivation::identity;
}

}  // namespace

template <class T>
std::shared_ptr<const Module<T>> fuse(std::shared_ptr<const Module<T>> model) {
  const auto* sequential = model ? exactly<Sequential<T>>(*model) : nullptr;
  if (!sequential) return model;
  auto fused = std::make_shared<Sequential<T>>();
  bool changed = false;
  const std::size_t n = sequential->size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto* conv = exactly<Conv2d<T>>(sequential->child(i));
    const auto* pool = i + 1 < n ? exactly<MaxPool2d<T>>(sequential->child(i + 1)) : nullptr;
    if (conv && pool && fusible(conv->options())) {
      const ops::PooledActivation a =
          i + 2 < n ? activation_of(sequential->child(i + 2)) : ops::PooledActivation::identity;
      fused->add(sequential->name(i), std::make_shared<const Conv2dMaxPool2d<T>>(conv->options(), pool->options(), a));
      i += a == ops::PooledActivation::identity ? 1 : 2;  // the pooling (and activation) children are in it
      changed = true;
      continue;
    }
    std::shared_ptr<const Module<T>> child = fuse(sequential->shared_child(i));
    changed = changed || child != sequential->shared_child(i);
    fused->add(sequential->name(i), std::move(child));
  }
  if (!changed) return model;
  return fused;
}

template class Conv2dMaxPool2d<float>;
template class Conv2dMaxPool2d<double>;
template std::shared_ptr<const Module<float>> fuse(std::shared_ptr<const Module<float>>);
template std::shared_ptr<const Module<double>> fuse(std::shared_ptr<const Module<double>>);

}  // namespace curv::nn
