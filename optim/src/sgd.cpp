// SGD: option validation, the update rule and the float/double instantiations.
#include "curv/optim/sgd.hpp"

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
  if (options_.nesterov && !(options_.momentum > 0 && options_.dampening == 0))
    detail::fail(who, "nesterov needs momentum > 0 and dampening = 0, got momentum = " +
                          detail::format(options_.momentum) + " and dampening = " + detail::format(options_.dampening));
}

template <class T>
void SGD<T>::update(Tensor<T>& w, const Tensor<T>& g, SgdState<T>& st) const {
  const std::size_t n = w.size();
  const T lr = static_cast<T>(options_.learning_rate);
  const T wd = static_cast<T>(options_.weight_decay);
  const T momentum = static_cast<T>(options_.momentum);
  const T keep = static_cast<T>(1 - options_.dampening);
  const bool first = st.momentum_buffer.size() != n;
  if (options_.momentum != 0 && first) st.momentum_buffer = Tensor<T>::from_shape(w.shape());
  T* wi = w.data();
  const T* gi = g.data();
  T* b = options_.momentum != 0 ? st.momentum_buffer.data() : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    T d = gi[i];
    if (options_.weight_decay != 0) d += wd * wi[i];
    if (b) {
      b[i] = first ? d : momentum * b[i] + keep * d;
      d = options_.nesterov ? d + momentum * b[i] : b[i];
    }
    wi[i] -= lr * d;
  }
  st.step += 1;
}

template class SGD<float>;
template class SGD<double>;

}  // namespace curv::optim
