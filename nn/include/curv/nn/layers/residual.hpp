// curv::nn::Residual: y = body(x) + x, or y = body(x) + shortcut(x) with a
// shortcut module (a 1×1 Conv2d or a Linear that changes the width, as in
// He et al. 2016's projection shortcuts). A Composite: the parameters are
// "body.…" then "shortcut.…", and a forward context reaches both.
#pragma once

#include <memory>

#include "curv/nn/composite.hpp"

namespace curv::nn {

template <class T>
class Residual final : public Composite<T> {
 public:
  // Throws std::invalid_argument for a null body.
  explicit Residual(std::shared_ptr<const Module<T>> body, std::shared_ptr<const Module<T>> shortcut = nullptr);

  bool has_shortcut() const { return this->size() == 2; }

 private:
  // Throws when body(x) and the shortcut's output (x) differ in shape:
  // a residual sum never broadcasts.
  ad::Var<T> compose(const Children<T>& children, const ad::Var<T>& input) const override;
};

extern template class Residual<float>;
extern template class Residual<double>;

}  // namespace curv::nn
