// Reading and writing IDX files, plain or gzip-compressed (zlib), and the
// MNIST / Fashion-MNIST loaders.
#include "curv/datasets/idx.hpp"

#include "curv/nn/atomic_file.hpp"

#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
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

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

// The largest ratio of inflated to compressed size deflate can reach (zlib's
// "Maximum Compression Factor", 1032:1): a gzip file of n bytes cannot hold
// more than 1032·n bytes of data, so a header claiming more is refused unread.
constexpr std::uint64_t max_deflate_ratio = 1032;

// The records a read keeps: all (std::nullopt), or these, strictly increasing.
using Rows = std::optional<std::span<const std::size_t>>;

// An IDX file read front to back: the header first, checked, and what it
// claims checked against the file's real size (plain) or against deflate's
// maximum ratio (gzip) before anything is allocated; then the data in chunks;
// then the end, after which nothing may follow, neither in a plain file nor
// after the gzip stream (no second member, no garbage).
class IdxReader {
 public:
  IdxReader(const std::filesystem::path& file, std::size_t dimensions) : file_(file) {
    open();
    read_header(dimensions);
  }

  const std::vector<std::size_t>& dims() const { return dims_; }

  // The bytes of one record, dims[1] × … × dims[n−1] (none when dims[0] is 0).
  std::size_t record_bytes() const { return dims_[0] ? count_ / dims_[0] : 0; }

  // Hands the records `rows` (all of them for std::nullopt; otherwise
  // strictly increasing and below dims()[0], which the caller checks) to
  // sink(chunk, n, first) in order, `first` counting the bytes handed before;
  // skips the others (a seek in a plain file, inflation in a gzip one); then
  // checks the end. Consecutive records are read as one run, in chunks of at
  // most 1 MiB, so that all rows read exactly as the whole body.
  template <class Sink>
  void read_data(Rows rows, Sink&& sink) {
    std::vector<std::uint8_t> chunk(std::min<std::size_t>(count_, std::size_t(1) << 20));
    std::size_t done = 0;
    auto run = [&](std::size_t bytes) {
      for (const std::size_t end = done + bytes; done < end;) {
        const std::size_t n = std::min(chunk.size(), end - done);
        read_exact(chunk.data(), n);
        sink(chunk.data(), n, done);
        done += n;
      }
    };
    if (!rows) {
      run(count_);
    } else {
      const std::size_t record = record_bytes();
      for (std::size_t i = 0; i < rows->size();) {
        std::size_t j = i + 1;
        while (j < rows->size() && (*rows)[j] == (*rows)[j - 1] + 1) ++j;
        skip_to((*rows)[i] * record, chunk);
        run((j - i) * record);
        i = j;
      }
      skip_to(count_, chunk);  // a gzip stream is checked to its end, the trailer's CRC included
    }
    check_end();
  }

 private:
  IdxError fail(std::uint64_t offset, const std::string& what) const {
    return IdxError("curv::datasets::read_idx: " + quoted(file_) + ": byte offset " + std::to_string(offset) +
                        (gzip_ ? " of the decompressed data: " : ": ") + what,
                    file_, offset);
  }
  IdxError fail_compressed(std::uint64_t offset, const std::string& what) const {
    return IdxError("curv::datasets::read_idx: " + quoted(file_) + ": byte offset " + std::to_string(offset) +
                        " of the compressed file: " + what,
                    file_, offset);
  }

