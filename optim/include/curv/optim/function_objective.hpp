// make_objective: a curv::ad function f : Rⁿ → R as a CurvatureObjective,
// differentiated by curv::ad (value_and_grad, hvp), counting its evaluations.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

#include "curv/autodiff/functional.hpp"
#include "curv/autodiff/tape.hpp"
#include "curv/optim/objective.hpp"

namespace curv::optim {

// How often each method of an objective was called.
struct EvaluationCounts {
  std::size_t value = 0;     // value(w)
  std::size_t gradient = 0;  // value_and_grad(w, g)
  std::size_t hvp = 0;       // hvp(w, v, g, hv)
};

// f : Var<T>(const Var<T>&), scalar-valued, over flat vectors of n elements.
template <class T, class F>
class FunctionObjective {
 public:
  FunctionObjective(F f, std::size_t n) : f_(std::move(f)), n_(n) {
    if (n == 0) throw std::invalid_argument("curv::optim::make_objective: n must be at least 1, got 0");
  }

  std::size_t dim() const { return n_; }

  T value(const Tensor<T>& w) {
    check("value", w);
    ++counts_.value;
    ad::Tape<T> tape;
    const ad::Var<T> y = std::invoke(f_, tape.borrowed_constant(w));  // w outlives the tape: no copy
    return ad::scalar_result("make_objective(f, n).value", y);
  }

  T value_and_grad(const Tensor<T>& w, Tensor<T>& g) {
    check("value_and_grad", w);
    ++counts_.gradient;
    ad::ValueAndGrad<T> r = ad::value_and_grad(f_, w);
    g = std::move(r.grad);
    return r.value;
  }

  T hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) {
    check("hvp", w);
    ++counts_.hvp;
    ad::Hvp<T> r = ad::hvp(f_, w, v);
    g = std::move(r.grad);
    hv = std::move(r.hv);
    return r.value;
  }

  const EvaluationCounts& counts() const { return counts_; }
  void reset_counts() { counts_ = {}; }

 private:
  void check(const char* method, const Tensor<T>& w) const {
    if (w.size() != n_)
      throw std::invalid_argument(std::string("curv::optim::FunctionObjective::") + method + ": w has " +
                                  std::to_string(w.size()) + " elements, expected n = " + std::to_string(n_));
  }

  F f_;
  std::size_t n_;
  EvaluationCounts counts_;
};

// The objective of an optimizer run over f on Rⁿ:
//   auto obj = curv::optim::make_objective<double>(f, n);
template <class T, class F>
FunctionObjective<T, std::decay_t<F>> make_objective(F&& f, std::size_t n) {
  return FunctionObjective<T, std::decay_t<F>>(std::forward<F>(f), n);
}

}  // namespace curv::optim
