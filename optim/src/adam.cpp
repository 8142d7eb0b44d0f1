// Adam / AdamW: option validation, the update rule and the float/double instantiations.
#include "curv/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include <string>
#include <utility>

#include "curv/optim/result.hpp"

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

template <class T>
Adam<T>::Adam(AdamOptions options) : options_(std::move(options)) {
  const char* who = "AdamOptions";
  detail::check_non_negative(who, "learning_rate", options_.learning_rate);
  detail::check_in_range(who, "beta1", options_.beta1, 0, 1, false);
  detail::check_in_range(who, "beta2", options_.beta2, 0, 1, false);
  detail::check_non_negative(who, "eps", options_.eps);
  detail::check_non_negative(who, "weight_decay", options_.weight_decay);
  check_clip_options(who, options_.clip_grad_norm, options_.clip_grad_value);
  if (options_.accumulate < 1)
    detail::refuse(who, "accumulate = " + std::to_string(options_.accumulate), "at least 1 minibatch per step");
}

template <class T>
AdamState<T> Adam<T>::start(const Tensor<T>& x0) const {
  detail::check_finite_start("Adam::start", x0);
  AdamState<T> st;
  st.w = x0;
  st.schedule = options_.schedule.start(options_.learning_rate);
  st.exp_avg = xt::zeros<T>(x0.shape());
  st.exp_avg_sq = xt::zeros<T>(x0.shape());
  if (options_.amsgrad) st.max_exp_avg_sq = xt::zeros<T>(x0.shape());
  return st;
}

template <class T>
void Adam<T>::update(Tensor<T>& w, const Tensor<T>& g, AdamState<T>& st, double learning_rate) const {
  const std::size_t n = w.size();
  const bool fresh_m = st.exp_avg.size() != n, fresh_v = st.exp_avg_sq.size() != n;
  const bool fresh_vmax = options_.amsgrad && st.max_exp_avg_sq.size() != n;
  const double t = static_cast<double>(st.step + 1);
  const double bias_correction1 = 1 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1 - std::pow(options_.beta2, t);
  const T step_size = static_cast<T>(learning_rate / bias_correction1);
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T one_minus_beta1 = static_cast<T>(1 - options_.beta1);
  const T beta2 = static_cast<T>(options_.beta2);
  const T one_minus_beta2 = static_cast<T>(1 - options_.beta2);
  const T eps = static_cast<T>(options_.eps);
  const T wd = static_cast<T>(options_.weight_decay);
  const T decay = static_cast<T>(1 - learning_rate * options_.weight_decay);
  const bool decoupled = options_.decoupled_weight_decay && options_.weight_decay != 0;
  const bool l2 = !options_.decoupled_weight_decay && options_.weight_decay != 0;
  const T* wi = w.data();
  const T* gi = g.data();
  const T* m = fresh_m ? nullptr : st.exp_avg.data();
  const T* v = fresh_v ? nullptr : st.exp_avg_sq.data();
  const T* vmax = options_.amsgrad && !fresh_vmax ? st.max_exp_avg_sq.data() : nullptr;
  struct Next {
    T w, m, v, vmax;
  };
  // Element i's new weight and moments, computed the same way by the check
  // below and by the write after it (a buffer not created yet counts as 0).
  auto next = [&](std::size_t i) {
    Next x{};
    T wv = wi[i];
    if (decoupled) wv *= decay;
    const T gradient = l2 ? gi[i] + wd * wv : gi[i];
    const T m_old = m ? m[i] : T(0);
    const T v_old = v ? v[i] : T(0);
    x.m = m_old + one_minus_beta1 * (gradient - m_old);
    x.v = beta2 * v_old + one_minus_beta2 * gradient * gradient;
    T second = x.v;
    if (options_.amsgrad) {
      x.vmax = std::max(vmax ? vmax[i] : T(0), x.v);
      second = x.vmax;
    }
    const T denom = std::sqrt(second) / bias_correction2_sqrt + eps;
    x.w = wv - step_size * x.m / denom;
    return x;
  };
  // Nothing is written unless every new value is finite.
  for (std::size_t i = 0; i < n; ++i) {
    const Next x = next(i);
    const char* bad = !std::isfinite(x.m)      ? "the first moment exp_avg"
                      : !std::isfinite(x.v)    ? "the second moment exp_avg_sq"
                      : !std::isfinite(x.vmax) ? "max_exp_avg_sq"
                      : !std::isfinite(x.w)    ? "the updated weights"
                                               : nullptr;
    if (bad) {
      NonFiniteError::Where where;
      where.optimizer = "Adam";
      where.unit = "step";
      where.iteration = st.step + 1;
      where.quantity = bad;
      where.index = i;
      where.value = static_cast<double>(!std::isfinite(x.m)      ? x.m
                                        : !std::isfinite(x.v)    ? x.v
                                        : !std::isfinite(x.vmax) ? x.vmax
                                                                 : x.w);
      throw NonFiniteError(std::move(where));
    }
  }
  if (fresh_m) st.exp_avg = Tensor<T>::from_shape(w.shape());
  if (fresh_v) st.exp_avg_sq = Tensor<T>::from_shape(w.shape());
  if (fresh_vmax) st.max_exp_avg_sq = Tensor<T>::from_shape(w.shape());
  T* wo = w.data();
  T* mo = st.exp_avg.data();
  T* vo = st.exp_avg_sq.data();
  T* vmaxo = options_.amsgrad ? st.max_exp_avg_sq.data() : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    const Next x = next(i);
    wo[i] = x.w;
    mo[i] = x.m;
    vo[i] = x.v;
    if (vmaxo) vmaxo[i] = x.vmax;
  }
  st.step += 1;
}

template <class T>
void Adam<T>::check_state(const AdamState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("Adam", "w", st.w, dim);
  detail::check_state_tensor("Adam", "exp_avg", st.exp_avg, dim, true);
  detail::check_state_tensor("Adam", "exp_avg_sq", st.exp_avg_sq, dim, true, true);
  detail::check_state_tensor("Adam", "max_exp_avg_sq", st.max_exp_avg_sq, dim, true, true);
  detail::check_state_scalar("Adam", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("Adam", "seconds", st.seconds, 0, detail::any_finite);
  options_.schedule.check_state("Adam", st.schedule);
}

template <class T>
void Adam<T>::save_state(const AdamState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st, options_.schedule);
}

template <class T>
AdamState<T> Adam<T>::load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress) const {
  AdamState<T> st = detail::load_fields<AdamState<T>>("Adam", in, dim, progress, options_.schedule);
  check_state(st, dim);
  return st;
}

template class Adam<float>;
template class Adam<double>;

}  // namespace curv::optim
