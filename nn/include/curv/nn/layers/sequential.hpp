// curv::nn::Sequential: named child modules applied in order; the parameters
// are the children's, concatenated in the same order ("conv1.weight", …).
//
// Children are held by shared_ptr<const Module>: a module is a stateless
// function of (w, input), so one child may even appear in several models.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/module.hpp"

namespace curv::nn {

template <class T>
class Sequential final : public Module<T> {
 public:
  using Child = std::pair<std::string, std::shared_ptr<const Module<T>>>;

  Sequential() = default;
  explicit Sequential(std::vector<Child> children);

  // Appends a child; names must be unique and non-empty.
  Sequential& add(std::string name, std::shared_ptr<const Module<T>> module);

  template <class M, class... Args>
  Sequential& emplace(std::string name, Args&&... args) {
    return add(std::move(name), std::make_shared<const M>(std::forward<Args>(args)...));
  }

  std::size_t num_parameters() const override { return num_parameters_; }
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  // Each child reads its parameters at its offset within w (in place for curv's layers).
  ad::Var<T> forward_at(const ad::Var<T>& w, std::size_t offset, const ad::Var<T>& input) const override;
  std::string describe() const override;
  std::vector<ParameterInfo> parameters() const override;

  std::size_t size() const { return children_.size(); }
  const std::string& name(std::size_t i) const { return children_.at(i).first; }
  const Module<T>& child(std::size_t i) const { return *children_.at(i).second; }
  // Where child i's parameters start in w.
  std::size_t offset(std::size_t i) const { return offsets_.at(i); }

 private:
  std::vector<Child> children_;
  std::vector<std::size_t> offsets_;
  std::size_t num_parameters_ = 0;
};

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace curv::nn
