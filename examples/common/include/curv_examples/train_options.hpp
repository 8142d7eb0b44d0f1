// The data and model options that batch_sweep and compare share with
// curv-train, spelled the same way.
#pragma once

#include <CLI/CLI.hpp>

#include "train/train.hpp"

namespace curv::examples {

inline void add_data_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--dataset", c.dataset, "mnist (full), mnist-small, fashion-mnist or a folder of MNIST-format IDX files")->capture_default_str();
  app.add_option("--mnist-dir", c.mnist_dir, "where --dataset mnist looks (default: $CURV_MNIST_DIR, else data/mnist-full)");
  app.add_option("--train-size", c.train_size, "training examples (default: all but the validation set)");
  app.add_option("--val-size", c.val_size, "validation examples (default: 1/6 of the training file, at most 10000)");
  app.add_option("--test-size", c.test_size, "test examples (default: all)");
  app.add_option("--model", c.model, "article-cnn or mlp")->capture_default_str();
  app.add_option("--hidden", c.hidden, "mlp: hidden units")->capture_default_str();
  app.add_option("--seed", c.seed, "seed of the split, the initial weights and the minibatch order")->capture_default_str();
  app.add_option("--dtype", c.dtype, "float32 or float64")->capture_default_str();
  app.add_option("--threads", c.threads, "minibatches computed in parallel (0 = every core)")->capture_default_str();
}

}  // namespace curv::examples
