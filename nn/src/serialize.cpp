// .npy / .npz reading and writing for curv::nn (see serialize.hpp). The NPY
// format is NumPy's "NEP 1"; the ZIP container follows PKWARE's APPNOTE with
// stored (or, on reading, deflated) entries and CRC-32 from zlib.
#include "curv/nn/serialize.hpp"

#include "curv/nn/atomic_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace curv::nn {

namespace {

static_assert(std::endian::native == std::endian::little, "curv's npy writer assumes a little-endian machine");

using Bytes = std::vector<unsigned char>;

[[noreturn]] void fail(std::string_view fn, const std::filesystem::path& path, const std::string& why) {
  throw std::invalid_argument("curv::nn::" + std::string(fn) + ": " + path.string() + ": " + why);
}

template <class T>
constexpr const char* descr() {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

// ---- NPY -----------------------------------------------------------------

// The NPY 1.0 header of an array of dtype `descr` and `shape`: magic,
// version, length, and a Python dict padded with spaces so that the data
// starts at a multiple of 64 bytes.
std::string npy_header(std::string_view dtype, const Shape& shape_of) {
  std::string shape = "(";
  for (std::size_t i = 0; i < shape_of.size(); ++i) shape += std::to_string(shape_of[i]) + ", ";
  if (!shape_of.empty()) shape.resize(shape.size() - (shape_of.size() == 1 ? 1 : 2));
  shape += ")";
  std::string header = "{'descr': '" + std::string(dtype) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;  // magic(6) version(2) length(2) header '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  const auto len = static_cast<std::uint16_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + header;
}

// Limits on what a file may claim, checked before anything is allocated.
// NumPy's own default max_header_size: a longer header is refused unparsed.
constexpr std::size_t max_npy_header = 10000;
// NumPy 2's NPY_MAXDIMS.
constexpr std::size_t max_npy_dimensions = 64;
// Deflate codes at most 258 bytes with a match of 1 bit after the first
// block, so no stream inflates more than 1032 times its size (zlib's
// "Maximum Compression Factor"): an entry that claims more is refused unread.
constexpr std::uint64_t max_deflate_ratio = 1032;

// `text` fit for an error message: printable ASCII as is, other bytes as \xNN, at most 80 shown.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > 80) out += "...";
  return out;
}

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// The header dict of an npy file, parsed strictly as the Python literal
// NumPy writes — {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// then spaces up to a final '\n' — with each of the three keys exactly once.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, std::string_view fn, const std::filesystem::path& path)
      : s_(text), fn_(fn), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen[3] = {false, false, false};
    expect('{', "'{' opening the header dict");
    while (!accept('}')) {
      const std::size_t key_at = at_;
      const std::string key = string_literal("a key ('descr', 'fortran_order' or 'shape')");
      const int k = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
      if (k < 0) at_ = key_at, error("one of the keys 'descr', 'fortran_order', 'shape'");
      if (seen[k]) at_ = key_at, error("each key once, but '" + key + "' appears again");
      seen[k] = true;
      expect(':', "':' after the key '" + key + "'");
      if (k == 0) h.descr = string_literal("a dtype string such as '<f8'");
      if (k == 1) h.fortran_order = boolean();
      if (k == 2) h.shape = tuple();
      if (!accept(',')) {
        expect('}', "',' or '}' after the value of '" + key + "'");
        break;
      }
    }
    while (at_ < s_.size() && s_[at_] == ' ') ++at_;
    if (at_ + 1 != s_.size() || s_[at_] != '\n') error("spaces and a final '\\n' after the header dict");
    for (int k = 0; k < 3; ++k)
      if (!seen[k])
        fail(fn_, path_, std::string("the npy header has no '") + (k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape") +
                             "' (expected 'descr', 'fortran_order' and 'shape')");
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& expected) const {
    std::string found = at_ >= s_.size() ? "the end of the header" : "'" + printable(s_.substr(at_, 16)) + "'";
    // The header starts after the magic string, version and length.
    fail(fn_, path_, "npy header at character " + std::to_string(at_) + ": expected " + expected + ", found " + found);
  }
  void skip_spaces() {
    while (at_ < s_.size() && s_[at_] == ' ') ++at_;
  }
  bool accept(char c) {
    skip_spaces();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void expect(char c, const std::string& what) {
    if (!accept(c)) error(what);
  }
  std::string string_literal(const std::string& what) {
    skip_spaces();
    if (at_ >= s_.size() || (s_[at_] != '\'' && s_[at_] != '"')) error(what);
    const char quote = s_[at_];
    const std::size_t close = s_.find(quote, at_ + 1);
    if (close == std::string_view::npos) error(what + " closed by " + quote);
    const std::string_view value = s_.substr(at_ + 1, close - at_ - 1);
    if (value.find('\\') != std::string_view::npos) error(what + " without escapes");
    at_ = close + 1;
    return std::string(value);
  }
  bool boolean() {
    skip_spaces();
    if (s_.substr(at_, 4) == "True") return at_ += 4, true;
    if (s_.substr(at_, 5) == "False") return at_ += 5, false;
    error("True or False for 'fortran_order'");
  }
  std::size_t dimension() {
    skip_spaces();
    if (at_ < s_.size() && s_[at_] == '-') error("a non-negative dimension");
    if (at_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[at_]))) error("a dimension (a decimal integer)");
    const std::size_t begin = at_;
    std::uint64_t d = 0;
    for (; at_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[at_])); ++at_) {
      if (d > (std::uint64_t(1) << 62) / 10) at_ = begin, error("a dimension below 2^62");
      d = 10 * d + static_cast<std::uint64_t>(s_[at_] - '0');
    }
    return static_cast<std::size_t>(d);
  }
  // (), (n,), (n, m), (n, m, ...) with an optional trailing comma.
  Shape tuple() {
    expect('(', "'(' opening the shape tuple");
    Shape shape;
    while (!accept(')')) {
      if (shape.size() == max_npy_dimensions) error("at most " + std::to_string(max_npy_dimensions) + " dimensions");
      shape.push_back(dimension());
      if (!accept(',')) {
        if (shape.size() == 1) error("',' after the dimension (a shape of one dimension is written (n,))");
        expect(')', "',' or ')' in the shape tuple");
        break;
      }
    }
    return shape;
  }

  std::string_view s_;
  std::size_t at_ = 0;
  std::string_view fn_;
  const std::filesystem::path& path_;
};

