// curv-train's model: built from the options (--model, --hidden,
// --kernel-size), bounded by the machine's memory, started from --init or the
// seeded initialization, and written by --save-model.
#pragma once

#include <memory>
#include <string>

#include <curv/nn.hpp>

#include "train/train.hpp"

namespace curv::examples {

template <class T>
std::unique_ptr<nn::Module<T>> make_model(const TrainConfig& c, const Shape& example);

// --hidden is bounded by memory: an MLP whose weights, gradients and
// optimizer state alone do not fit in this machine is refused (naming
// --hidden) before anything is allocated for it.
void check_mlp_fits(const TrainConfig& c, const Shape& example);

// The parameters a fresh run starts from: --init FILE (names, shapes and
// finiteness checked), else the seeded initialization.
template <class T>
Tensor<T> initial_parameters(const TrainConfig& c, const nn::Module<T>& model);

// --save-model: the final parameters of a completed run (an interrupted one
// has a checkpoint instead).
template <class T>
void save_model(const std::string& path, const nn::Module<T>& model, const Tensor<T>& w);

#define CURV_TRAIN_MODEL_EXTERN(T)                                                                  \
  extern template std::unique_ptr<nn::Module<T>> make_model(const TrainConfig&, const Shape&);      \
  extern template Tensor<T> initial_parameters(const TrainConfig&, const nn::Module<T>&);           \
  extern template void save_model(const std::string&, const nn::Module<T>&, const Tensor<T>&);
CURV_TRAIN_MODEL_EXTERN(float)
CURV_TRAIN_MODEL_EXTERN(double)
#undef CURV_TRAIN_MODEL_EXTERN

}  // namespace curv::examples