  void open() {
    const std::string fn = "curv::datasets::read_idx: ";
    struct stat st {};
    if (::stat(file_.c_str(), &st) != 0)
      throw std::runtime_error(fn + "cannot open " + quoted(file_) + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw std::runtime_error(fn + quoted(file_) + " is a directory, expected an IDX file");
    if (!S_ISREG(st.st_mode))
      throw std::runtime_error(fn + quoted(file_) + " is not a regular file (a device, pipe or socket), expected an IDX file");
    fd_.fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_.fd < 0 || ::fstat(fd_.fd, &st) != 0)
      throw std::runtime_error(fn + "cannot open " + quoted(file_) + ": " + std::strerror(errno));
    file_size_ = static_cast<std::uint64_t>(st.st_size);
    raw_.resize(std::size_t(1) << 16);
    fill_raw();
    gzip_ = raw_len_ >= 2 && raw_[0] == 0x1f && raw_[1] == 0x8b;
    if (gzip_) {
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)  // gzip only, its CRC-32 and length checked
        throw std::runtime_error(fn + quoted(file_) + ": zlib's inflateInit2 failed");
      inflater_.z = &z_;
      z_.next_in = raw_.data();
      z_.avail_in = static_cast<uInt>(raw_len_);
    }
  }

  // Refills the raw buffer from the file; false at its end.
  bool fill_raw() {
    for (;;) {
      const ssize_t n = ::read(fd_.fd, raw_.data(), raw_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw std::runtime_error("curv::datasets::read_idx: cannot read " + quoted(file_) + ": " +
                                 std::strerror(errno));
      raw_offset_ += raw_len_;
      raw_len_ = static_cast<std::size_t>(n);
      raw_pos_ = 0;
      return n > 0;
    }
  }

  // Up to n bytes of (decompressed) data; fewer only at the end of the stream.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t got = 0;
    if (!gzip_) {
      while (got < n) {
        if (raw_pos_ == raw_len_ && !fill_raw()) break;
        const std::size_t k = std::min(n - got, raw_len_ - raw_pos_);
        std::memcpy(dst + got, raw_.data() + raw_pos_, k);
        raw_pos_ += k;
        got += k;
      }
    } else {
      while (got < n && !stream_end_) {
        if (z_.avail_in == 0 && !input_end_) {
          input_end_ = !fill_raw();
          z_.next_in = raw_.data();
          z_.avail_in = static_cast<uInt>(raw_len_);
        }
        z_.next_out = dst + got;
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - got, 1u << 30));
        const uInt before = z_.avail_out;
        const int rc = inflate(&z_, Z_NO_FLUSH);
        got += before - z_.avail_out;
        if (rc == Z_STREAM_END) {
          stream_end_ = true;
        } else if (rc == Z_BUF_ERROR && input_end_) {  // no progress, and nothing left to read
          throw fail(pos_ + got, "expected a complete gzip stream, found the end of the compressed file at byte " +
                                     std::to_string(raw_offset_));
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
          throw fail(pos_ + got, std::string("expected a complete gzip stream, zlib reports: ") +
                                     (z_.msg ? z_.msg : "error " + std::to_string(rc)));
        }
      }
    }
    pos_ += got;
    return got;
  }

  // Exactly n bytes of data, or an IdxError naming what is missing.
  void read_exact(std::uint8_t* dst, std::size_t n) {
    if (read(dst, n) < n)
      throw fail(pos_, "truncated data: dimensions " + shape_string(dims_) + " need " + std::to_string(count_) +
                           " bytes from offset " + std::to_string(header_) + "; expected " +
                           std::to_string(count_ - (pos_ - header_)) + " more bytes, found end of " +
                           (gzip_ ? "the gzip stream" : "file"));
  }

  // Moves ahead to byte `offset` of the data: in a plain file within the
  // buffered window or by a seek (the file's size was checked against the
  // header), in a gzip file by inflating into `scratch`.
  void skip_to(std::size_t offset, std::vector<std::uint8_t>& scratch) {
    std::uint64_t n = header_ + offset - pos_;
    if (!gzip_) {
      if (n <= raw_len_ - raw_pos_) {
        raw_pos_ += static_cast<std::size_t>(n);
      } else {
        const std::uint64_t at = header_ + offset;  // in a plain file, data offset = file offset
        if (::lseek(fd_.fd, static_cast<off_t>(at), SEEK_SET) < 0)
          throw std::runtime_error("curv::datasets::read_idx: cannot seek in " + quoted(file_) + ": " +
                                   std::strerror(errno));
        raw_offset_ = at;
        raw_len_ = raw_pos_ = 0;
      }
      pos_ += n;
      return;
    }
    while (n > 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(scratch.size(), n));
      read_exact(scratch.data(), k);
      n -= k;
    }
  }

  void read_header(std::size_t dimensions) {
    const std::uint32_t magic = 0x00000800u | static_cast<std::uint32_t>(dimensions);
    const std::string expected_magic = "magic number " + hex32(magic) + " (IDX of unsigned bytes with " +
                                       std::to_string(dimensions) + " dimension" + (dimensions == 1 ? "" : "s") + ")";
    std::uint8_t b[4];
    const std::size_t got = read(b, 4);
    if (got == 0) throw fail(0, "the file is empty; expected " + expected_magic);
    if (got < 4)
      throw fail(got, "truncated header: expected " + expected_magic + ", found end of file after " +
                          std::to_string(got) + " bytes");
    const std::uint32_t found = big_endian32(b);
    if (found != magic) {
      std::string what = "expected " + expected_magic + ", found " + hex32(found);
      if ((found & 0xffff0000u) == 0)
        what += " (type byte " + hex32((found >> 8) & 0xff).substr(8) + ", " + std::to_string(found & 0xff) +
                " dimensions)";
      else
        what += " (not an IDX file)";
      throw fail(0, what);
    }
    dims_.resize(dimensions);
    for (std::size_t i = 0; i < dimensions; ++i) {
      const std::size_t at = 4 + 4 * i;
      if (read(b, 4) < 4)
        throw fail(pos_, "truncated header: expected dimension " + std::to_string(i) + " of " +
                             std::to_string(dimensions) + " (4 bytes at offset " + std::to_string(at) +
                             "), found end of file");
      const std::uint64_t d = big_endian32(b);
      if (d > max_dimension || (d == 0 && i > 0))
        throw fail(at, "expected dimension " + std::to_string(i) + " between " + (i > 0 ? "1" : "0") + " and " +
                           std::to_string(max_dimension) + ", found " + std::to_string(d) + " (absurd dimensions)");
      dims_[i] = static_cast<std::size_t>(d);
    }
    header_ = 4 + 4 * dimensions;
    count_ = 1;
    for (std::size_t d : dims_)
      if (__builtin_mul_overflow(count_, d, &count_))
        throw fail(4, "expected dimensions whose product fits in memory, found " + shape_string(dims_) +
                          " (absurd dimensions)");
    // What the header claims, against what the file can hold, before any allocation.
    if (!gzip_) {
      const std::uint64_t available = file_size_ > header_ ? file_size_ - header_ : 0;  // it may have grown
      if (available < count_)
        throw fail(file_size_, "truncated data: dimensions " + shape_string(dims_) + " need " +
                                   std::to_string(count_) + " bytes from offset " + std::to_string(header_) +
                                   "; expected " + std::to_string(count_ - available) +
                                   " more bytes, found end of file");
      if (available > count_)
        throw fail(header_ + count_, "expected end of file after dimensions " + shape_string(dims_) + " (" +
                                         std::to_string(count_) + " bytes of data), found " +
                                         std::to_string(available - count_) + " more bytes");
    } else if (count_ > max_deflate_ratio * file_size_ - header_) {
      throw fail(4, "dimensions " + shape_string(dims_) + " claim " + std::to_string(count_) +
                        " bytes of data, but a gzip file of " + std::to_string(file_size_) +
                        " bytes inflates to at most " + std::to_string(max_deflate_ratio * file_size_) +
                        " (deflate's maximum ratio, " + std::to_string(max_deflate_ratio) +
                        ":1); expected dimensions that fit the file");
    }
  }

  // After the data: nothing more, in the file or (gzip) in the stream or after it.
  void check_end() {
    const std::string after = "expected the end of the data after dimensions " + shape_string(dims_) + " (" +
                              std::to_string(count_) + " bytes from offset " + std::to_string(header_) + "), found ";
    std::uint8_t extra;
    if (!gzip_) {
      if (read(&extra, 1) != 0) throw fail(header_ + count_, after + "more bytes (the file grew while it was read)");
      return;
    }
    if (read(&extra, 1) != 0) throw fail(header_ + count_, after + "more bytes in the gzip stream");
    // The gzip trailer was checked by zlib; what is left in the file follows the stream.
    const std::uint64_t end = raw_offset_ + (raw_len_ - z_.avail_in);
    std::uint64_t trailing = z_.avail_in;
    while (fill_raw()) trailing += raw_len_;
    if (trailing > 0)
      throw fail_compressed(end, "expected the end of the file after the gzip stream, found " +
                                     std::to_string(trailing) +
                                     " more bytes (a second gzip member or trailing garbage)");
  }

  // Owners that release the file and zlib's state even when the constructor throws.
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  };
  struct Inflater {
    z_stream* z = nullptr;
    ~Inflater() {
      if (z) inflateEnd(z);
    }
  };

  std::filesystem::path file_;
  Fd fd_;
  std::uint64_t file_size_ = 0;
  bool gzip_ = false, stream_end_ = false, input_end_ = false;
  z_stream z_{};
  Inflater inflater_;  // after z_: ends it before it goes
  std::vector<std::uint8_t> raw_;  // a window of the file
  std::size_t raw_pos_ = 0, raw_len_ = 0;
  std::uint64_t raw_offset_ = 0;   // file offset of raw_[0]
  std::uint64_t pos_ = 0;          // offset in the (decompressed) data
  std::vector<std::size_t> dims_;
  std::size_t header_ = 0, count_ = 0;
};