// An npy array from `size` bytes at `p`: the magic string, version and header
// length first, then the header (bounded, parsed strictly), then the data,
// whose size must be exactly what the shape and dtype say.
template <class T>
Tensor<T> parse_npy(const unsigned char* p, std::size_t size, std::string_view fn, const std::filesystem::path& path) {
  if (size < 10 || p[0] != 0x93 || std::memcmp(p + 1, "NUMPY", 5) != 0)
    fail(fn, path, "not an npy array: expected the magic string \\x93NUMPY at byte 0, found '" +
                       printable(std::string_view(reinterpret_cast<const char*>(p), std::min<std::size_t>(size, 6))) +
                       "'" + (size < 10 ? " and only " + std::to_string(size) + " bytes" : ""));
  std::size_t header_len, start;
  if (p[6] == 1) {
    header_len = p[8] | (std::size_t(p[9]) << 8);
    start = 10;
  } else if (p[6] == 2 || p[6] == 3) {
    if (size < 12) fail(fn, path, "truncated npy header: expected 12 bytes, found " + std::to_string(size));
    header_len = p[8] | (std::size_t(p[9]) << 8) | (std::size_t(p[10]) << 16) | (std::size_t(p[11]) << 24);
    start = 12;
  } else {
    fail(fn, path, "npy format version " + std::to_string(p[6]) + " is not supported (expected 1, 2 or 3)");
  }
  if (header_len > max_npy_header)
    fail(fn, path, "npy header of " + std::to_string(header_len) + " bytes (at byte 8): expected at most " +
                       std::to_string(max_npy_header) + " (NumPy's max_header_size)");
  if (header_len > size - start)
    fail(fn, path, "truncated npy header: its length at byte 8 says " + std::to_string(header_len) +
                       " bytes, the data holds " + std::to_string(size - start) + " after byte " + std::to_string(start));
  const NpyHeader h =
      NpyHeaderParser(std::string_view(reinterpret_cast<const char*>(p + start), header_len), fn, path).parse();
  const std::size_t width = h.descr == "<f4" ? 4 : h.descr == "<f8" ? 8 : 0;
  if (width == 0) fail(fn, path, "dtype '" + printable(h.descr) + "' is not supported (expected '<f4' or '<f8')");
  if (h.fortran_order) fail(fn, path, "Fortran-ordered arrays are not supported (expected 'fortran_order': False)");
  const std::size_t available = size - start - header_len;
  std::size_t bytes = width;
  for (std::size_t d : h.shape)
    if (__builtin_mul_overflow(bytes, d, &bytes))
      fail(fn, path, "shape " + shape_string(h.shape) + " of " + std::to_string(width) +
                         "-byte elements holds more than 2^64 bytes; the data holds " + std::to_string(available));
  if (available != bytes)
    fail(fn, path, "data holds " + std::to_string(available) + " bytes after byte " + std::to_string(start + header_len) +
                       ", expected " + std::to_string(bytes) + " for shape " + shape_string(h.shape) + " of " +
                       h.descr);
  const std::size_t count = bytes / width;
  const unsigned char* data = p + start + header_len;
  Tensor<T> a = Tensor<T>::from_shape(h.shape);
  for (std::size_t i = 0; i < count; ++i) {
    if (width == 4) {
      float x;
      std::memcpy(&x, data + 4 * i, 4);
      a.data()[i] = static_cast<T>(x);
    } else {
      double x;
      std::memcpy(&x, data + 8 * i, 8);
      a.data()[i] = static_cast<T>(x);
    }
  }
  return a;
}

