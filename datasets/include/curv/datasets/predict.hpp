// curv::datasets::predict, predict_proba, predict_classes: a model's outputs,
// softmax probabilities and argmax classes for every example of a dataset or
// of one input tensor, computed batch by batch in parallel.
//
// The contract (docs/data.md, Inference):
//  * Inference records no derivatives: each batch's forward pass runs on a
//    tape of constants only (w borrowed, the inputs moved in), so no tangent
//    or adjoint is ever made, and the tape is dropped as soon as its output
//    rows are copied out.
//  * Batches are the examples in order, cut every batch_size (−1: one batch),
//    `threads` at a time on TBB, OpenBLAS on the calling thread, each batch
//    writing its own rows: row i of the result is example i's, whatever the
//    batch size or thread count. The same batch size gives the same bits on
//    any thread count; another batch size can change a row in its last bits,
//    because a GEMM may round a row differently at another position of its
//    block (docs/data.md says how much; tests/datasets/test_predict.cpp).
//  * nn::fuse(model) runs by default, as in the Accumulator (PredictOptions).
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include "curv/datasets/dataset.hpp"
#include "curv/nn/module.hpp"

namespace curv::datasets {

struct PredictOptions {
  // Examples per forward pass; −1 = all of them in one.
  std::ptrdiff_t batch_size = 256;
  // Batches run at once; 0 = every core TBB sees.
  int threads = 0;
  // Run nn::fuse(model), equal to the model as given to rounding; false runs
  // the model exactly as given.
  bool fuse = true;
};

// The model's output for every example, stacked in dataset order: shape
// (N, …) where one batch of B examples gives (B, …). Throws
// std::invalid_argument for a w that is not (num_parameters(),), an empty
// dataset, a batch size of 0 or below −1, threads < 0, or a model whose output
// does not have one row per example.
template <class T>
Tensor<T> predict(const nn::Module<T>& model, const Tensor<T>& w, std::type_identity_t<DatasetRef<T>> data,
                  PredictOptions options = {});
// The same for the examples on the first axis of `inputs` (no targets needed).
template <class T>
Tensor<T> predict(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs,
                  PredictOptions options = {});

// softmax of each row of predict(…), (N, classes), computed stably (shifted by
// the row's maximum, summed in double): each row sums to 1 up to rounding.
// The model's output must be (batch, classes).
template <class T>
Tensor<T> predict_proba(const nn::Module<T>& model, const Tensor<T>& w, std::type_identity_t<DatasetRef<T>> data,
                        PredictOptions options = {});
template <class T>
Tensor<T> predict_proba(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs,
                        PredictOptions options = {});

// The class of largest output per example (the first on ties, as
// Accumulator::evaluate counts it). The model's output must be (batch, classes).
template <class T>
std::vector<std::size_t> predict_classes(const nn::Module<T>& model, const Tensor<T>& w,
                                         std::type_identity_t<DatasetRef<T>> data, PredictOptions options = {});
template <class T>
std::vector<std::size_t> predict_classes(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs,
                                         PredictOptions options = {});

// All six are compiled for float and double (src/predict.cpp).

}  // namespace curv::datasets
