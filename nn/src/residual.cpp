// curv::nn::Residual (see residual.hpp).
#include "curv/nn/layers/residual.hpp"

#include <stdexcept>
#include <utility>

namespace curv::nn {

template <class T>
Residual<T>::Residual(std::shared_ptr<const Module<T>> body, std::shared_ptr<const Module<T>> shortcut)
    : Composite<T>("Residual") {
  this->add("body", std::move(body));
  if (shortcut) this->add("shortcut", std::move(shortcut));
}

template <class T>
ad::Var<T> Residual<T>::compose(const Children<T>& children, const ad::Var<T>& input) const {
  const ad::Var<T> y = children(0, input);
  const ad::Var<T> skip = has_shortcut() ? children(1, input) : input;
  if (y.shape() != skip.shape())
    throw std::invalid_argument("curv::nn::Residual: the body's output has shape " + shape_string(y.shape()) +
                                " but the " + (has_shortcut() ? "shortcut's output" : std::string("input")) +
                                " has shape " + shape_string(skip.shape()) +
                                "; expected equal shapes (give a shortcut module that maps the input to the body's "
                                "output shape)");
  return y + skip;
}

template class Residual<float>;
template class Residual<double>;

}  // namespace curv::nn
