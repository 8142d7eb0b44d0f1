// Explicit instantiations of every op for float and double, so that users'
// translation units compile only declarations (see the extern templates).
#include "curv/autodiff.hpp"

namespace curv::ad {

#define CURV_AD_INSTANTIATE(T)                                          \
  template Var<T> add(const Var<T>&, const Var<T>&);                    \
  template Var<T> sub(const Var<T>&, const Var<T>&);                    \
  template Var<T> mul(const Var<T>&, const Var<T>&);                    \
  template Var<T> matmul(const Var<T>&, const Var<T>&);                 \
  template Var<T> sum(const Var<T>&);                                   \
  template Var<T> sum(const Var<T>&, std::size_t);                      \
  template Var<T> exp(const Var<T>&);                                   \
  template Var<T> log(const Var<T>&);                                   \
  template Var<T> tanh(const Var<T>&);                                  \
  template Var<T> reshape(const Var<T>&, const Shape&);                 \
  template Var<T> slice(const Var<T>&, std::size_t, std::size_t);       \
  template Var<T> div(const Var<T>&, const Var<T>&);                    \
  template Var<T> neg(const Var<T>&);                                   \
  template Var<T> transpose(const Var<T>&);                             \
  template Var<T> concat(const std::vector<Var<T>>&, std::size_t);      \
  template Var<T> mean(const Var<T>&);                                  \
  template Var<T> mean(const Var<T>&, std::size_t);                     \
  template Var<T> sigmoid(const Var<T>&);                               \
  template Var<T> relu(const Var<T>&);                                  \
  template Var<T> square(const Var<T>&);                                \
  template Var<T> pow(const Var<T>&, T);                                \
  template Var<T> sqrt(const Var<T>&);                                  \
  template Var<T> logsumexp(const Var<T>&, std::size_t);                \
  template Var<T> log_softmax(const Var<T>&, std::size_t);              \
  template Var<T> dot(const Var<T>&, const Var<T>&);

CURV_AD_INSTANTIATE(float)
CURV_AD_INSTANTIATE(double)

}  // namespace curv::ad