// ---- files ---------------------------------------------------------------

// The whole file, after checking that it is a regular file: what is
// allocated is its real size, nothing the file claims.
Bytes read_file(std::string_view fn, const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    fail(fn, path, "cannot open the file for reading" + (ec ? ": " + ec.message() : std::string(": no such file")));
  if (std::filesystem::is_directory(st)) fail(fn, path, "is a directory, expected a file");
  if (!std::filesystem::is_regular_file(st)) fail(fn, path, "is not a regular file (a device, pipe or socket)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(fn, path, "cannot open the file for reading");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(fn, path, "cannot read its size: " + ec.message());
  Bytes bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::uintmax_t>(in.gcount()) != size || in.peek() != std::char_traits<char>::eof())
    fail(fn, path, "the file changed size while it was read (expected " + std::to_string(size) + " bytes)");
  return bytes;
}

// ---- ZIP -----------------------------------------------------------------

void put_le(std::ostream& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint32_t get16(const Bytes& b, std::size_t at) { return b[at] | (std::uint32_t(b[at + 1]) << 8); }
std::uint32_t get32(const Bytes& b, std::size_t at) { return get16(b, at) | (get16(b, at + 2) << 16); }

// One stored entry "<name>.npy" of an archive: its npy header and its array's bytes.
struct ZipEntry {
  std::string name, header;
  const unsigned char* data = nullptr;
  std::size_t bytes = 0;
  std::uint32_t crc = 0;
  std::uint64_t offset = 0;
  std::uint64_t size() const { return header.size() + bytes; }
};

std::uint32_t crc32_of(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  for (std::size_t at = 0; at < n;) {  // zlib takes at most 4 GiB at a time
    const std::size_t chunk = std::min<std::size_t>(n - at, std::size_t(1) << 30);
    crc = static_cast<std::uint32_t>(crc32(crc, p + at, static_cast<uInt>(chunk)));
    at += chunk;
  }
  return crc;
}

// A ZIP of stored (uncompressed) entries, as numpy.savez writes it, with a
// fixed timestamp so that the same arrays give the same bytes.
void write_zip_stored(std::ostream& out, const std::vector<ZipEntry>& entries) {
  constexpr std::uint32_t dos_time = 0, dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01 00:00
  std::uint64_t end = 0, central = 0;
  for (const ZipEntry& e : entries) {
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, dos_time, 2), put_le(out, dos_date, 2);
    put_le(out, e.crc, 4), put_le(out, e.size(), 4), put_le(out, e.size(), 4);
    put_le(out, e.name.size(), 2), put_le(out, 0, 2);
    out << e.name << e.header;
    out.write(reinterpret_cast<const char*>(e.data), static_cast<std::streamsize>(e.bytes));
    end = e.offset + 30 + e.name.size() + e.size();
  }
  for (const ZipEntry& e : entries) {
    put_le(out, 0x02014b50, 4);
    put_le(out, 20, 2), put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2);
    put_le(out, dos_time, 2), put_le(out, dos_date, 2);
    put_le(out, e.crc, 4), put_le(out, e.size(), 4), put_le(out, e.size(), 4);
    put_le(out, e.name.size(), 2);
    put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2);
    put_le(out, 0, 4), put_le(out, e.offset, 4);
    out << e.name;
    central += 46 + e.name.size();
  }
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, entries.size(), 2), put_le(out, entries.size(), 2);
  put_le(out, central, 4), put_le(out, end, 4), put_le(out, 0, 2);
}

