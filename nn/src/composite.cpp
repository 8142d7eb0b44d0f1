// curv::nn::Composite and the Children it hands to compose().
#include "curv/nn/composite.hpp"

#include <stdexcept>

namespace curv::nn {

template <class T>
ad::Var<T> Children<T>::operator()(std::size_t i, const ad::Var<T>& input) const {
  if (i >= owner_.size())
    throw std::invalid_argument("curv::nn::" + owner_.describe() + ": no child " + std::to_string(i) + " (it has " +
                                std::to_string(owner_.size()) + ")");
  const Module<T>& m = owner_.child(i);
  const std::string& name = owner_.name(i);
  if (context_.observer) context_.observer->enter(name);
  ad::Var<T> y = owner_.naming_child(
      i, [&] { return m.forward(ad::view(w_, owner_.offset(i), {m.num_parameters()}), input, context_.child(name)); });
  if (context_.observer)
    context_.observer->leave(name, m.describe(), m.num_parameters(), Shape(y.shape().begin(), y.shape().end()));
  return y;
}

template <class T>
void Composite<T>::add(std::string name, std::shared_ptr<const Module<T>> module) {
  if (!module) throw std::invalid_argument("curv::nn::" + kind_ + "::add: child '" + name + "' is a null module");
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument("curv::nn::" + kind_ + "::add: child name '" + name +
                                "' is invalid, expected a non-empty name without '.'");
  for (const Entry& c : children_)
    if (c.name == name)
      throw std::invalid_argument("curv::nn::" + kind_ + "::add: a child named '" + name + "' already exists");
  const std::size_t offset = num_parameters_;
  num_parameters_ += module->num_parameters();
  children_.push_back({std::move(name), std::move(module), offset});
}

template <class T>
std::size_t Composite<T>::index(std::string_view name) const {
  for (std::size_t i = 0; i < children_.size(); ++i)
    if (children_[i].name == name) return i;
  std::string names;
  for (const Entry& c : children_) names += (names.empty() ? "" : ", ") + c.name;
  throw std::invalid_argument("curv::nn::" + kind_ + "::index: " + describe() + " has no child '" +
                              std::string(name) + "' (it has: " + names + ")");
}

template <class T>
std::string Composite<T>::describe() const {
  std::string s = kind_ + "(";
  for (std::size_t i = 0; i < children_.size(); ++i) s += (i ? ", " : "") + children_[i].name;
  return s + ")";
}

template <class T>
std::vector<ParameterInfo> Composite<T>::parameters() const {
  std::vector<ParameterInfo> all;
  for (const Entry& c : children_)
    for (ParameterInfo& p : c.module->parameters()) {
      p.name = c.name + "." + p.name;
      p.offset += c.offset;
      all.push_back(std::move(p));
    }
  return all;
}

template <class T>
ad::Var<T> Composite<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  return forward(w, input, ForwardContext{});
}

template <class T>
ad::Var<T> Composite<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input, const ForwardContext& context) const {
  this->check_parameter_vector("forward", w.size());
  return compose(Children<T>(*this, w, context), input);
}

template <class T>
void Composite<T>::throw_from_child(std::size_t i, const std::invalid_argument& e) const {
  throw std::invalid_argument("curv::nn::" + kind_ + ": layer '" + children_[i].name + "' (" +
                              children_[i].module->describe() + ", child " + std::to_string(i) + "): " + e.what());
}

template class Children<float>;
template class Children<double>;
template class Composite<float>;
template class Composite<double>;

}  // namespace curv::nn
