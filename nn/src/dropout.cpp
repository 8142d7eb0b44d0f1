// curv::nn::Dropout (see dropout.hpp).
#include "curv/nn/layers/dropout.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace curv::nn {

template <class T>
Dropout<T>::Dropout(DropoutOptions options) : options_(options) {
  if (!(options_.p >= 0 && options_.p <= 1)) {
    std::ostringstream s;
    s << "curv::nn::Dropout: p = " << options_.p << ", expected a probability in [0, 1]";
    throw std::invalid_argument(s.str());
  }
}

template <class T>
std::string Dropout<T>::describe() const {
  std::ostringstream s;
  s << "Dropout(p=" << options_.p << ")";
  return s.str();
}

template <class T>
ad::Var<T> Dropout<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input) const {
  this->check_parameter_vector("forward", w.size());
  return input;
}

template <class T>
ad::Var<T> Dropout<T>::forward(const ad::Var<T>& w, const ad::Var<T>& input, const ForwardContext& context) const {
  this->check_parameter_vector("forward", w.size());
  if (!context.training() || options_.p == 0) return input;
  if (input.dimension() < 1)
    throw std::invalid_argument("curv::nn::Dropout: input has shape " + shape_string(input.shape()) +
                                ", expected at least one (batch) axis");
  if (!context.rows.empty() && context.rows.size() != input.shape()[0])
    throw std::invalid_argument("curv::nn::Dropout: the context names " + std::to_string(context.rows.size()) +
                                " dataset rows for a batch of " + std::to_string(input.shape()[0]) +
                                " examples, expected one row per example");
  return input * mask(Shape(input.shape().begin(), input.shape().end()), context);
}

template <class T>
Tensor<T> Dropout<T>::mask(const Shape& shape, const ForwardContext& context) const {
  Tensor<T> m = Tensor<T>::from_shape(shape);
  const std::size_t batch = shape.empty() ? 1 : shape[0];
  const std::size_t per_example = batch == 0 ? 0 : m.size() / batch;
  // Element k of an example is dropped where lowbias32(e + k·φ) < ⌈p · 2³²⌉,
  // e a 32-bit hash of (seed, stream, epoch, row) from splitmix64 and
  // lowbias32 (Wellons 2018) a bijection of 32 bits with two 32-bit
  // multiplies, which vectorizes: 606 million decisions per second on one
  // core of the 2-core AMD EPYC VM of docs/performance.md, where splitmix64
  // per element made 117 million (bench_nn BM_DropoutMask). p is resolved
  // to 2⁻³² (p ≥ 1 − 2⁻³³ drops everything).
  const double scaled = std::ceil(options_.p * 0x1p32);
  if (scaled >= 0x1p32) {
    std::fill(m.begin(), m.end(), T(0));
    return m;
  }
  const auto threshold = static_cast<std::uint32_t>(scaled);
  const T keep = static_cast<T>(1 / (1 - options_.p));
  const std::uint64_t base =
      ForwardContext::mix(ForwardContext::mix(context.seed ^ ForwardContext::mix(context.stream)) ^ context.epoch);
  T* out = m.data();
  for (std::size_t j = 0; j < batch; ++j) {
    const std::uint64_t h = ForwardContext::mix(base ^ context.row(j));
    const auto example = static_cast<std::uint32_t>(h ^ (h >> 32));
    T* row = out + j * per_example;
    for (std::size_t k = 0; k < per_example; ++k) {
      std::uint32_t x = example + static_cast<std::uint32_t>(k) * 0x9e3779b9u;
      x ^= x >> 16;
      x *= 0x7feb352du;
      x ^= x >> 15;
      x *= 0x846ca68bu;
      x ^= x >> 16;
      row[k] = x < threshold ? T(0) : keep;
    }
  }
  return m;
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace curv::nn