// One entry of an archive as its central directory and local header describe
// it, every offset and size checked against the file.
struct ZipRecord {
  std::string name;
  std::uint32_t method = 0, crc = 0;
  std::size_t compressed = 0, size = 0;  // bytes in the file, bytes once inflated
  std::size_t data = 0;                  // offset of the (compressed) data in the file
};

// The entry named `name` in the archive `path`, for error messages.
std::filesystem::path entry_path(const std::filesystem::path& path, const std::string& name) {
  std::filesystem::path where = path;
  where += ":" + printable(name);
  return where;
}

// Inflates `in` into exactly `size` bytes, growing the output only as the
// stream really produces data (a false size costs nothing), and refuses a
// stream that ends early, produces more, or is corrupt.
Bytes inflate_raw(const unsigned char* in, std::size_t in_size, std::size_t size, const std::filesystem::path& where) {
  Bytes out(std::min<std::size_t>(size, std::size_t(1) << 20));
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("load_npz", where, "zlib inflateInit2 failed");
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(in_size);
  int rc = Z_OK;
  unsigned char extra;
  while (rc == Z_OK) {
    if (z.total_out == out.size() && out.size() < size) out.resize(std::min(size, 2 * out.size()));
    if (z.total_out < out.size()) {
      z.next_out = out.data() + z.total_out;
      z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - z.total_out, 1u << 30));
    } else {
      z.next_out = &extra;  // all `size` bytes are in: any more is an error
      z.avail_out = 1;
    }
    rc = inflate(&z, Z_NO_FLUSH);  // Z_BUF_ERROR: no progress, the input ended
    if (z.total_out > size) break;
  }
  const std::size_t produced = z.total_out;
  const char* message = z.msg;
  inflateEnd(&z);
  if (produced > size)
    fail("load_npz", where, "inflates to more than the " + std::to_string(size) +
                                " bytes its central directory records");
  if (rc != Z_STREAM_END)
    fail("load_npz", where, "expected a complete deflate stream inflating to " + std::to_string(size) +
                                " bytes, found " + (message ? std::string("an error (zlib: ") + message + ")" :
                                                    "the end of its data after " + std::to_string(produced) +
                                                        " bytes"));
  if (produced != size)
    fail("load_npz", where, "inflates to " + std::to_string(produced) + " bytes, its central directory records " +
                                std::to_string(size));
  return out;
}

