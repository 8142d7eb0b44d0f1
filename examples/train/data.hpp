// curv-train's data: the named datasets, the pre-flight checks of their
// files, the seeded splits, and --export-data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <curv/datasets.hpp>
#include <curv/dist.hpp>

#include "train/train.hpp"

namespace curv::examples {

// The model's outputs: ten classes (digits, clothing types).
inline constexpr std::size_t kClasses = 10;

template <class T>
struct Data {
  std::filesystem::path dir;
  std::filesystem::path train_images, train_labels, test_images, test_labels;
  // This process's examples of each split: all of them, or under mpirun
  // its rank's contiguous shard of each (dist::shard).
  datasets::TensorDataset<T> train, val, test;
  std::vector<std::string> warnings;  // degenerate training data
  // The whole splits' sizes, and the row of the whole training split where
  // this process's shard starts (0 for one process).
  struct Whole {
    std::size_t first_train_row = 0;
    std::size_t train = 0, val = 0, test = 0;
  } whole;
};

// The three splits of c.dataset, checked before the first epoch (non-empty,
// one geometry, labels 0–9, split sizes; errors name file and record), and
// standardized unless --no-standardize.
template <class T>
Data<T> load_data(const TrainConfig& c);

// FNV-1a of a split's inputs and targets: what a resume compares. Under
// mpirun, of every rank's shard: FNV-1a of the shards' hashes in rank order
// (one process: its own hash).
template <class T>
std::uint64_t hash_dataset(const datasets::TensorDataset<T>& d, const dist::Communicator& comm = {});

// --export-data: the three splits as the model sees them (standardized, the
// run's dtype), labels as int64, through nn's .npz writer.
template <class T>
void export_data(const std::string& path, const Data<T>& d);

#define CURV_TRAIN_DATA_EXTERN(T)                                                      \
  extern template Data<T> load_data(const TrainConfig&);                               \
  extern template std::uint64_t hash_dataset(const datasets::TensorDataset<T>&, const dist::Communicator&); \
  extern template void export_data(const std::string&, const Data<T>&);
CURV_TRAIN_DATA_EXTERN(float)
CURV_TRAIN_DATA_EXTERN(double)
#undef CURV_TRAIN_DATA_EXTERN

}  // namespace curv::examples
