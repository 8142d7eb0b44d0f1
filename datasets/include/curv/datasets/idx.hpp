// The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), plain or
// gzip-compressed, and loaders that find those datasets in a folder.
//
// An IDX file is a big-endian header — two zero bytes, a type byte (0x08 for
// unsigned bytes, the only type these datasets use), the number of dimensions,
// then each dimension as a 32-bit integer — followed by the elements in
// row-major order. Images are 3-D (count, rows, cols); labels 1-D (count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "curv/datasets/dataset.hpp"

namespace curv::datasets {

// A malformed IDX file: what() names the file, the byte offset (in the
// decompressed stream for .gz files) and what was expected there.
class IdxError : public std::runtime_error {
 public:
  IdxError(const std::string& what, std::filesystem::path file, std::uint64_t offset)
      : std::runtime_error(what), file_(std::move(file)), offset_(offset) {}
  const std::filesystem::path& file() const { return file_; }
  std::uint64_t offset() const { return offset_; }

 private:
  std::filesystem::path file_;
  std::uint64_t offset_;
};

// The raw contents of an unsigned-byte IDX file.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;  // row-major, product(dims) bytes
};

// Reads an IDX file of unsigned bytes with `dimensions` dimensions (1 to
// 255), gzip-compressed or not (detected from the content), front to back:
// the header first, then what it claims checked against the file before any
// allocation — a plain file must hold exactly the header and the data; a gzip
// file cannot claim more than 1032 times its size (deflate's maximum ratio)
// and is inflated into exactly the claimed size — then the data in chunks,
// then the end: nothing may follow the data, nor the gzip stream (a second
// member or garbage). Memory: the claimed data (at most the file's size, or
// 1032 times it for gzip) plus about 1.1 MiB of buffers.
// Throws IdxError for an empty or truncated file, a wrong magic number, a
// dimension of 0 (except the count, dims[0]) or above 2³¹ − 1, a claim the
// file cannot hold, bytes past the end, or a gzip error; std::runtime_error
// when the file cannot be opened or is a directory, a device or a pipe.
// Nothing is returned on error.
IdxArray read_idx(const std::filesystem::path& file, std::size_t dimensions);

// The dimensions in an IDX file's header (dims[0] is the record count),
// with read_idx's checks of the header and the same errors: the header, and
// for a plain file its size, which must be exactly header and data. The body
// is not read: a gzip file's data, truncated or corrupt or followed by
// more, is found out only by a read of its records. Memory: the buffers (64
// KiB, and zlib's state for gzip), never the body. For a process that reads
// its shard of a file (read_idx_rows) and must first know how many records
// there are to draw its rows.
std::vector<std::size_t> read_idx_dims(const std::filesystem::path& file, std::size_t dimensions);

// The records `rows` of an IDX file, in that order: dims[0] is rows.size(),
// the other dimensions the file's; record r is elements [r·k, (r+1)·k) of
// the body, k = dims[1] × … × dims[n−1]. `rows` must be strictly increasing
// (a shard of a shuffled split, sorted) and below the file's record count.
// What is read: the header, with read_idx's checks, then in a plain file
// only the selected records (consecutive ones in one run; the file's size
// was checked against the header, so a truncated file or one with bytes
// past the data is refused before any record is read); in a gzip file the
// whole stream, inflated and dropped but for the selected records, with
// read_idx's end checks. Memory: the selected records plus read_idx's
// buffers, never the whole body. read_idx(file, n) reads as read_idx_rows
// over every row. Throws std::invalid_argument for rows not strictly
// increasing (naming the two) or a row not below the count (naming the row,
// the count and the file), the former before the file is opened, the latter
// once its header is read; otherwise what read_idx throws.
IdxArray read_idx_rows(const std::filesystem::path& file, std::size_t dimensions, std::span<const std::size_t> rows);

// Writes an unsigned-byte IDX file, gzip-compressed when the name ends in
// ".gz". Atomic: the file appears complete (renamed from a temporary next to
// it) or not at all.
void write_idx(const std::filesystem::path& file, std::span<const std::size_t> dims,
               std::span<const std::uint8_t> data);

// Images (count, 1, rows, cols) scaled to [0, 1] (byte / 255), converted as
// they are read: memory is the tensor (sizeof(T) bytes per pixel) and the
// reader's buffers, with the checks of read_idx.
template <class T>
Tensor<T> read_idx_images(const std::filesystem::path& file);
// Labels (count,), the class index stored exactly as T.
template <class T>
Tensor<T> read_idx_labels(const std::filesystem::path& file);
// An images file and its labels file as one dataset whose provenance is the
// two files' names (row r is record r of both); throws IdxError naming both
// files when their counts differ (compared from the headers, before either
// body is read).
template <class T>
TensorDataset<T> read_idx_dataset(const std::filesystem::path& images,
                                  const std::filesystem::path& labels);

// The same, of the records `rows` only, read as read_idx_rows reads them:
// images (rows.size(), 1, height, width), labels (rows.size(),), memory the
// result and the buffers. The dataset's row i is record rows[i] of both
// files, and its provenance says so: a bad label found in a later pass names
// its record in the files, not its row in the shard. Rows are checked
// against the images' count once both headers are read and compared.
template <class T>
Tensor<T> read_idx_images(const std::filesystem::path& file, std::span<const std::size_t> rows);
template <class T>
Tensor<T> read_idx_labels(const std::filesystem::path& file, std::span<const std::size_t> rows);
template <class T>
TensorDataset<T> read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                                  std::span<const std::size_t> rows);

template <class T>
struct TrainTest {
  TensorDataset<T> train;
  TensorDataset<T> test;
};

// `name` (e.g. "train-images-idx3-ubyte") or `name`.gz in `dir`, whichever
// exists (plain first); throws std::runtime_error naming both paths tried, or
// the one that exists but is a directory or not a regular file.
std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name);

// MNIST-format data in `dir` under the standard names train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
// (each plain or .gz). A training images file of no images is an IdxError
// naming it.
template <class T>
TrainTest<T> load_mnist(const std::filesystem::path& dir);

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
inline std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

// Fashion-MNIST (60,000 + 10,000) in MNIST format.
template <class T>
TrainTest<T> load_fashion_mnist(const std::filesystem::path& dir = default_fashion_mnist_dir()) {
  return load_mnist<T>(dir);
}

extern template Tensor<float> read_idx_images(const std::filesystem::path&);
extern template Tensor<double> read_idx_images(const std::filesystem::path&);
extern template Tensor<float> read_idx_labels(const std::filesystem::path&);
extern template Tensor<double> read_idx_labels(const std::filesystem::path&);
extern template TensorDataset<float> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
extern template TensorDataset<double> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
extern template Tensor<float> read_idx_images(const std::filesystem::path&, std::span<const std::size_t>);
extern template Tensor<double> read_idx_images(const std::filesystem::path&, std::span<const std::size_t>);
extern template Tensor<float> read_idx_labels(const std::filesystem::path&, std::span<const std::size_t>);
extern template Tensor<double> read_idx_labels(const std::filesystem::path&, std::span<const std::size_t>);
extern template TensorDataset<float> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&,
                                                      std::span<const std::size_t>);
extern template TensorDataset<double> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&,
                                                       std::span<const std::size_t>);
extern template TrainTest<float> load_mnist(const std::filesystem::path&);
extern template TrainTest<double> load_mnist(const std::filesystem::path&);

}  // namespace curv::datasets
