// curv::nn::Composite: a module made of named child modules, whose parameters
// it lays out one after another in its own flat vector w.
//
// A container (Sequential, a residual block, a user's own) derives from
// Composite, registers its children with add(name, module) and writes one
// function, compose(children, input), that says how they combine:
//
//   template <class T>
//   class Residual final : public nn::Composite<T> {        // y = x + f(x)
//    public:
//     explicit Residual(std::shared_ptr<const nn::Module<T>> f) : nn::Composite<T>("Residual") {
//       this->add("f", std::move(f));
//     }
//    private:
//     ad::Var<T> compose(const nn::Children<T>& children, const ad::Var<T>& x) const override {
//       return x + children("f", x);
//     }
//   };
//
// Composite gives num_parameters(), parameters() (each child's, prefixed with
// its name: "f.fc1.weight"), forward() in and out of a training context
// (passed on to every child), describe() ("Residual(f)") and, from
// Module, initialize(), parameter() and saving. Children<T> calls each child
// on a view of its own range of w (no copy) and names the child in any
// std::invalid_argument it throws, so the container never computes an offset.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "curv/nn/module.hpp"

namespace curv::nn {

template <class T>
class Composite;

// The children during one forward pass: children(i, x) or children(name, x)
// is child i's output for x with its parameters read from the container's w.
template <class T>
class Children {
 public:
  ad::Var<T> operator()(std::size_t i, const ad::Var<T>& input) const;
  ad::Var<T> operator()(std::string_view name, const ad::Var<T>& input) const {
    return (*this)(owner_.index(name), input);
  }

 private:
  friend class Composite<T>;
  Children(const Composite<T>& owner, const ad::Var<T>& w, const ForwardContext& context)
      : owner_(owner), w_(w), context_(context) {}

  const Composite<T>& owner_;
  const ad::Var<T>& w_;
  const ForwardContext& context_;  // the container's; each child gets context_.child(its name)
};

template <class T>
class Composite : public Module<T> {
 public:
  std::size_t num_parameters() const final { return num_parameters_; }
  // Evaluation mode: forward(w, input, ForwardContext{}).
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const final;
  // compose() with children that run in `context`, each child in
  // context.child(its name).
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input, const ForwardContext& context) const final;
  // "Kind(name1, name2, …)".
  std::string describe() const override;
  // Every child's parameters in child order, named "child.parameter" and
  // shifted to where the child's range starts.
  std::vector<ParameterInfo> parameters() const final;

  std::size_t size() const { return children_.size(); }
  const std::string& name(std::size_t i) const { return children_.at(i).name; }
  const Module<T>& child(std::size_t i) const { return *children_.at(i).module; }
  // Child i as shared, for a container built from another's children (nn::fuse).
  const std::shared_ptr<const Module<T>>& shared_child(std::size_t i) const { return children_.at(i).module; }
  // Where child i's parameters start in w.
  std::size_t offset(std::size_t i) const { return children_.at(i).offset; }
  // The position of the child called `name`; throws listing the names.
  std::size_t index(std::string_view name) const;

 protected:
  friend class Children<T>;

  // `kind` names the container in describe() and in error messages.
  explicit Composite(std::string kind) : kind_(std::move(kind)) {}

  // Appends a child, its parameters after those of the children before it.
  // Names must be unique, non-empty and free of '.'.
  void add(std::string name, std::shared_ptr<const Module<T>> module);

  template <class M, class... Args>
  void emplace(std::string name, Args&&... args) {
    add(std::move(name), std::make_shared<const M>(std::forward<Args>(args)...));
  }

  // The container's output for `input`, made from its children's.
  virtual ad::Var<T> compose(const Children<T>& children, const ad::Var<T>& input) const = 0;

  // f(), with child i named in any std::invalid_argument it throws:
  // "curv::nn::Kind: layer 'name' (Child(…), child i): …".
  template <class F>
  ad::Var<T> naming_child(std::size_t i, F&& f) const {
    try {
      return std::forward<F>(f)();
    } catch (const std::invalid_argument& e) {
      throw_from_child(i, e);
    }
  }

 private:
  struct Entry {
    std::string name;
    std::shared_ptr<const Module<T>> module;
    std::size_t offset;
  };

  [[noreturn]] void throw_from_child(std::size_t i, const std::invalid_argument& e) const;

  std::string kind_;
  std::vector<Entry> children_;
  std::size_t num_parameters_ = 0;
};

extern template class Children<float>;
extern template class Children<double>;
extern template class Composite<float>;
extern template class Composite<double>;

}  // namespace curv::nn
