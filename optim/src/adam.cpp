// Adam / AdamW: option validation, the update rule and the float/double instantiations.
#include "curv/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include <string>
#include <utility>

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
}

template <class T>
AdamState<T> Adam<T>::start(const Tensor<T>& x0) const {
  AdamState<T> st;
  st.w = x0;
  st.exp_avg = xt::zeros<T>(x0.shape());
  st.exp_avg_sq = xt::zeros<T>(x0.shape());
  if (options_.amsgrad) st.max_exp_avg_sq = xt::zeros<T>(x0.shape());
  return st;
}

template <class T>
void Adam<T>::update(Tensor<T>& w, const Tensor<T>& g, AdamState<T>& st) const {
  const std::size_t n = w.size();
  if (st.exp_avg.size() != n) st.exp_avg = xt::zeros<T>(w.shape());
  if (st.exp_avg_sq.size() != n) st.exp_avg_sq = xt::zeros<T>(w.shape());
  if (options_.amsgrad && st.max_exp_avg_sq.size() != n) st.max_exp_avg_sq = xt::zeros<T>(w.shape());
  st.step += 1;
  const double t = static_cast<double>(st.step);
  const double bias_correction1 = 1 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1 - std::pow(options_.beta2, t);
  const T step_size = static_cast<T>(options_.learning_rate / bias_correction1);
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T one_minus_beta1 = static_cast<T>(1 - options_.beta1);
  const T beta2 = static_cast<T>(options_.beta2);
  const T one_minus_beta2 = static_cast<T>(1 - options_.beta2);
  const T eps = static_cast<T>(options_.eps);
  const T wd = static_cast<T>(options_.weight_decay);
  const T decay = static_cast<T>(1 - options_.learning_rate * options_.weight_decay);
  const bool decoupled = options_.decoupled_weight_decay && options_.weight_decay != 0;
  const bool l2 = !options_.decoupled_weight_decay && options_.weight_decay != 0;
  T* wi = w.data();
  const T* gi = g.data();
  T* m = st.exp_avg.data();
  T* v = st.exp_avg_sq.data();
  T* vmax = options_.amsgrad ? st.max_exp_avg_sq.data() : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    if (decoupled) wi[i] *= decay;
    const T gradient = l2 ? gi[i] + wd * wi[i] : gi[i];
    m[i] += one_minus_beta1 * (gradient - m[i]);
    v[i] = beta2 * v[i] + one_minus_beta2 * gradient * gradient;
    T second = v[i];
    if (vmax) {
      vmax[i] = std::max(vmax[i], v[i]);
      second = vmax[i];
    }
    const T denom = std::sqrt(second) / bias_correction2_sqrt + eps;
    wi[i] -= step_size * m[i] / denom;
  }
}

template class Adam<float>;
template class Adam<double>;

}  // namespace curv::optim
