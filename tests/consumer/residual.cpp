// Uses the installed curv::nn: a residual block y = x + f(x) written in this
// project as one class over nn::Composite (no detail::), inside a
// Sequential; checks its parameter names and offsets, and H·v of a loss
// against central finite differences of the gradient, in float64. Exits
// non-zero on any mismatch.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <curv/nn.hpp>

namespace ad = curv::ad;
namespace nn = curv::nn;
using curv::Tensor;

template <class T>
class Residual final : public nn::Composite<T> {
 public:
  explicit Residual(std::shared_ptr<const nn::Module<T>> f) : nn::Composite<T>("Residual") {
    this->add("f", std::move(f));
  }

 private:
  ad::Var<T> compose(const nn::Children<T>& children, const ad::Var<T>& x) const override {
    return x + children("f", x);
  }
};

int main() {
  auto f = std::make_shared<nn::Sequential<double>>();
  f->emplace<nn::Linear<double>>("fc1", nn::LinearOptions{3, 3});
  f->emplace<nn::Tanh<double>>("act");
  f->emplace<nn::Linear<double>>("fc2", nn::LinearOptions{3, 3});
  nn::Sequential<double> net;
  net.emplace<nn::Linear<double>>("fc_in", nn::LinearOptions{4, 3});
  net.emplace<Residual<double>>("block", f);
  net.emplace<nn::Linear<double>>("fc_out", nn::LinearOptions{3, 2});

  int failures = 0;
  const nn::ParameterInfo p = net.parameter("block.f.fc2.bias");
  if (p.offset != 36 || net.num_parameters() != 47) {
    std::printf("block.f.fc2.bias at %zu of %zu, expected 36 of 47\n", p.offset, net.num_parameters());
    ++failures;
  }

  Tensor<double> inputs = Tensor<double>::from_shape({5, 4}), targets = Tensor<double>::from_shape({5, 2});
  for (std::size_t i = 0; i < inputs.size(); ++i) inputs.data()[i] = std::sin(1.0 + i);
  for (std::size_t i = 0; i < targets.size(); ++i) targets.data()[i] = std::cos(2.0 + i);
  const nn::MeanSquaredError<double> mse;
  auto loss = [&](const ad::Var<double>& w) { return mse(net.forward(w, w.tape().constant(inputs)), targets); };

  const Tensor<double> w = net.initialize(2);
  Tensor<double> v = Tensor<double>::from_shape({w.size()});
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = std::sin(3.0 * i + 0.5);
  const auto h = ad::hvp(loss, w, v);
  const double step = 1e-5;
  const Tensor<double> up = w + step * v, down = w - step * v;
  const Tensor<double> fd = (ad::value_and_grad(loss, up).grad - ad::value_and_grad(loss, down).grad) / (2 * step);
  for (std::size_t i = 0; i < fd.size(); ++i)
    if (std::abs(h.hv.data()[i] - fd.data()[i]) > 1e-6 * (1 + std::abs(fd.data()[i]))) {
      std::printf("hv[%zu] (%s): exact %.12g, finite difference %.12g\n", i, net.describe().c_str(), h.hv.data()[i],
                  fd.data()[i]);
      ++failures;
    }
  std::printf("consumer residual: %zu parameters, loss %.6f, %d mismatches\n", w.size(), h.value, failures);
  return failures == 0 ? 0 : 1;
}
