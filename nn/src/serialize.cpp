// .npy / .npz reading and writing for curv::nn (see serialize.hpp). The NPY
// format is NumPy's "NEP 1"; the ZIP container follows PKWARE's APPNOTE with
// stored (or, on reading, deflated) entries and CRC-32 from zlib.
#include "curv/nn/serialize.hpp"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
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

template <class T>
Bytes npy_bytes(const Tensor<T>& a) {
  std::string shape = "(";
  for (std::size_t i = 0; i < a.dimension(); ++i) shape += std::to_string(a.shape(i)) + ", ";
  if (a.dimension() > 0) shape.resize(shape.size() - (a.dimension() == 1 ? 1 : 2));
  shape += ")";
  std::string header = std::string("{'descr': '") + descr<T>() + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;  // magic(6) version(2) length(2) header '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const auto len = static_cast<std::uint16_t>(header.size());
  out.push_back(static_cast<unsigned char>(len & 0xff));
  out.push_back(static_cast<unsigned char>(len >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* data = reinterpret_cast<const unsigned char*>(a.data());
  out.insert(out.end(), data, data + a.size() * sizeof(T));
  return out;
}

// The value of `'key': ` in an npy header dict, up to the matching delimiter.
std::string header_field(std::string_view header, std::string_view key, const std::filesystem::path& path) {
  const std::string quoted = "'" + std::string(key) + "'";
  std::size_t at = header.find(quoted);
  if (at == std::string_view::npos) fail("load_npy", path, "the npy header has no '" + std::string(key) + "'");
  at = header.find(':', at);
  std::size_t begin = header.find_first_not_of(' ', at + 1);
  std::size_t end;
  if (header[begin] == '(') {
    end = header.find(')', begin) + 1;
  } else if (header[begin] == '\'') {
    end = header.find('\'', begin + 1) + 1;
  } else {
    end = header.find_first_of(",}", begin);
  }
  return std::string(header.substr(begin, end - begin));
}

template <class T>
Tensor<T> parse_npy(const unsigned char* p, std::size_t size, const std::filesystem::path& path) {
  if (size < 10 || p[0] != 0x93 || std::memcmp(p + 1, "NUMPY", 5) != 0)
    fail("load_npy", path, "not an npy array (the magic string \\x93NUMPY is missing)");
  std::size_t header_len, start;
  if (p[6] == 1) {
    header_len = p[8] | (std::size_t(p[9]) << 8);
    start = 10;
  } else if (p[6] == 2 || p[6] == 3) {
    if (size < 12) fail("load_npy", path, "truncated npy header");
    header_len = p[8] | (std::size_t(p[9]) << 8) | (std::size_t(p[10]) << 16) | (std::size_t(p[11]) << 24);
    start = 12;
  } else {
    fail("load_npy", path, "npy format version " + std::to_string(p[6]) + " is not supported (expected 1, 2 or 3)");
  }
  if (start + header_len > size) fail("load_npy", path, "truncated npy header");
  const std::string header(reinterpret_cast<const char*>(p + start), header_len);
  const std::string dtype = header_field(header, "descr", path);
  if (header_field(header, "fortran_order", path) != "False")
    fail("load_npy", path, "Fortran-ordered arrays are not supported (expected 'fortran_order': False)");
  const std::string shape_text = header_field(header, "shape", path);
  Shape shape;
  for (std::size_t i = 1; i < shape_text.size();) {
    if (std::isdigit(static_cast<unsigned char>(shape_text[i]))) {
      std::size_t used = 0;
      shape.push_back(std::stoull(shape_text.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  const std::size_t width = dtype == "'<f4'" ? 4 : dtype == "'<f8'" ? 8 : 0;
  if (width == 0) fail("load_npy", path, "dtype " + dtype + " is not supported (expected '<f4' or '<f8')");
  const unsigned char* data = p + start + header_len;
  if (size - start - header_len != count * width)
    fail("load_npy", path, "data holds " + std::to_string(size - start - header_len) + " bytes, expected " +
                               std::to_string(count * width) + " for shape " + shape_string(shape));
  Tensor<T> a = Tensor<T>::from_shape(shape);
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

Bytes read_file(std::string_view fn, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(fn, path, "cannot open the file for reading");
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

// Writes to a temporary file next to `path`, then renames it over `path`.
void write_atomically(std::string_view fn, const std::filesystem::path& path, const Bytes& bytes) {
  static std::atomic<unsigned> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(stamp) + "-" + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(fn, path, "cannot create the temporary file " + tmp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      fail(fn, path, "writing the temporary file " + tmp.string() + " failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    fail(fn, path, "renaming the temporary file failed: " + ec.message());
  }
}

// ---- ZIP -----------------------------------------------------------------

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<unsigned char>(v & 0xff));
  b.push_back(static_cast<unsigned char>((v >> 8) & 0xff));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}
std::uint32_t get16(const Bytes& b, std::size_t at) { return b[at] | (std::uint32_t(b[at + 1]) << 8); }
std::uint32_t get32(const Bytes& b, std::size_t at) { return get16(b, at) | (get16(b, at + 2) << 16); }

struct ZipEntry {
  std::string name;
  Bytes data;
};

Bytes zip_stored(const std::vector<ZipEntry>& entries, const std::filesystem::path& path) {
  constexpr std::uint32_t dos_time = 0, dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01 00:00
  Bytes out, central;
  for (const ZipEntry& e : entries) {
    if (e.data.size() >= 0xffffffffu || out.size() >= 0xffffffffu)
      fail("save_parameters", path, "archive larger than 4 GiB (ZIP64 is not supported)");
    const std::uint32_t crc =
        static_cast<std::uint32_t>(crc32(0L, e.data.data(), static_cast<uInt>(e.data.size())));
    const auto size = static_cast<std::uint32_t>(e.data.size());
    const auto offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20), put16(out, 0), put16(out, 0), put16(out, dos_time), put16(out, dos_date);
    put32(out, crc), put32(out, size), put32(out, size);
    put16(out, static_cast<std::uint32_t>(e.name.size())), put16(out, 0);
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), e.data.begin(), e.data.end());

    put32(central, 0x02014b50);
    put16(central, 20), put16(central, 20), put16(central, 0), put16(central, 0);
    put16(central, dos_time), put16(central, dos_date);
    put32(central, crc), put32(central, size), put32(central, size);
    put16(central, static_cast<std::uint32_t>(e.name.size()));
    put16(central, 0), put16(central, 0), put16(central, 0), put16(central, 0);
    put32(central, 0), put32(central, offset);
    central.insert(central.end(), e.name.begin(), e.name.end());
  }
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  out.insert(out.end(), central.begin(), central.end());
  put32(out, 0x06054b50);
  put16(out, 0), put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size())), put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(central.size())), put32(out, cd_offset);
  put16(out, 0);
  return out;
}

Bytes inflate_raw(const unsigned char* in, std::size_t in_size, std::size_t out_size, const std::filesystem::path& path,
                  const std::string& name) {
  Bytes out(out_size);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("load_npz", path, "zlib inflateInit2 failed");
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(in_size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out_size);
  const int rc = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  if (rc != Z_STREAM_END || z.total_out != out_size)
    fail("load_npz", path, "entry '" + name + "' does not inflate to its recorded size");
  return out;
}

std::vector<ZipEntry> unzip(const Bytes& b, const std::filesystem::path& path) {
  if (b.size() < 22) fail("load_npz", path, "too short to be a ZIP (.npz) archive");
  std::size_t eocd = b.size() - 22;
  const std::size_t floor = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  while (get32(b, eocd) != 0x06054b50) {
    if (eocd == floor) fail("load_npz", path, "no ZIP end-of-central-directory record (not an .npz archive)");
    --eocd;
  }
  const std::size_t count = get16(b, eocd + 10);
  std::size_t at = get32(b, eocd + 16);
  std::vector<ZipEntry> entries;
  for (std::size_t i = 0; i < count; ++i) {
    if (at + 46 > b.size() || get32(b, at) != 0x02014b50) fail("load_npz", path, "corrupt ZIP central directory");
    const std::uint32_t method = get16(b, at + 10), crc = get32(b, at + 16);
    const std::uint32_t csize = get32(b, at + 20), usize = get32(b, at + 24);
    const std::size_t name_len = get16(b, at + 28), extra_len = get16(b, at + 30), comment_len = get16(b, at + 32);
    const std::size_t local = get32(b, at + 42);
    if (at + 46 + name_len > b.size()) fail("load_npz", path, "corrupt ZIP central directory");
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(b.data() + at + 46), name_len);
    at += 46 + name_len + extra_len + comment_len;
    if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu)
      fail("load_npz", path, "entry '" + e.name + "' uses ZIP64, which is not supported");
    if (local + 30 > b.size() || get32(b, local) != 0x04034b50)
      fail("load_npz", path, "entry '" + e.name + "' has no valid local header");
    const std::size_t data = local + 30 + get16(b, local + 26) + get16(b, local + 28);
    if (data + csize > b.size()) fail("load_npz", path, "entry '" + e.name + "' is truncated");
    if (method == 0) {
      e.data.assign(b.begin() + static_cast<std::ptrdiff_t>(data),
                    b.begin() + static_cast<std::ptrdiff_t>(data + csize));
    } else if (method == 8) {
      e.data = inflate_raw(b.data() + data, csize, usize, path, e.name);
    } else {
      fail("load_npz", path, "entry '" + e.name + "' uses compression method " + std::to_string(method) +
                                 " (expected 0, stored, or 8, deflate)");
    }
    if (static_cast<std::uint32_t>(crc32(0L, e.data.data(), static_cast<uInt>(e.data.size()))) != crc)
      fail("load_npz", path, "entry '" + e.name + "' fails its CRC-32 check");
    entries.push_back(std::move(e));
  }
  return entries;
}

