// An L2 penalty with parameter groups as an objective adaptor: every
// optimizer minimizes it as part of the function.
//
//   F(w) = f(w) + ½ Σ_g λ_g |w_g|²,   ∇F = ∇f + λ_g w_g,   ∇²F·v = ∇²f·v + λ_g v_g
//
// on the ranges w_g = w[offset, offset + size) of its groups; entries outside
// every group keep f's gradient and products bit for bit. The Gauss–Newton
// product gets the same λ_g v_g (the penalty's Hessian λ_g I is positive
// semi-definite), and each minibatch of a StochasticObjective the full
// penalty, so the mean over minibatches is F; a subsampled curvature product
// (objective.hpp) gets the whole λ_g v_g too. L2Penalty<T, Obj> has exactly
// the methods of the concepts Obj satisfies (objective.hpp).
//
// This is not decoupled weight decay (AdamW's w ← w(1 − lr·λ)), which is not
// the gradient of any penalty once Adam rescales the gradient.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "curv/optim/objective.hpp"

namespace curv::optim {

// One range of w and its coefficient λ ≥ 0; `name` is for messages
// ("fc1.weight").
struct L2Group {
  std::string name;
  std::size_t offset = 0;
  std::size_t size = 0;
  double lambda = 0;
};

// Throws std::invalid_argument "curv::optim::L2Penalty: <found>, expected
// <expected>" unless every group is non-empty, lies inside [0, dim), has a
// finite λ ≥ 0 and overlaps no other.
void check_l2_groups(const std::vector<L2Group>& groups, std::size_t dim);

// ½ Σ_g λ_g |w_g|², summed in double.
template <class T>
double l2_penalty_value(const std::vector<L2Group>& groups, const Tensor<T>& w) {
  double total = 0;
  for (const L2Group& grp : groups) {
    double sq = 0;
    for (std::size_t i = grp.offset; i < grp.offset + grp.size; ++i) {
      const double x = static_cast<double>(w.data()[i]);
      sq += x * x;
    }
    total += 0.5 * grp.lambda * sq;
  }
  return total;
}

// out_g += λ_g x_g on every group (the penalty's gradient for x = w, its
// Hessian times v for x = v), in T.
template <class T>
void l2_penalty_add(const std::vector<L2Group>& groups, const Tensor<T>& x, Tensor<T>& out) {
  for (const L2Group& grp : groups) {
    const T lambda = static_cast<T>(grp.lambda);
    for (std::size_t i = grp.offset; i < grp.offset + grp.size; ++i) out.data()[i] += lambda * x.data()[i];
  }
}

template <class T, class Obj>
class L2Penalty {
 public:
  // The objective must outlive the adaptor; groups are checked against its dim().
  L2Penalty(Obj& objective, std::vector<L2Group> groups) : f_(&objective), groups_(std::move(groups)) {
    check_l2_groups(groups_, dim());
  }

  std::size_t dim() const { return static_cast<std::size_t>(f_->dim()); }
  const std::vector<L2Group>& groups() const { return groups_; }
  Obj& objective() const { return *f_; }
  // ½ Σ_g λ_g |w_g|² alone.
  double penalty(const Tensor<T>& w) const { return l2_penalty_value(groups_, w); }

  T value(const Tensor<T>& w) const { return add_penalty(f_->value(w), w); }
  T value_and_grad(const Tensor<T>& w, Tensor<T>& g) const { return add_gradient(f_->value_and_grad(w, g), w, g); }
  T hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& hv) const
    requires CurvatureObjective<Obj, T>
  {
    return add_product(f_->hvp(w, v, g, hv), w, v, g, hv);
  }
  T gnvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& gv) const
    requires GaussNewtonObjective<Obj, T>
  {
    return add_product(f_->gnvp(w, v, g, gv), w, v, g, gv);
  }

  // Curvature on f's subsample number `sample`, plus the penalty's whole
  // λ_g v_g (its Hessian does not depend on the data).
  double curvature_fraction() const
    requires SubsampledCurvatureObjective<Obj, T> || SubsampledGaussNewtonObjective<Obj, T>
  {
    return static_cast<double>(f_->curvature_fraction());
  }
  void sampled_hvp(std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& hv) const
    requires SubsampledCurvatureObjective<Obj, T>
  {
    f_->sampled_hvp(sample, w, v, hv);
    l2_penalty_add(groups_, v, hv);
  }
  void sampled_gnvp(std::size_t sample, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& gv) const
    requires SubsampledGaussNewtonObjective<Obj, T>
  {
    f_->sampled_gnvp(sample, w, v, gv);
    l2_penalty_add(groups_, v, gv);
  }

  std::size_t num_batches() const
    requires StochasticObjective<Obj, T>
  {
    return static_cast<std::size_t>(f_->num_batches());
  }
  void begin_epoch(std::size_t epoch)
    requires StochasticObjective<Obj, T>
  {
    f_->begin_epoch(epoch);
  }
  // Minibatch b's mean loss plus the whole penalty, and its gradient.
  T batch_value_and_grad(std::size_t b, const Tensor<T>& w, Tensor<T>& g) const
    requires StochasticObjective<Obj, T>
  {
    return add_gradient(f_->batch_value_and_grad(b, w, g), w, g);
  }

 private:
  // f + penalty in double, rounded once to T (a NaN or ±inf f stays so).
  T add_penalty(T f, const Tensor<T>& w) const {
    return static_cast<T>(static_cast<double>(f) + penalty(w));
  }
  // f's value and gradient g at w, the penalty's added.
  T add_gradient(T f, const Tensor<T>& w, Tensor<T>& g) const {
    l2_penalty_add(groups_, w, g);
    return add_penalty(f, w);
  }
  // f's value, gradient g and curvature product `product` along v, the penalty's added.
  T add_product(T f, const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& g, Tensor<T>& product) const {
    l2_penalty_add(groups_, v, product);
    return add_gradient(f, w, g);
  }

  Obj* f_;
  std::vector<L2Group> groups_;
};

// The objective with the penalty ½ Σ_g λ_g |w_g|² added: with_l2<T>(obj, groups).
template <class T, class Obj>
L2Penalty<T, Obj> with_l2(Obj& objective, std::vector<L2Group> groups) {
  return L2Penalty<T, Obj>(objective, std::move(groups));
}

}  // namespace curv::optim