// The entries of a ZIP archive (no ZIP64, no encryption, one disk), with
// every offset and length checked against the file before it is followed.
std::vector<ZipRecord> zip_directory(const Bytes& b, const std::filesystem::path& path) {
  constexpr std::size_t eocd_size = 22, central_size = 46, local_size = 30;
  if (b.size() < eocd_size)
    fail("load_npz", path, "a file of " + std::to_string(b.size()) +
                               " bytes is too short to be a ZIP (.npz) archive (expected at least 22)");
  std::size_t eocd = b.size() - eocd_size;
  const std::size_t floor = b.size() > eocd_size + 65535 ? b.size() - eocd_size - 65535 : 0;
  while (get32(b, eocd) != 0x06054b50) {
    if (eocd == floor)
      fail("load_npz", path, "no ZIP end-of-central-directory record in the last 65557 bytes (not an .npz archive)");
    --eocd;
  }
  const std::string at_eocd = "the end-of-central-directory record at byte " + std::to_string(eocd);
  if (get16(b, eocd + 4) != 0 || get16(b, eocd + 6) != 0 || get16(b, eocd + 8) != get16(b, eocd + 10))
    fail("load_npz", path, at_eocd + " describes a multi-disk archive, which is not supported");
  const std::size_t count = get16(b, eocd + 10);
  const std::size_t cd_size = get32(b, eocd + 12), cd_offset = get32(b, eocd + 16);
  if (cd_offset > eocd || cd_size > eocd - cd_offset)
    fail("load_npz", path, at_eocd + " places the central directory at bytes " + std::to_string(cd_offset) + " to " +
                               std::to_string(std::uint64_t(cd_offset) + cd_size) + ", expected it to end by byte " +
                               std::to_string(eocd));
  if (count > cd_size / central_size)
    fail("load_npz", path, at_eocd + " counts " + std::to_string(count) + " entries, but its " +
                               std::to_string(cd_size) + "-byte central directory holds at most " +
                               std::to_string(cd_size / central_size));
  std::vector<ZipRecord> records;
  std::size_t at = cd_offset;
  const std::size_t cd_end = cd_offset + cd_size;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string entry = "central directory entry " + std::to_string(i) + " at byte " + std::to_string(at);
    if (central_size > cd_end - at || get32(b, at) != 0x02014b50)
      fail("load_npz", path, entry + ": expected the signature PK\\x01\\x02 within the central directory");
    ZipRecord r;
    const std::uint32_t flags = get16(b, at + 8);
    r.method = get16(b, at + 10);
    r.crc = get32(b, at + 16);
    r.compressed = get32(b, at + 20);
    r.size = get32(b, at + 24);
    const std::size_t name_len = get16(b, at + 28), extra_len = get16(b, at + 30), comment_len = get16(b, at + 32);
    const std::size_t local = get32(b, at + 42);
    if (name_len + extra_len + comment_len > cd_end - at - central_size)
      fail("load_npz", path, entry + ": its name, extra field and comment (" +
                                 std::to_string(name_len + extra_len + comment_len) +
                                 " bytes) run past the end of the central directory");
    r.name.assign(reinterpret_cast<const char*>(b.data() + at + central_size), name_len);
    at += central_size + name_len + extra_len + comment_len;
    const std::filesystem::path where = entry_path(path, r.name);
    if (r.compressed == 0xffffffffu || r.size == 0xffffffffu || local == 0xffffffffu)
      fail("load_npz", where, "uses ZIP64, which is not supported");
    if (flags & 1) fail("load_npz", where, "is encrypted, which is not supported");
    for (const ZipRecord& other : records)
      if (other.name == r.name) fail("load_npz", where, "appears twice in the central directory (expected unique names)");
    if (local >= cd_offset || local_size > cd_offset - local || get32(b, local) != 0x04034b50)
      fail("load_npz", where, "expected a local header (PK\\x03\\x04) at byte " + std::to_string(local) +
                                  ", before the central directory at byte " + std::to_string(cd_offset));
    const std::size_t local_name = get16(b, local + 26), local_extra = get16(b, local + 28);
    r.data = local + local_size + local_name + local_extra;
    if (r.data > cd_offset || r.compressed > cd_offset - r.data)
      fail("load_npz", where, "its data (" + std::to_string(r.compressed) + " bytes from byte " +
                                  std::to_string(r.data) + ") runs past the central directory at byte " +
                                  std::to_string(cd_offset) + " (truncated)");
    if (std::string_view(reinterpret_cast<const char*>(b.data() + local + local_size), local_name) != r.name)
      fail("load_npz", where, "its local header at byte " + std::to_string(local) + " names '" +
                                  printable(std::string_view(reinterpret_cast<const char*>(b.data() + local + local_size),
                                                             local_name)) +
                                  "', expected the central directory's name");
    if (r.method == 0 && r.compressed != r.size)
      fail("load_npz", where, "is stored uncompressed in " + std::to_string(r.compressed) +
                                  " bytes, but its size is recorded as " + std::to_string(r.size));
    if (r.method == 8 && r.size > max_deflate_ratio * r.compressed)
      fail("load_npz", where, "claims to inflate " + std::to_string(r.compressed) + " bytes into " +
                                  std::to_string(r.size) + ", a ratio above deflate's maximum of " +
                                  std::to_string(max_deflate_ratio) + ":1");
    if (r.method != 0 && r.method != 8)
      fail("load_npz", where, "uses compression method " + std::to_string(r.method) +
                                  " (expected 0, stored, or 8, deflate)");
    records.push_back(std::move(r));
  }
  return records;
}

