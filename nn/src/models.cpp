// curv::nn::models: the article's CNN and the MLP factory.
#include "curv/nn/models.hpp"

#include <stdexcept>
#include <string>

#include "curv/nn/layers/activation.hpp"
#include "curv/nn/layers/conv2d.hpp"
#include "curv/nn/layers/flatten.hpp"
#include "curv/nn/layers/linear.hpp"
#include "curv/nn/layers/pooling.hpp"

namespace curv::nn::models {

namespace {

template <class T>
std::shared_ptr<const Module<T>> make_activation(Activation a) {
  switch (a) {
    case Activation::tanh: return std::make_shared<const Tanh<T>>();
    case Activation::relu: return std::make_shared<const ReLU<T>>();
    case Activation::sigmoid: return std::make_shared<const Sigmoid<T>>();
  }
  throw std::invalid_argument("curv::nn::models: unknown activation");
}

}  // namespace

template <class T>
Sequential<T> article_cnn(std::size_t kernel_size, Init init) {
  if (kernel_size % 2 == 0 || kernel_size > 28)
    throw std::invalid_argument("curv::nn::models::article_cnn: kernel_size = " + std::to_string(kernel_size) +
                                ", expected an odd size no larger than 28 (for 'same' padding)");
  constexpr std::size_t channels = 32, hidden = 100, classes = 10;
  Sequential<T> net;
  net.template emplace<Conv2d<T>>("conv1", Conv2dOptions{1, channels, kernel_size, 1, (kernel_size - 1) / 2, true, init});
  net.template emplace<MaxPool2d<T>>("pool1", 2);  // = tanh then pool: tanh is increasing
  net.template emplace<Tanh<T>>("tanh1");
  net.template emplace<Flatten<T>>("flatten");
  net.template emplace<Linear<T>>("fc1", LinearOptions{channels * 14 * 14, hidden, true, init});
  net.template emplace<Tanh<T>>("tanh2");
  net.template emplace<Linear<T>>("fc2", LinearOptions{hidden, classes, true, init});
  return net;
}

template <class T>
Sequential<T> mlp(const std::vector<std::size_t>& widths, Activation activation, Init init) {
  if (widths.size() < 2)
    throw std::invalid_argument("curv::nn::models::mlp: widths has " + std::to_string(widths.size()) +
                                " entries, expected at least 2 (input and output)");
  Sequential<T> net;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    if (i > 0) net.add("act" + std::to_string(i), make_activation<T>(activation));
    net.template emplace<Linear<T>>("fc" + std::to_string(i + 1), LinearOptions{widths[i], widths[i + 1], true, init});
  }
  return net;
}

template Sequential<float> article_cnn<float>(std::size_t, Init);
template Sequential<double> article_cnn<double>(std::size_t, Init);
template Sequential<float> mlp<float>(const std::vector<std::size_t>&, Activation, Init);
template Sequential<double> mlp<double>(const std::vector<std::size_t>&, Activation, Init);

}  // namespace curv::nn::models
