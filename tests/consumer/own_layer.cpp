// Uses the installed test kit <curv/testing.hpp> on the user's own op and
// layers of own_layer.hpp, as a user's project would: the op through
// require_function, the layers (alone and inside a Sequential with built-in
// ones) through require_module and require_module_float32. Exits non-zero,
// printing the kit's message, when a check fails.
#include <cmath>
#include <cstdio>
#include <memory>

#include <curv/testing.hpp>

#include "own_layer.hpp"

namespace ad = curv::ad;
namespace nn = curv::nn;
namespace testing = curv::testing;
using curv::Tensor;

int main() {
  try {
    testing::require_function([]<class T>(const ad::Var<T>& x) { return ad::sum(ad::tanh(my::silu(x)) * x); },
                              testing::random_normal({3, 4}, 1));
    // The same function as curv's own silu Rule: the two must agree.
    testing::require_function([]<class T>(const ad::Var<T>& x) { return ad::sum(my::silu(x) - ad::silu(x)); },
                              testing::random_normal({3, 4}, 6));

    const Tensor<double> x = testing::random_normal({5, 4}, 2);
    const my::LayerNorm<double> norm(4);
    const Tensor<double> w = testing::random_normal({norm.num_parameters()}, 3);  // away from identity
    testing::require_module(norm, w, x);
    testing::require_module_float32(my::LayerNorm<float>(4), norm, w, x);
    testing::require_module(my::SiLU<double>(), Tensor<double>::from_shape({0}), x);

    auto model = [](auto tag) {
      using T = decltype(tag);
      auto net = std::make_shared<nn::Sequential<T>>();
      net->template emplace<nn::Linear<T>>("fc1", nn::LinearOptions{4, 3});
      net->template emplace<my::LayerNorm<T>>("norm", 3);
      net->template emplace<my::SiLU<T>>("act");
      net->template emplace<nn::Linear<T>>("fc2", nn::LinearOptions{3, 2});
      return net;
    };
    const auto net64 = model(double{});
    const Tensor<double> wn = net64->initialize(4) + 0.1 * testing::random_normal({net64->num_parameters()}, 5);
    testing::require_module(*net64, wn, x);
    testing::require_module_float32(*model(float{}), *net64, wn, x);

    const testing::Report r = testing::check_module(*net64, wn, x);
    std::printf("own layers: %zu comparisons ok, worst relative error %.3g (%s)\n", r.comparisons.size(),
                r.max_rel_error(), r.worst().what.c_str());
  } catch (const testing::CheckFailed& e) {
    std::printf("%s\n", e.what());
    return 1;
  }
  return 0;
}