void check_dimensions(const std::string& fn, std::size_t dimensions) {
  if (dimensions == 0 || dimensions > 255)
    throw std::invalid_argument(fn + ": " + std::to_string(dimensions) + " dimensions, expected 1 to 255");
}

// A shard's rows are a sorted set of record numbers; checked before the file is opened.
void check_increasing(const std::string& fn, std::span<const std::size_t> rows) {
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (rows[i] <= rows[i - 1])
      throw std::invalid_argument(fn + ": rows[" + std::to_string(i) + "] = " + std::to_string(rows[i]) +
                                  " after rows[" + std::to_string(i - 1) + "] = " + std::to_string(rows[i - 1]) +
                                  ", expected strictly increasing rows (sorted, no duplicates)");
}

// Checked once the header is read, before the body.
void check_below(const std::string& fn, std::span<const std::size_t> rows, std::size_t count,
                 const std::filesystem::path& file) {
  if (rows.empty() || rows.back() < count) return;
  const auto i = static_cast<std::size_t>(std::lower_bound(rows.begin(), rows.end(), count) - rows.begin());
  throw std::invalid_argument(fn + ": rows[" + std::to_string(i) + "] = " + std::to_string(rows[i]) +
                              ", expected a row below " + std::to_string(count) + ", the record count of " +
                              quoted(file));
}

