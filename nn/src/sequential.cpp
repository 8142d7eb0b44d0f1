// curv::nn::Sequential.
#include "curv/nn/layers/sequential.hpp"

#include <stdexcept>

namespace curv::nn {

template <class T>
Sequential<T>::Sequential(std::vector<Child> children) {
  for (Child& c : children) add(std::move(c.first), std::move(c.second));
}

template <class T>
Sequential<T>& Sequential<T>::add(std::string name, std::shared_ptr<const Module<T>> module) {
  if (!module) throw std::invalid_argument("curv::nn::Sequential::add: child '" + name + "' is a null module");
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument("curv::nn::Sequential::add: child name '" + name +
                                "' is invalid, expected a non-empty name without '.'");
  for (const Child& c : children_)
    if (c.first == name)
      throw std::invalid_argument("curv::nn::Sequential::add: a child named '" + name + "' already exists");
  offsets_.push_back(num_parameters_);
  num_parameters_ += module->num_parameters();
  children_.emplace_back(std::move(name), std::move(module));
  return *this;
}

template <class T>
std::string Sequential<T>::describe() const {
  std::string s = "Sequential(";
  for (std::size_t i = 0; i < children_.size(); ++i) s += (i ? ", " : "") + children_[i].first;
  return s + ")";
}

template <class T>
std::vector<ParameterInfo> Sequential<T>::parameters() const {
  std::vector<ParameterInfo> all;
  for (std::size_t i = 0; i < children_.size(); ++i)
    detail::append_parameters(all, children_[i].second->parameters(), children_[i].first, offsets_[i]);
  return all;
}

template <class T>
ad::Var<T> Sequential<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  return forward_at(w, 0, input);
}

template <class T>
ad::Var<T> Sequential<T>::forward_at(const ad::Var<T>& w, std::size_t offset, const ad::Var<T>& input) const {
  this->check_parameter_range("forward_at", w, offset);
  ad::Var<T> x = input;
  ad::Var<T> empty;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    const Module<T>& m = *children_[i].second;
    try {
      if (m.num_parameters() == 0) {
        if (!empty.valid()) empty = w.tape().constant(Tensor<T>::from_shape({0}));
        x = m.forward(empty, x);
      } else {
        x = m.forward_at(w, offset + offsets_[i], x);  // children read their weights in place
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("curv::nn::Sequential: layer '" + children_[i].first + "' (" + m.describe() +
                                  ", child " + std::to_string(i) + "): " + e.what());
    }
  }
  return x;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace curv::nn
