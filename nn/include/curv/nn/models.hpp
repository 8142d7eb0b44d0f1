// Ready-made models: the article's CNN and multilayer perceptrons.
#pragma once

#include <memory>
#include <vector>

#include "curv/nn/layers/sequential.hpp"

namespace curv::nn::models {

enum class Activation { tanh, relu, sigmoid };

// The article's MNIST network, input (N, 1, 28, 28):
//   conv1 Conv2d(1 → 32, k×k, 'same' padding) → tanh → MaxPool2d(2) →
//   Flatten (32·14·14 = 6272) → fc1 Linear(6272 → 100) → tanh → fc2 Linear(100 → 10)
// 628,630 parameters for k = 3. k must be odd ('same' padding is (k − 1)/2).
// The model pools before its first tanh (children conv1, pool1, tanh1, …):
// tanh is increasing, so max-pooling commutes with it and the function is
// the article's, with tanh and its derivatives on a quarter of the elements.
template <class T>
Sequential<T> article_cnn(std::size_t kernel_size = 3, Init init = Init::pytorch_default);

// Linear layers of the given widths ({784, 256, 10}: 784 → 256 → 10) named
// fc1, fc2, …, with `activation` between them (not after the last).
template <class T>
Sequential<T> mlp(const std::vector<std::size_t>& widths, Activation activation = Activation::tanh,
                  Init init = Init::pytorch_default);

extern template Sequential<float> article_cnn<float>(std::size_t, Init);
extern template Sequential<double> article_cnn<double>(std::size_t, Init);
extern template Sequential<float> mlp<float>(const std::vector<std::size_t>&, Activation, Init);
extern template Sequential<double> mlp<double>(const std::vector<std::size_t>&, Activation, Init);

}  // namespace curv::nn::models