// The first dimension of a read: the rows kept.
std::size_t selected(const IdxReader& r, Rows rows) { return rows ? rows->size() : r.dims()[0]; }

IdxArray read_array(const std::string& fn, const std::filesystem::path& file, std::size_t dimensions, Rows rows) {
  check_dimensions(fn, dimensions);
  if (rows) check_increasing(fn, *rows);
  IdxReader r(file, dimensions);
  if (rows) check_below(fn, *rows, r.dims()[0], file);
  IdxArray a;
  a.dims = r.dims();
  a.dims[0] = selected(r, rows);
  a.data.reserve(a.dims[0] * r.record_bytes());  // address space only: pages are touched as data arrives
  r.read_data(rows, [&](const std::uint8_t* chunk, std::size_t n, std::size_t) {
    a.data.insert(a.data.end(), chunk, chunk + n);
  });
  return a;
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& file, std::size_t dimensions) {
  return read_array("curv::datasets::read_idx", file, dimensions, std::nullopt);
}

std::vector<std::size_t> read_idx_dims(const std::filesystem::path& file, std::size_t dimensions) {
  check_dimensions("curv::datasets::read_idx_dims", dimensions);
  return IdxReader(file, dimensions).dims();
}

IdxArray read_idx_rows(const std::filesystem::path& file, std::size_t dimensions, std::span<const std::size_t> rows) {
  return read_array("curv::datasets::read_idx_rows", file, dimensions, rows);
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

  // Atomic like every curv writer (nn/atomic_file.hpp): a sibling temporary
  // file, synced and renamed over `file`, the folder synced.
  const std::filesystem::path tmp = nn::temp_path_beside(file);
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
  try {
    nn::commit_file(tmp, file);
  } catch (const std::runtime_error& e) {
    throw failed(e.what());
  }
}

namespace {

// The records `rows` (all for std::nullopt) of an open reader as images
// (rows, 1, height, width) scaled to [0, 1].
template <class T>
Tensor<T> images_of(IdxReader& r, Rows rows) {
  std::array<T, 256> scale;
  for (std::size_t v = 0; v < 256; ++v) scale[v] = static_cast<T>(v) / T(255);
  Tensor<T> images = Tensor<T>::from_shape({selected(r, rows), std::size_t(1), r.dims()[1], r.dims()[2]});
  T* out = images.data();
  r.read_data(rows, [&](const std::uint8_t* chunk, std::size_t n, std::size_t first) {
    for (std::size_t i = 0; i < n; ++i) out[first + i] = scale[chunk[i]];
  });
  return images;
}

template <class T>
Tensor<T> labels_of(IdxReader& r, Rows rows) {
  Tensor<T> labels = Tensor<T>::from_shape({selected(r, rows)});
  T* out = labels.data();
  r.read_data(rows, [&](const std::uint8_t* chunk, std::size_t n, std::size_t first) {
    for (std::size_t i = 0; i < n; ++i) out[first + i] = static_cast<T>(chunk[i]);
  });
  return labels;
}

template <class T>
Tensor<T> read_images(const std::string& fn, const std::filesystem::path& file, Rows rows) {
  if (rows) check_increasing(fn, *rows);
  IdxReader r(file, 3);
  if (rows) check_below(fn, *rows, r.dims()[0], file);
  return images_of<T>(r, rows);
}

template <class T>
Tensor<T> read_labels(const std::string& fn, const std::filesystem::path& file, Rows rows) {
  if (rows) check_increasing(fn, *rows);
  IdxReader r(file, 1);
  if (rows) check_below(fn, *rows, r.dims()[0], file);
  return labels_of<T>(r, rows);
}

// Both headers are read and their counts compared before either body; row i
// of the result is record rows[i] (or i) of both files.
template <class T>
TensorDataset<T> read_dataset(const std::string& fn, const std::filesystem::path& images,
                              const std::filesystem::path& labels, Rows rows) {
  if (rows) check_increasing(fn, *rows);
  IdxReader y_reader(labels, 1);
  IdxReader x_reader(images, 3);
  const std::size_t count = x_reader.dims()[0];
  if (count != y_reader.dims()[0])
    throw IdxError(fn + ": " + quoted(images) + " holds " + std::to_string(count) +
                       " images (count at byte offset 4) but " + quoted(labels) + " holds " +
                       std::to_string(y_reader.dims()[0]) + " labels (count at byte offset 4); expected the same count",
                   images, 4);
  if (rows) check_below(fn, *rows, count, images);
  Tensor<T> y = labels_of<T>(y_reader, rows);
  Tensor<T> x = images_of<T>(x_reader, rows);
  Provenance read(images.filename().string(), labels.filename().string(), count);
  return TensorDataset<T>(std::move(x), std::move(y), rows ? read.subset(*rows) : std::move(read));
}

}  // namespace

