// curv::nn::summary: a model's layers with their output shapes for a given
// input shape and their parameter counts, as torchinfo prints them for
// PyTorch — from one forward pass in evaluation mode on a zero input, so
// every Composite (Sequential, Residual, a user's own) is covered without
// knowing how it combines its children.
//
//   std::cout << nn::summary(nn::models::article_cnn<float>(3), {1, 1, 28, 28});
//
//   layer      module                                                     output shape     parameters
//   (model)    Sequential(conv1, pool1, tanh1, flatten, fc1, tanh2, fc2)  (1, 10)             628,630
//     conv1    Conv2d(1 -> 32, kernel 3, stride 1, padding 1)             (1, 32, 28, 28)         320
//     pool1    MaxPool2d(kernel 2, stride 2)                              (1, 32, 14, 14)           0
//   …
//   input (1, 1, 28, 28), 628,630 parameters (2,514,520 bytes as float32)
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "curv/nn/module.hpp"

namespace curv::nn {

struct LayerSummary {
  std::string name;         // the path from the model: "block1.body.conv1"; "" for the model itself
  std::size_t depth = 0;    // 0 for the model, 1 for its children, …
  std::string description;  // describe()
  Shape output_shape;
  std::size_t num_parameters = 0;  // its own and its children's
};

// The model's row, then each child's as it runs (a child run twice appears
// twice). Throws what the forward pass throws for an input shape the model
// does not take (naming the layer).
template <class T>
std::vector<LayerSummary> summarize(const Module<T>& model, const Shape& input_shape);

// summarize() as a table, with the total parameter count.
template <class T>
std::string summary(const Module<T>& model, const Shape& input_shape);

extern template std::vector<LayerSummary> summarize(const Module<float>&, const Shape&);
extern template std::vector<LayerSummary> summarize(const Module<double>&, const Shape&);
extern template std::string summary(const Module<float>&, const Shape&);
extern template std::string summary(const Module<double>&, const Shape&);

}  // namespace curv::nn
