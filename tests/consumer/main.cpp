// Uses the installed curv: value_and_grad, jvp and hvp of a small tanh MLP's
// loss as a function of ONE flat parameter vector (sliced and reshaped into
// W1, b1, W2, b2, as curv models hold their parameters), checked in float64:
// H·v against central finite differences of the gradient, and the JVP against
// ⟨grad, v⟩. Exits non-zero on any mismatch.
#include <cmath>
#include <cstdio>

#include <xtensor/xrandom.hpp>

#include <curv/autodiff.hpp>

using curv::Tensor;
using curv::ad::Var;
namespace ad = curv::ad;

int main() {
  // MLP 3 → 4 → 2 with tanh on both layers and a squared-output loss.
  constexpr std::size_t n_in = 3, n_hidden = 4, n_out = 2;
  constexpr std::size_t w1_end = n_in * n_hidden, b1_end = w1_end + n_hidden,
                        w2_end = b1_end + n_hidden * n_out, b2_end = w2_end + n_out;

  xt::random::seed(42);
  const Tensor<double> inputs = xt::random::randn<double>({5, 3});
  const Tensor<double> w = xt::random::randn<double>({b2_end});
  const Tensor<double> v = xt::random::randn<double>({b2_end});

  auto loss = [&](const Var<double>& w) {
    const Var<double> w1 = ad::reshape(ad::slice(w, 0, w1_end), {n_in, n_hidden});
    const Var<double> b1 = ad::slice(w, w1_end, b1_end);
    const Var<double> w2 = ad::reshape(ad::slice(w, b1_end, w2_end), {n_hidden, n_out});
    const Var<double> b2 = ad::slice(w, w2_end, b2_end);
    const Var<double> hidden = ad::tanh(ad::matmul(inputs, w1) + b1);
    const Var<double> out = ad::tanh(ad::matmul(hidden, w2) + b2);
    return ad::sum(out * out);
  };

  const auto [value, grad] = ad::value_and_grad(loss, w);
  const auto j = ad::jvp(loss, w, v);
  const auto h = ad::hvp(loss, w, v);

  int failures = 0;
  // Central differences of the gradient: truncation O(step²) ≈ 1e-10 and
  // rounding O(ε / step) ≈ 1e-11, so 1e-6 leaves a wide margin.
  const double step = 1e-5;
  const Tensor<double> up = w + step * v, down = w - step * v;
  const Tensor<double> fd_hv = (ad::value_and_grad(loss, up).grad - ad::value_and_grad(loss, down).grad) / (2 * step);
  for (std::size_t i = 0; i < fd_hv.size(); ++i) {
    const double exact = h.hv.data()[i], approx = fd_hv.data()[i];
    if (std::abs(exact - approx) > 1e-6 * (1 + std::abs(approx))) {
      std::printf("hv[%zu]: exact %.12g, finite difference %.12g\n", i, exact, approx);
      ++failures;
    }
  }
  for (std::size_t i = 0; i < grad.size(); ++i) {
    if (std::abs(h.grad.data()[i] - grad.data()[i]) > 1e-14 * (1 + std::abs(grad.data()[i]))) {
      std::printf("hvp's grad[%zu] %.17g differs from value_and_grad's %.17g\n", i, h.grad.data()[i], grad.data()[i]);
      ++failures;
    }
  }
  const double grad_dot_v = xt::sum(grad * v)();
  if (std::abs(j.tangent - grad_dot_v) > 1e-10 * (1 + std::abs(grad_dot_v))) {
    std::printf("jvp %.12g differs from <grad, v> %.12g\n", j.tangent, grad_dot_v);
    ++failures;
  }
  if (std::abs(h.value - value) > 1e-14 || std::abs(j.value - value) > 1e-14) {
    std::printf("values differ: value_and_grad %.17g, jvp %.17g, hvp %.17g\n", value, j.value, h.value);
    ++failures;
  }
  std::printf("consumer: %zu parameters, loss %.6f, %d mismatches\n", w.size(), value, failures);
  return failures == 0 ? 0 : 1;
}