template <class T>
Tensor<T> read_idx_images(const std::filesystem::path& file) {
  return read_images<T>("curv::datasets::read_idx_images", file, std::nullopt);
}

template <class T>
Tensor<T> read_idx_images(const std::filesystem::path& file, std::span<const std::size_t> rows) {
  return read_images<T>("curv::datasets::read_idx_images", file, rows);
}

template <class T>
Tensor<T> read_idx_labels(const std::filesystem::path& file) {
  return read_labels<T>("curv::datasets::read_idx_labels", file, std::nullopt);
}

template <class T>
Tensor<T> read_idx_labels(const std::filesystem::path& file, std::span<const std::size_t> rows) {
  return read_labels<T>("curv::datasets::read_idx_labels", file, rows);
}

template <class T>
TensorDataset<T> read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels) {
  return read_dataset<T>("curv::datasets::read_idx_dataset", images, labels, std::nullopt);
}

template <class T>
TensorDataset<T> read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                                  std::span<const std::size_t> rows) {
  return read_dataset<T>("curv::datasets::read_idx_dataset", images, labels, rows);
}

std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path plain = dir / name;
  const std::filesystem::path gz = dir / (name + ".gz");
  for (const std::filesystem::path& p : {plain, gz}) {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);  // follows symbolic links
    if (std::filesystem::is_regular_file(st)) return p;
    if (std::filesystem::is_directory(st))
      throw std::runtime_error("curv::datasets::find_idx_file: " + quoted(p) + " is a directory, expected an IDX file");
    if (std::filesystem::exists(st))
      throw std::runtime_error("curv::datasets::find_idx_file: " + quoted(p) +
                               " is not a regular file (a device, pipe or socket), expected an IDX file");
  }
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
  if (data.train.size() == 0)
    throw IdxError("curv::datasets::load_mnist: " + quoted(train_images) +
                       " holds 0 images (count at byte offset 4); expected at least one training image",
                   train_images, 4);
  data.test = read_idx_dataset<T>(test_images, test_labels);
  return data;
}

template Tensor<float> read_idx_images(const std::filesystem::path&);
template Tensor<double> read_idx_images(const std::filesystem::path&);
template Tensor<float> read_idx_labels(const std::filesystem::path&);
template Tensor<double> read_idx_labels(const std::filesystem::path&);
template TensorDataset<float> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
template TensorDataset<double> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&);
template Tensor<float> read_idx_images(const std::filesystem::path&, std::span<const std::size_t>);
template Tensor<double> read_idx_images(const std::filesystem::path&, std::span<const std::size_t>);
template Tensor<float> read_idx_labels(const std::filesystem::path&, std::span<const std::size_t>);
template Tensor<double> read_idx_labels(const std::filesystem::path&, std::span<const std::size_t>);
template TensorDataset<float> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&,
                                               std::span<const std::size_t>);
template TensorDataset<double> read_idx_dataset(const std::filesystem::path&, const std::filesystem::path&,
                                                std::span<const std::size_t>);
template TrainTest<float> load_mnist(const std::filesystem::path&);
template TrainTest<double> load_mnist(const std::filesystem::path&);

}  // namespace curv::datasets
