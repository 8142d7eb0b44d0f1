// The four rules of any elementwise unary op y = f(x), from its Rule's f′
// and f″ (see curv/autodiff/rule.hpp):
//
//   ẏ = f'(x) ẋ
//   x̄ += f'(x) ȳ
//   x̄̇ += f'(x) ȳ̇ + f''(x) ẋ ȳ
//
// each one loop over raw storage (rule.hpp's kernels): no temporaries, and
// the first adjoint an input receives is written rather than added to zeros.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "curv/autodiff/op.hpp"
#include "curv/autodiff/rule.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad::detail {

template <class T, class Rule>
class ElementwiseOp final : public Op<T> {
 public:
  explicit ElementwiseOp(Rule rule) : rule_(std::move(rule)) {}

  std::string_view name() const override { return Rule::name; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    Tensor<T> t = Tensor<T>::from_shape(c.output().shape());
    rule_scale(input(c), c.output().data(), c.input_tangent(0).data(), t.data(), t.size(), false, rule_);
    return t;
  }

  void adjoint(OpContext<T>& c) const override {
    bool fresh = false;
    T* xbar = c.input_adjoint_to_write(0, fresh).data();
    rule_scale(input(c), c.output().data(), c.adjoint().data(), xbar, c.output().size(), !fresh, rule_);
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    const std::size_t n = c.output().size();
    const T* y = c.output().data();
    T* xbar_dot = c.input_adjoint_tangent(0).data();
    if (c.has_adjoint_tangent()) rule_scale(input(c), y, c.adjoint_tangent().data(), xbar_dot, n, true, rule_);
    if (c.has_tangent(0))
      rule_curvature(input(c), y, c.input_tangent(0).data(), c.adjoint().data(), xbar_dot, n, rule_);
  }

 private:
  // x, unless the rule reads y only.
  static const T* input(const OpContext<T>& c) {
    if constexpr (from_output_rule<Rule>)
      return nullptr;
    else
      return c.input(0).data();
  }

  Rule rule_;
};

template <class T, class Rule>
Var<T> elementwise(const Var<T>& x, Rule rule = Rule{}) {
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  rule_values(x.value().data(), y.data(), y.size(), rule);
  return x.tape().record(std::make_unique<ElementwiseOp<T, Rule>>(std::move(rule)), {x}, std::move(y));
}

}  // namespace curv::ad::detail
