// SGD: option validation, the update rule and the float/double instantiations.
#include "curv/optim/sgd.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

template <class T>
SGD<T>::SGD(SgdOptions options) : options_(std::move(options)) {
  const char* who = "SgdOptions";
  detail::check_non_negative(who, "learning_rate", options_.learning_rate);
  detail::check_non_negative(who, "momentum", options_.momentum);
  detail::check_non_negative(who, "dampening", options_.dampening);
  detail::check_non_negative(who, "weight_decay", options_.weight_decay);
  check_clip_options(who, options_.clip_grad_norm, options_.clip_grad_value);
  if (options_.accumulate < 1)
    detail::refuse(who, "accumulate = " + std::to_string(options_.accumulate), "at least 1 minibatch per step");
  if (options_.nesterov && !(options_.momentum > 0 && options_.dampening == 0))
    detail::fail(who, "nesterov needs momentum > 0 and dampening = 0, got momentum = " +
                          detail::format(options_.momentum) + " and dampening = " + detail::format(options_.dampening));
}

template <class T>
void SGD<T>::update(Tensor<T>& w, const Tensor<T>& g, SgdState<T>& st, double learning_rate) const {
  const std::size_t n = w.size();
  const T lr = static_cast<T>(learning_rate);
  const T wd = static_cast<T>(options_.weight_decay);
  const T momentum = static_cast<T>(options_.momentum);
  const T keep = static_cast<T>(1 - options_.dampening);
  const bool first = st.momentum_buffer.size() != n;
  const bool with_momentum = options_.momentum != 0;
  const T* wi = w.data();
  const T* gi = g.data();
  const T* b = with_momentum && !first ? st.momentum_buffer.data() : nullptr;
  // Element i's new weight and momentum buffer, computed the same way by the
  // check below and by the write after it.
  auto next = [&](std::size_t i, T& w_new, T& b_new) {
    T d = gi[i];
    if (options_.weight_decay != 0) d += wd * wi[i];
    if (with_momentum) {
      b_new = first ? d : momentum * b[i] + keep * d;
      d = options_.nesterov ? d + momentum * b_new : b_new;
    }
    w_new = wi[i] - lr * d;
  };
  // Nothing is written unless every new value is finite.
  for (std::size_t i = 0; i < n; ++i) {
    T w_new{}, b_new{};
    next(i, w_new, b_new);
    if (!std::isfinite(w_new) || !std::isfinite(b_new)) {
      NonFiniteError::Where where;
      where.optimizer = "SGD";
      where.unit = "step";
      where.iteration = st.step + 1;
      where.quantity = std::isfinite(b_new) ? "the updated weights" : "the momentum buffer";
      where.index = i;
      where.value = static_cast<double>(std::isfinite(b_new) ? w_new : b_new);
      throw NonFiniteError(std::move(where));
    }
  }
  if (with_momentum && first) st.momentum_buffer = Tensor<T>::from_shape(w.shape());
  T* wo = w.data();
  T* bo = with_momentum ? st.momentum_buffer.data() : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    T w_new{}, b_new{};
    next(i, w_new, b_new);
    wo[i] = w_new;
    if (bo) bo[i] = b_new;
  }
  st.step += 1;
}

template <class T>
void SGD<T>::check_state(const SgdState<T>& st, std::size_t dim) const {
  detail::check_state_tensor("SGD", "w", st.w, dim);
  detail::check_state_tensor("SGD", "momentum_buffer", st.momentum_buffer, dim, true);
  detail::check_state_scalar("SGD", "passes", st.passes, 0, detail::any_finite);
  detail::check_state_scalar("SGD", "seconds", st.seconds, 0, detail::any_finite);
  options_.schedule.check_state("SGD", st.schedule);
}

template <class T>
void SGD<T>::save_state(const SgdState<T>& st, StateWriter& out) const {
  detail::save_fields(out, st, options_.schedule);
}

template <class T>
SgdState<T> SGD<T>::load_state(const StateReader& in, std::size_t dim, const ProgressLimit& progress) const {
  SgdState<T> st = detail::load_fields<SgdState<T>>("SGD", in, dim, progress, options_.schedule);
  check_state(st, dim);
  return st;
}

template class SGD<float>;
template class SGD<double>;

}  // namespace curv::optim
