// The four rules of any elementwise unary op y = f(x), derived from f' and f''.
//
//   ẏ = f'(x) ẋ
//   x̄ += f'(x) ȳ
//   x̄̇ += f'(x) ȳ̇ + f''(x) ẋ ȳ
//
// An elementwise op file supplies a Rule with `name`, `value(x)`,
// `first(x, y)` = f'(x) and `second(x, y)` = f''(x) (y = f(x) is passed so
// rules can reuse it, e.g. tanh' = 1 − y²). `second` may return a scalar when
// f'' is constant (square); a Rule declaring `piecewise_linear = true` has
// f'' = 0 almost everywhere (relu) and needs no `second`.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include <xtensor/xnoalias.hpp>

#include "curv/autodiff/op.hpp"
#include "curv/autodiff/tape.hpp"

namespace curv::ad::detail {

template <class T, class Rule>
class ElementwiseOp final : public Op<T> {
 public:
  explicit ElementwiseOp(Rule rule) : rule_(std::move(rule)) {}

  std::string_view name() const override { return Rule::name; }

  Tensor<T> tangent(const OpContext<T>& c) const override {
    return rule_.first(c.input(0), c.output()) * c.input_tangent(0);
  }

  void adjoint(OpContext<T>& c) const override {
    xt::noalias(c.input_adjoint(0)) += rule_.first(c.input(0), c.output()) * c.adjoint();
  }

  void adjoint_tangent(OpContext<T>& c) const override {
    Tensor<T>& xbar_dot = c.input_adjoint_tangent(0);
    if (c.has_adjoint_tangent())
      xt::noalias(xbar_dot) += rule_.first(c.input(0), c.output()) * c.adjoint_tangent();
    if constexpr (!piecewise_linear) {
      if (c.has_tangent(0))
        xt::noalias(xbar_dot) += rule_.second(c.input(0), c.output()) * c.input_tangent(0) * c.adjoint();
    }
  }

 private:
  static constexpr bool piecewise_linear = [] {
    if constexpr (requires { Rule::piecewise_linear; })
      return Rule::piecewise_linear;
    else
      return false;
  }();

  Rule rule_;
};

template <class T, class Rule>
Var<T> elementwise(const Var<T>& x, Rule rule = Rule{}) {
  Tensor<T> y = rule.value(x.value());
  return x.tape().record(std::make_unique<ElementwiseOp<T, Rule>>(std::move(rule)), {x},
                         std::move(y));
}

}  // namespace curv::ad::detail