bool is_npy(const std::filesystem::path& path) { return path.extension() == ".npy"; }

}  // namespace

template <class T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& array) {
  const std::string header = npy_header(descr<T>(), Shape(array.shape().begin(), array.shape().end()));
  write_file_atomic(path, [&](std::ostream& out) {
    out << header;
    out.write(reinterpret_cast<const char*>(array.data()), static_cast<std::streamsize>(array.size() * sizeof(T)));
  });
}

void save_npz(const std::filesystem::path& path, const std::vector<NpzArray>& arrays) {
  std::vector<ZipEntry> entries;
  std::uint64_t offset = 0;
  for (const NpzArray& a : arrays) {
    const std::size_t width = a.descr == "<f4" ? 4 : a.descr == "<f8" || a.descr == "<i8" ? 8 : 0;
    if (width == 0)
      fail("save_npz", path, "array '" + a.name + "' has dtype '" + printable(a.descr) +
                                 "', expected '<f4', '<f8' or '<i8'");
    std::size_t bytes = width;
    for (std::size_t d : a.shape)
      if (__builtin_mul_overflow(bytes, d, &bytes)) fail("save_npz", path, "array '" + a.name + "' is too large");
    if (bytes != a.bytes)
      fail("save_npz", path, "array '" + a.name + "' of dtype " + a.descr + " and shape " + shape_string(a.shape) +
                                 " has " + std::to_string(a.bytes) + " bytes, its shape needs " + std::to_string(bytes));
    ZipEntry e;
    e.name = a.name + ".npy";
    e.header = npy_header(a.descr, a.shape);
    e.data = static_cast<const unsigned char*>(a.data);
    e.bytes = a.bytes;
    e.offset = offset;
    offset += 30 + e.name.size() + e.size();
    entries.push_back(std::move(e));
  }
  if (offset >= 0xffffffffull)
    fail("save_npz", path, std::to_string(offset) + " bytes exceed the 4 GiB of a ZIP without ZIP64");
  for (ZipEntry& e : entries)
    e.crc = crc32_of(crc32_of(0, reinterpret_cast<const unsigned char*>(e.header.data()), e.header.size()), e.data,
                     e.bytes);
  write_file_atomic(path, [&](std::ostream& out) { write_zip_stored(out, entries); });
}

template <class T>
Tensor<T> load_npy(const std::filesystem::path& path) {
  const Bytes bytes = read_file("load_npy", path);
  return parse_npy<T>(bytes.data(), bytes.size(), "load_npy", path);
}

