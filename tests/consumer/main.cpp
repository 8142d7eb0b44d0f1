// Uses the installed curv: value_and_grad, jvp and hvp of a small tanh MLP's
// loss as a function of its first layer's weights, checked against central
// finite differences in float64. Exits non-zero on any mismatch.
#include <cmath>
#include <cstdio>

#include <xtensor/xrandom.hpp>

#include <curv/autodiff.hpp>

using curv::Tensor;
using curv::ad::Var;

int main() {
  xt::random::seed(42);
  const Tensor<double> inputs = xt::random::randn<double>({5, 3});
  const Tensor<double> w2 = xt::random::randn<double>({4, 2});
  const Tensor<double> w1 = xt::random::randn<double>({3, 4});
  const Tensor<double> v = xt::random::randn<double>({3, 4});

  // MLP 3 → 4 → 2 with tanh, squared-output loss.
  auto loss = [&](const Var<double>& weights) {
    const Var<double> hidden = curv::ad::tanh(curv::ad::matmul(inputs, weights));
    const Var<double> out = curv::ad::tanh(curv::ad::matmul(hidden, w2));
    return curv::ad::sum(out * out);
  };

  const auto [value, grad] = curv::ad::value_and_grad(loss, w1);
  const auto j = curv::ad::jvp(loss, w1, v);
  const auto h = curv::ad::hvp(loss, w1, v);

  int failures = 0;
  const double step = 1e-5;
  const Tensor<double> up = w1 + step * v, down = w1 - step * v;
  const Tensor<double> fd_hv = (curv::ad::value_and_grad(loss, up).grad -
                                curv::ad::value_and_grad(loss, down).grad) / (2 * step);
  for (std::size_t i = 0; i < fd_hv.size(); ++i) {
    const double exact = h.hv.data()[i], approx = fd_hv.data()[i];
    if (std::abs(exact - approx) > 1e-6 * (1 + std::abs(approx))) {
      std::printf("hv[%zu]: exact %.12g, finite difference %.12g\n", i, exact, approx);
      ++failures;
    }
  }
  const double grad_dot_v = xt::sum(grad * v)();
  if (std::abs(j.tangent - grad_dot_v) > 1e-10 * (1 + std::abs(grad_dot_v))) {
    std::printf("jvp %.12g differs from <grad, v> %.12g\n", j.tangent, grad_dot_v);
    ++failures;
  }
  if (std::abs(h.value - value) > 1e-14 || std::abs(j.value - value) > 1e-14) ++failures;
  std::printf("consumer: loss %.6f, %d mismatches\n", value, failures);
  return failures == 0 ? 0 : 1;
}
