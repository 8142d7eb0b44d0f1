// curv::nn::Sequential.
#include "curv/nn/layers/sequential.hpp"

namespace curv::nn {

template <class T>
Sequential<T>::Sequential(std::vector<Child> children) : Sequential() {
  for (Child& c : children) add(std::move(c.first), std::move(c.second));
}

template <class T>
ad::Var<T> Sequential<T>::compose(const Children<T>& children, const ad::Var<T>& input) const {
  ad::Var<T> x = input;
  for (std::size_t i = 0; i < this->size(); ++i) x = children(i, x);
  return x;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace curv::nn