// Stored entries are parsed where they lie in the file; a deflated one is
// inflated (into at most 1032 times its compressed size), checked, parsed
// and released before the next.
template <class T>
std::map<std::string, Tensor<T>> load_npz(const std::filesystem::path& path) {
  const Bytes file = read_file("load_npz", path);
  std::map<std::string, Tensor<T>> arrays;
  for (const ZipRecord& r : zip_directory(file, path)) {
    const std::filesystem::path where = entry_path(path, r.name);
    Bytes inflated;
    const unsigned char* data = file.data() + r.data;
    if (r.method == 8) {
      inflated = inflate_raw(data, r.compressed, r.size, where);
      data = inflated.data();
    }
    if (static_cast<std::uint32_t>(crc32(0L, data, static_cast<uInt>(r.size))) != r.crc)
      fail("load_npz", where, "fails its CRC-32 check (the entry is corrupt)");
    std::string name = r.name;
    if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
    if (arrays.count(name)) fail("load_npz", where, "holds a second array named '" + printable(name) + "'");
    arrays.emplace(name, parse_npy<T>(data, r.size, "load_npz", where));
  }
  return arrays;
}

template <class T>
void save_parameters(const std::filesystem::path& path, const Module<T>& module, const Tensor<T>& w) {
  module.check_parameter_vector("save_parameters", w.size());
  if (is_npy(path)) {
    Tensor<T> flat = w;
    flat.reshape({w.size()});
    save_npy(path, flat);
    return;
  }
  std::vector<NpzArray> arrays;
  for (const ParameterInfo& p : module.parameters())
    arrays.push_back({p.name, descr<T>(), p.shape, w.data() + p.offset, p.size() * sizeof(T)});
  save_npz(path, arrays);
}

template <class T>
Tensor<T> load_parameters(const std::filesystem::path& path, const Module<T>& module) {
  const std::string where = "load_parameters for " + module.describe();
  if (is_npy(path)) {
    Tensor<T> w = load_npy<T>(path);
    if (w.dimension() != 1 || w.size() != module.num_parameters())
      fail(where, path, "the flat parameter vector has shape " + shape_string(w.shape()) + ", expected (" +
                            std::to_string(module.num_parameters()) + ",)");
    return w;
  }
  std::map<std::string, Tensor<T>> arrays = load_npz<T>(path);
  const std::vector<ParameterInfo> params = module.parameters();
  Tensor<T> w = xt::zeros<T>({module.num_parameters()});
  for (const ParameterInfo& p : params) {
    auto it = arrays.find(p.name);
    if (it == arrays.end())
      fail(where, path, "parameter '" + p.name + "' of shape " + shape_string(p.shape) + " is missing from the file");
    const Tensor<T>& a = it->second;
    if (!std::equal(a.shape().begin(), a.shape().end(), p.shape.begin(), p.shape.end()))
      fail(where, path, "parameter '" + p.name + "' has shape " + shape_string(a.shape()) + " in the file, expected " +
                            shape_string(p.shape));
    std::copy(a.data(), a.data() + a.size(), w.data() + p.offset);
    arrays.erase(it);
  }
  if (!arrays.empty())
    fail(where, path, "the file holds " + std::to_string(params.size() + arrays.size()) +
                          " arrays, the module has " + std::to_string(params.size()) + " parameters; '" +
                          arrays.begin()->first + "' (shape " + shape_string(arrays.begin()->second.shape()) +
                          ") is not one of them");
  return w;
}

#define CURV_NN_SERIALIZE_INSTANTIATE(T)                                                         \
  template void save_parameters(const std::filesystem::path&, const Module<T>&, const Tensor<T>&); \
  template Tensor<T> load_parameters(const std::filesystem::path&, const Module<T>&);             \
  template void save_npy(const std::filesystem::path&, const Tensor<T>&);                         \
  template Tensor<T> load_npy(const std::filesystem::path&);                                      \
  template std::map<std::string, Tensor<T>> load_npz(const std::filesystem::path&);
CURV_NN_SERIALIZE_INSTANTIATE(float)
CURV_NN_SERIALIZE_INSTANTIATE(double)

}  // namespace curv::nn
