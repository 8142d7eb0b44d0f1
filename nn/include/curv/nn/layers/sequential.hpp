// curv::nn::Sequential: named child modules applied in order; the parameters
// are the children's, concatenated in the same order ("conv1.weight", …), as
// every Composite lays them out.
//
// Children are held by shared_ptr<const Module>: a module is a stateless
// function of (w, input), so one child may even appear in several models.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/composite.hpp"

namespace curv::nn {

template <class T>
class Sequential final : public Composite<T> {
 public:
  using Child = std::pair<std::string, std::shared_ptr<const Module<T>>>;

  Sequential() : Composite<T>("Sequential") {}
  explicit Sequential(std::vector<Child> children);

  // Appends a child; names must be unique, non-empty and free of '.'.
  Sequential& add(std::string name, std::shared_ptr<const Module<T>> module) {
    Composite<T>::add(std::move(name), std::move(module));
    return *this;
  }

  template <class M, class... Args>
  Sequential& emplace(std::string name, Args&&... args) {
    return add(std::move(name), std::make_shared<const M>(std::forward<Args>(args)...));
  }

 private:
  // Each child on the previous one's output, reading its parameters as views
  // of w. Runs of children that one op computes faster are nn::fuse's
  // business (fuse.hpp), not Sequential's.
  ad::Var<T> compose(const Children<T>& children, const ad::Var<T>& input) const override;
};

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace curv::nn
