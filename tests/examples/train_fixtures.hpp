// Fixtures shared by the curv-train tests: a tiny MNIST-format folder whose
// labels are visible in the images, so that a few iterations learn, and the
// bytes of a file, to show that a refusal left it untouched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <curv/datasets/idx.hpp>

namespace curv::examples::test {

// An empty folder `name` under a per-process folder `suite_<pid>` in the
// system's temporary directory (emptied first if a test left it).
inline std::filesystem::path scratch_dir(const std::string& suite, const std::string& name) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() / (suite + "_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Writes `train` and `test` 28×28 images into `dir` as MNIST's four IDX files
// (train-*, t10k-*): noise below 64 with a bright 4×4 block whose place
// depends on the label, labels i mod 10.
inline void write_block_digits(const std::filesystem::path& dir, std::size_t train, std::size_t test) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(7);
  auto write = [&](const std::string& prefix, std::size_t n) {
    std::vector<std::uint8_t> images(n * 28 * 28), labels(n);
    for (std::size_t i = 0; i < n; ++i) {
      labels[i] = static_cast<std::uint8_t>(i % 10);
      for (std::size_t p = 0; p < 28 * 28; ++p) images[i * 784 + p] = static_cast<std::uint8_t>(rng() % 64);
      for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 4; ++c) images[i * 784 + (2 + labels[i] * 2 + r) * 28 + 4 + c + labels[i]] = 250;
    }
    const std::vector<std::size_t> idims = {n, 28, 28}, ldims = {n};
    curv::datasets::write_idx(dir / (prefix + "-images-idx3-ubyte"), idims, images);
    curv::datasets::write_idx(dir / (prefix + "-labels-idx1-ubyte"), ldims, labels);
  };
  write("train", train);
  write("t10k", test);
}

// The file's bytes; empty when it cannot be read (compare with
// std::filesystem::exists where absence matters).
inline std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace curv::examples::test
