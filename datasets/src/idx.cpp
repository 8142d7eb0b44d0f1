// Reading and writing IDX files, plain or gzip-compressed (zlib), and the
// MNIST / Fashion-MNIST loaders.
#include "curv/datasets/idx.hpp"

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

namespace curv::datasets {

namespace {

constexpr std::uint64_t max_dimension = std::numeric_limits<std::int32_t>::max();

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string quoted(const std::filesystem::path& p) {
  std::string q(1, '\'');  // appended piecewise: GCC 12 warns falsely on "'" + string
  q += p.string();
  q += '\'';
  return q;
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// The whole (decompressed) content of a file, and whether it was gzip.
struct Contents {
  std::vector<std::uint8_t> bytes;
  bool gzip = false;
};

Contents read_all(const std::filesystem::path& file) {
  errno = 0;
  GzHandle gz(gzopen(file.c_str(), "rb"));
  if (!gz)
    throw std::runtime_error("curv::datasets::read_idx: cannot open " + quoted(file) + ": " +
                             (errno ? std::strerror(errno) : "out of memory"));
  gzbuffer(gz.get(), 1 << 18);
  Contents c;
  // Read straight into the result: its size is the file's for plain files,
  // and grows geometrically for compressed ones.
  std::error_code ec;
  const std::uintmax_t on_disk = std::filesystem::file_size(file, ec);
  c.bytes.resize(ec ? std::size_t(1) << 16 : std::max<std::size_t>(static_cast<std::size_t>(on_disk), 1));
  std::size_t filled = 0;
  for (;;) {
    if (filled == c.bytes.size()) c.bytes.resize(2 * c.bytes.size());
    const std::size_t room = std::min<std::size_t>(c.bytes.size() - filled, 1u << 30);
    const int n = gzread(gz.get(), c.bytes.data() + filled, static_cast<unsigned>(room));
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  c.bytes.resize(filled);
  c.bytes.shrink_to_fit();
  c.gzip = gzdirect(gz.get()) == 0;
  int err = Z_OK;
  const char* message = gzerror(gz.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw IdxError("curv::datasets::read_idx: " + quoted(file) + ": byte offset " +
                       std::to_string(c.bytes.size()) +
                       " of the decompressed data: expected a complete gzip stream, zlib reports: " +
                       (message ? message : "unknown error"),
                   file, c.bytes.size());
  return c;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

std::string dims_string(const std::vector<std::size_t>& dims) { return shape_string(dims); }

}  // namespace

IdxArray read_idx(const std::filesystem::path& file, std::size_t dimensions) {
  Contents c = read_all(file);
  const std::vector<std::uint8_t>& b = c.bytes;
  const std::string where = "curv::datasets::read_idx: " + quoted(file) + ": byte offset ";
  const std::string of = c.gzip ? " of the decompressed data: " : ": ";
  auto fail = [&](std::uint64_t offset, const std::string& what) -> IdxError {
    return IdxError(where + std::to_string(offset) + of + what, file, offset);
  };
  const std::uint32_t magic = 0x00000800u | static_cast<std::uint32_t>(dimensions);
  const std::string expected_magic = "magic number " + hex32(magic) + " (IDX of unsigned bytes with " +
                                     std::to_string(dimensions) + " dimension" +
                                     (dimensions == 1 ? "" : "s") + ")";
  if (b.empty()) throw fail(0, "the file is empty; expected " + expected_magic);
  if (b.size() < 4)
    throw fail(b.size(), "truncated header: expected " + expected_magic + ", found end of file after " +
                             std::to_string(b.size()) + " bytes");
  const std::uint32_t found = big_endian32(b.data());
  if (found != magic) {
    std::string what = "expected " + expected_magic + ", found " + hex32(found);
    if ((found & 0xffff0000u) == 0)
      what += " (type byte " + hex32((found >> 8) & 0xff).substr(8) + ", " +
              std::to_string(found & 0xff) + " dimensions)";
    else
      what += " (not an IDX file)";
    throw fail(0, what);
  }
  IdxArray a;
  a.dims.resize(dimensions);
  for (std::size_t i = 0; i < dimensions; ++i) {
    const std::size_t at = 4 + 4 * i;
    if (b.size() < at + 4)
      throw fail(b.size(), "truncated header: expected dimension " + std::to_string(i) + " of " +
                               std::to_string(dimensions) + " (4 bytes at offset " +
                               std::to_string(at) + "), found end of file");
    const std::uint64_t d = big_endian32(b.data() + at);
    if (d > max_dimension || (d == 0 && i > 0))
      throw fail(at, "expected dimension " + std::to_string(i) + " between " + (i > 0 ? "1" : "0") +
                         " and " + std::to_string(max_dimension) + ", found " + std::to_string(d) +
                         " (absurd dimensions)");
    a.dims[i] = static_cast<std::size_t>(d);
  }
  std::size_t count = 1;
  for (std::size_t d : a.dims)
    if (__builtin_mul_overflow(count, d, &count))
      throw fail(4, "expected dimensions whose product fits in memory, found " + dims_string(a.dims) +
                        " (absurd dimensions)");
  const std::size_t header = 4 + 4 * dimensions;
  const std::size_t available = b.size() - header;
  if (available < count)
    throw fail(b.size(), "truncated data: dimensions " + dims_string(a.dims) + " need " +
                             std::to_string(count) + " bytes from offset " + std::to_string(header) +
                             "; expected " + std::to_string(count - available) +
                             " more bytes, found end of file");
  if (available > count)
    throw fail(header + count, "expected end of file after dimensions " + dims_string(a.dims) + " (" +
                                   std::to_string(count) + " bytes of data), found " +
                                   std::to_string(available - count) + " more bytes");
  // Drop the header in place rather than copying the data out.
  c.bytes.erase(c.bytes.begin(), c.bytes.begin() + static_cast<std::ptrdiff_t>(header));
  a.data = std::move(c.bytes);
  return a;
}

void write_idx(const std::filesystem::path& file, std::span<const std::size_t> dims,
               std::span<const std::uint8_t> data) {
  if (dims.empty() || dims.size() > 255)
    throw std::invalid_argument("curv::datasets::write_idx: " + std::to_string(dims.size()) +
                                " dimensions, expected 1 to 255");
  std::size_t count = 1;
  for (std::size_t d : dims) {
    if (d > max_dimension)
      throw std::invalid_argument("curv::datasets::write_idx: dimension " + std::to_string(d) +
                                  ", expected at most " + std::to_string(max_dimension));
    count *= d;
  }
  if (count != data.size())
    throw std::invalid_argument("curv::datasets::write_idx: dimensions " +
                                shape_string(std::vector<std::size_t>(dims.begin(), dims.end())) +
                                " hold " + std::to_string(count) + " bytes, found " +
                                std::to_string(data.size()));
  std::vector<std::uint8_t> header;
  auto put32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<std::uint8_t>(v >> s));
  };
  put32(0x00000800u | static_cast<std::uint32_t>(dims.size()));
  for (std::size_t d : dims) put32(static_cast<std::uint32_t>(d));

  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp =
      file.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  auto failed = [&](const std::string& why) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return std::runtime_error("curv::datasets::write_idx: cannot write " + quoted(file) + ": " + why);
  };
  if (file.extension() == ".gz") {
    gzFile gz = gzopen(tmp.c_str(), "wb6");
    if (!gz) throw failed(std::strerror(errno));
    bool ok = gzwrite(gz, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size());
    for (std::size_t at = 0; ok && at < data.size();) {
      const std::size_t n = std::min<std::size_t>(data.size() - at, 1 << 20);
      ok = gzwrite(gz, data.data() + at, static_cast<unsigned>(n)) == static_cast<int>(n);
      at += n;
    }
    if (gzclose(gz) != Z_OK || !ok) throw failed("zlib write error");
  } else {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw failed(std::strerror(errno));
    out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) throw failed("write error");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw failed(ec.message());
}

template <class T>
Tensor<T> read_idx_images(const std::filesystem::path& file) {
  const IdxArray a = read_idx(file, 3);
  std::array<T, 256> scale;
  for (std::size_t v = 0; v < 256; ++v) scale[v] = static_cast<T>(v) / T(255);
  Tensor<T> images = Tensor<T>::from_shape({a.dims[0], std::size_t(1), a.dims[1], a.dims[2]});
  T* out = images.data();
  for (std::size_t i = 0; i < a.data.size(); ++i) out[i] = scale[a.data[i]];
  return images;
}

template <class T>
Tensor<T> read_idx_labels(const std::filesystem::path& file) {
  const IdxArray a = read_idx(file, 1);
  Tensor<T> labels = Tensor<T>::from_shape({a.dims[0]});
  T* out = labels.data();
  for (std::size_t i = 0; i < a.data.size(); ++i) out[i] = static_cast<T>(a.data[i]);
  return labels;
}

template <class T>
TensorDataset<T> read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels) {
  Tensor<T> y = read_idx_labels<T>(labels);
  Tensor<T> x = read_idx_images<T>(images);
  if (x.shape(0) != y.shape(0))
    throw IdxError("curv::datasets::read_idx_dataset: " + quoted(images) + " holds " +
                       std::to_string(x.shape(0)) + " images (count at byte offset 4) but " +
                       quoted(labels) + " holds " + std::to_string(y.shape(0)) +
                       " labels (count at byte offset 4); expected the same count",
                   images, 4);
  return TensorDataset<T>(std::move(x), std::move(y));
}

std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path plain = dir / name;
  const std::filesystem::path gz = dir / (name + ".gz");
  if (std::filesystem::is_regular_file(plain)) return plain;
  if (std::filesystem::is_regular_file(gz)) return gz;
  throw std::runtime_error("curv::datasets::find_idx_file: found neither " + quoted(plain) + " nor " +
                           quoted(gz) +
                           " (for MNIST digits run scripts/fetch-data.sh; Fashion-MNIST comes with "
                           "the Debian package dataset-fashion-mnist; see docs/data.md)");
}

template <class T>
TrainTest<T> load_mnist(const std::filesystem::path& dir) {
  const auto train_images = find_idx_file(dir, "train-images-idx3-ubyte");
  const auto train_labels = find_idx_file(dir, "train-labels-idx1-ubyte");
  const auto test_images = find_idx_file(dir, "t10k-images-idx3-ubyte");
  const auto test_labels = find_idx_file(dir, "t10k-labels-idx1-ubyte");
  TrainTest<T> data;
  data.train = read_idx_dataset<T>(train_images, train_labels);
  data.test = read_idx_dataset<T>(test_images, test_labels);
  return data;
}

template Tensor<float> read_idx_images(const std::filesystem::path&);
template Tensor<double> read_idx_images(const std::filesystem::path&);
template Tensor<float> read_idx_labels(const std::filesystem::path&);
template Tensor<double> read_idx_labels(const std::filesystem::path&);
template TensorDataset<float> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
template TensorDataset<double> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
template TrainTest<float> load_mnist(const std::filesystem::path&);
template TrainTest<double> load_mnist(const std::filesystem::path&);

}  // namespace curv::datasets
