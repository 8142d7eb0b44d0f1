// curv::nn::Sequential.
#include "curv/nn/layers/sequential.hpp"

#include <optional>
#include <stdexcept>

#include "curv/nn/layers/activation.hpp"
#include "curv/nn/layers/conv2d.hpp"
#include "curv/nn/layers/flatten.hpp"
#include "curv/nn/layers/linear.hpp"
#include "curv/nn/layers/pooling.hpp"

namespace curv::nn {

template <class T>
Sequential<T>::Sequential(std::vector<Child> children) : Sequential() {
  for (Child& c : children) add(std::move(c.first), std::move(c.second));
}

namespace {

// The pooling of child i + 1 when children i and i + 1 are a Conv2d and a
// MaxPool2d that fit the input: they then run as one fused op
// (ops::conv2d_max_pool2d), which never stores the convolution's output.
// Inputs that fit neither layer run unfused, so errors name the layer.
template <class T>
std::optional<ops::Pool2dGeometry> fusable_max_pool(const Module<T>& m, const Module<T>* next, const ad::Var<T>& x) {
  const auto* conv = dynamic_cast<const Conv2d<T>*>(&m);
  const auto* pool = dynamic_cast<const MaxPool2d<T>*>(next);
  if (!conv || !pool) return std::nullopt;
  const std::optional<Shape> y = conv->output_shape(Shape(x.shape().begin(), x.shape().end()));
  const Pool2dOptions& o = pool->options();
  if (!y || o.kernel_size == 0 || (*y)[2] < o.kernel_size || (*y)[3] < o.kernel_size) return std::nullopt;
  return ops::Pool2dGeometry{o.kernel_size, o.stride};
}

// The activation child i + 2 applies after a fused Conv2d + MaxPool2d: a Tanh
// or a ReLU joins the fused op (its input, the pooled output, is then never
// stored either); anything else stays a layer of its own.
template <class T>
ops::PooledActivation fusable_activation(const Module<T>* after_pool) {
  if (dynamic_cast<const Tanh<T>*>(after_pool)) return ops::PooledActivation::tanh;
  if (dynamic_cast<const ReLU<T>*>(after_pool)) return ops::PooledActivation::relu;
  return ops::PooledActivation::identity;
}

// Whether children i and i + 1 are a Flatten and a Linear that fit the input:
// the Linear then reads the unflattened input in place (no copy, nor one of
// its adjoint).
template <class T>
bool fusable_flatten(const Module<T>& m, const Module<T>* next, const ad::Var<T>& x) {
  const auto* linear = dynamic_cast<const Linear<T>*>(next);
  if (!dynamic_cast<const Flatten<T>*>(&m) || !linear) return false;
  return x.dimension() >= 1 && x.shape()[0] > 0 && x.size() == x.shape()[0] * linear->options().in_features;
}

}  // namespace

template <class T>
ad::Var<T> Sequential<T>::compose(const Children<T>& children, const ad::Var<T>& input) const {
  ad::Var<T> x = input;
  for (std::size_t i = 0; i < this->size(); ++i) {
    const Module<T>& m = this->child(i);
    const Module<T>* next = i + 1 < this->size() ? &this->child(i + 1) : nullptr;
    if (const auto pool = fusable_max_pool(m, next, x)) {
      const Module<T>* after = i + 2 < this->size() ? &this->child(i + 2) : nullptr;
      const ops::PooledActivation a = fusable_activation(after);
      x = this->naming_child(i, [&] {
        return static_cast<const Conv2d<T>&>(m).forward_max_pooled_at(children.w(), children.offset(i), x, *pool, a);
      });
      i += a == ops::PooledActivation::identity ? 1 : 2;  // the pooling (and activation) children are done
    } else if (fusable_flatten(m, next, x)) {
      x = this->naming_child(i, [&] {
        return static_cast<const Linear<T>&>(*next).forward_flattened_at(children.w(), children.offset(i + 1), x);
      });
      ++i;  // the linear child is done
    } else {
      x = children(i, x);  // children read their weights in place
    }
  }
  return x;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace curv::nn