bool is_npy(const std::filesystem::path& path) { return path.extension() == ".npy"; }

}  // namespace

template <class T>
void save_npy(const std::filesystem::path& path, const Tensor<T>& array) {
  write_atomically("save_npy", path, npy_bytes(array));
}

template <class T>
Tensor<T> load_npy(const std::filesystem::path& path) {
  const Bytes bytes = read_file("load_npy", path);
  return parse_npy<T>(bytes.data(), bytes.size(), path);
}

template <class T>
std::map<std::string, Tensor<T>> load_npz(const std::filesystem::path& path) {
  std::map<std::string, Tensor<T>> arrays;
  for (const ZipEntry& e : unzip(read_file("load_npz", path), path)) {
    std::string name = e.name;
    if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
    std::filesystem::path where = path;
    where += ":" + e.name;
    arrays.emplace(name, parse_npy<T>(e.data.data(), e.data.size(), where));
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
  std::vector<ZipEntry> entries;
  for (const ParameterInfo& p : module.parameters()) {
    Tensor<T> a = Tensor<T>::from_shape(p.shape);
    std::copy(w.data() + p.offset, w.data() + p.offset + p.size(), a.data());
    entries.push_back({p.name + ".npy", npy_bytes(a)});
  }
  write_atomically("save_parameters", path, zip_stored(entries, path));
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
