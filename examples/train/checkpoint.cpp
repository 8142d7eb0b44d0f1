// curv-train's checkpoint file: records, a length and a checksum.
#include "train/checkpoint.hpp"

#include <fstream>
#include <iterator>
#include <sstream>

#include <curv/nn/atomic_file.hpp>

namespace curv::examples {

namespace {

constexpr char kMagic[8] = {'C', 'U', 'R', 'V', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t kVersion = 1;
enum Kind : std::uint8_t { setting = 1, scalar = 2, counter = 3, tensor = 4 };

std::uint64_t fnv1a(const char* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <class V>
void put(std::string& out, const V& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_string(std::string& out, const std::string& s) {
  put(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

// Reads the payload, naming the byte offset of what is malformed.
class Reader {
 public:
  Reader(const std::string& data, std::size_t begin, std::size_t end) : d_(data), pos_(begin), end_(end) {}
  bool done() const { return pos_ >= end_; }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return end_ - pos_; }

  template <class V>
  V get(const char* what) {
    need(sizeof(V), what);
    V v;
    std::memcpy(&v, d_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string get_string(const char* what) {
    const auto n = get<std::uint32_t>(what);
    need(n, what);
    std::string s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<char> get_bytes(std::size_t n, const char* what) {
    need(n, what);
    std::vector<char> b(d_.begin() + static_cast<std::ptrdiff_t>(pos_),
                        d_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (n > end_ - pos_)
      throw CheckpointError(std::string("truncated record: ") + what + " at byte " + std::to_string(pos_) +
                            " needs " + std::to_string(n) + " bytes, " + std::to_string(end_ - pos_) + " left");
  }
  const std::string& d_;
  std::size_t pos_;
  std::size_t end_;
};

}  // namespace

double Checkpoint::scalar(const std::string& name) const {
  const auto it = scalars.find(name);
  if (it == scalars.end()) throw CheckpointError("the checkpoint has no scalar '" + name + "'");
  return it->second;
}

std::uint64_t Checkpoint::counter(const std::string& name) const {
  const auto it = counters.find(name);
  if (it == counters.end()) throw CheckpointError("the checkpoint has no counter '" + name + "'");
  return it->second;
}

void Checkpoint::write(const std::filesystem::path& path) const {
  std::string payload;
  for (const auto& [k, v] : settings) {
    put(payload, Kind::setting);
    put_string(payload, k);
    put_string(payload, v);
  }
  for (const auto& [k, v] : scalars) {
    put(payload, Kind::scalar);
    put_string(payload, k);
    put(payload, v);
  }
  for (const auto& [k, v] : counters) {
    put(payload, Kind::counter);
    put_string(payload, k);
    put(payload, v);
  }
  for (const auto& [k, v] : tensors_) {
    put(payload, Kind::tensor);
    put_string(payload, k);
    put(payload, v.element_size);
    put(payload, static_cast<std::uint64_t>(v.bytes.size() / v.element_size));
    payload.append(v.bytes.data(), v.bytes.size());
  }
  std::string header(kMagic, sizeof kMagic);
  put(header, kVersion);
  put(header, static_cast<std::uint64_t>(payload.size()));
  std::string trailer;
  put(trailer, fnv1a(payload.data(), payload.size()));
  nn::write_file_atomic(path, [&](std::ostream& out) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.write(trailer.data(), static_cast<std::streamsize>(trailer.size()));
  });
}

// The header is read and checked first, the announced payload size against
// the file's real size; every size inside the payload (a name, a text, a
// tensor's element count × element size) is checked against the bytes left
// before anything is allocated for it. So the reader allocates at most the
// file's size, plus as much again for the records it copies out.
Checkpoint Checkpoint::read(const std::filesystem::path& path) {
  const std::string where = "checkpoint " + path.string() + ": ";
  try {
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st)) throw CheckpointError("cannot open it: no such file");
    if (std::filesystem::is_directory(st)) throw CheckpointError("is a directory, expected a checkpoint file");
    if (!std::filesystem::is_regular_file(st))
      throw CheckpointError("is not a regular file (a device, pipe or socket), expected a checkpoint file");
    std::ifstream in(path, std::ios::binary);
    const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
    if (!in || ec) throw CheckpointError("cannot open it");
    constexpr std::size_t head = sizeof kMagic + sizeof(std::uint32_t) + sizeof(std::uint64_t);
    constexpr std::size_t trailer = sizeof(std::uint64_t);
    if (file_size < head + trailer)
      throw CheckpointError("file of " + std::to_string(file_size) + " bytes is too short to be a checkpoint (expected at least " +
                            std::to_string(head + trailer) + ")");
    std::string data(head, '\0');
    if (!in.read(data.data(), head)) throw CheckpointError("cannot read its first " + std::to_string(head) + " bytes");
    if (data.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0)
      throw CheckpointError("not a curv checkpoint (magic number at byte 0 is not CURVCKPT)");
    Reader r(data, sizeof kMagic, data.size());
    const auto version = r.get<std::uint32_t>("version");
    if (version != kVersion)
      throw CheckpointError("format version " + std::to_string(version) + ", this program reads version " +
                            std::to_string(kVersion));
    const auto size = r.get<std::uint64_t>("payload size");
    if (size != file_size - head - trailer)
      throw CheckpointError("payload of " + std::to_string(size) + " bytes announced at byte 12, but the file holds " +
                            std::to_string(file_size - head - trailer) + " (truncated or extended)");
    // The announced size is now the file's own: read the payload and the checksum.
    data.resize(static_cast<std::size_t>(file_size));
    in.read(data.data() + head, static_cast<std::streamsize>(file_size - head));
    if (static_cast<std::uintmax_t>(in.gcount()) != file_size - head || in.peek() != std::char_traits<char>::eof())
      throw CheckpointError("the file changed size while it was read (expected " + std::to_string(file_size) + " bytes)");
    std::uint64_t stored;
    std::memcpy(&stored, data.data() + head + size, sizeof stored);
    const std::uint64_t computed = fnv1a(data.data() + head, size);
    if (stored != computed) throw CheckpointError("checksum mismatch: the file is corrupt");

    Checkpoint c;
    Reader p(data, head, head + size);
    auto once = [&](const auto& records, const char* kind, const std::string& name, std::size_t at) {
      if (records.count(name))
        throw CheckpointError("a second " + std::string(kind) + " record '" + name + "' at byte " + std::to_string(at) +
                              " (expected one record per name)");
    };
    while (!p.done()) {
      const std::size_t at = p.pos();
      const auto kind = p.get<std::uint8_t>("record kind");
      const std::string name = p.get_string("record name");
      switch (kind) {
        case Kind::setting:
          once(c.settings, "setting", name, at);
          c.settings[name] = p.get_string("setting value");
          break;
        case Kind::scalar:
          once(c.scalars, "scalar", name, at);
          c.scalars[name] = p.get<double>("scalar value");
          break;
        case Kind::counter:
          once(c.counters, "counter", name, at);
          c.counters[name] = p.get<std::uint64_t>("counter value");
          break;
        case Kind::tensor: {
          once(c.tensors_, "tensor", name, at);
          Raw raw;
          raw.element_size = p.get<std::uint8_t>("element size");
          if (raw.element_size != 4 && raw.element_size != 8)
            throw CheckpointError("tensor '" + name + "' at byte " + std::to_string(at) + " has element size " +
                                  std::to_string(raw.element_size) + ", expected 4 or 8");
          const auto n = p.get<std::uint64_t>("element count");
          if (n > p.left() / raw.element_size)
            throw CheckpointError("tensor '" + name + "' at byte " + std::to_string(at) + " claims " + std::to_string(n) +
                                  " elements of " + std::to_string(raw.element_size) + " bytes, but only " +
                                  std::to_string(p.left()) + " bytes of the payload are left");
          raw.bytes = p.get_bytes(static_cast<std::size_t>(n) * raw.element_size, "tensor data");
          c.tensors_[name] = std::move(raw);
          break;
        }
        default:
          throw CheckpointError("unknown record kind " + std::to_string(kind) + " at byte " + std::to_string(at) +
                                " (expected 1 to 4)");
      }
    }
    return c;
  } catch (const CheckpointError& e) {
    throw CheckpointError(where + e.what());
  }
}

}  // namespace curv::examples
