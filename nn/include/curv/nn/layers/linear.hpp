// curv::nn::Linear: y = x Wᵀ + b, W (out × in) and b (out) in w in that order
// (PyTorch's layout and names, "weight" and "bias").
#pragma once

#include <string>

#include "curv/nn/module.hpp"
#include "curv/nn/ops/linear.hpp"

namespace curv::nn {

struct LinearOptions {
  std::size_t in_features = 0;
  std::size_t out_features = 0;
  bool bias = true;
  Init init = Init::pytorch_default;
};

template <class T>
class Linear final : public Module<T> {
 public:
  explicit Linear(LinearOptions options);
  Linear(std::size_t in_features, std::size_t out_features) : Linear(LinearOptions{in_features, out_features}) {}

  std::size_t num_parameters() const override;
  // Reads its weight and bias as views of w (no copies on the tape).
  ad::Var<T> forward(const ad::Var<T>& w, const ad::Var<T>& input) const override;
  std::string describe() const override;
  std::vector<ParameterInfo> parameters() const override;

  const LinearOptions& options() const { return options_; }

 private:
  LinearOptions options_;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace curv::nn
