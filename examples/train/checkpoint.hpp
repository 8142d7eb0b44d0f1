// curv-train's checkpoint: model parameters and the full optimizer state in
// one self-checking binary file, written atomically.
//
// Layout (little-endian, as the machine writes it; a checkpoint is read back
// on the machine kind that wrote it):
//   "CURVCKPT"  u32 version  u64 payload bytes  payload  u64 FNV-1a of payload
// The payload is a sequence of records, each a kind byte, a name and a value:
//   setting  name → text     what must match for a resume (dataset, model, …)
//   scalar   name → f64      λ, λ̄, loss, seconds, … (bit-exact)
//   counter  name → u64      iteration, step, epoch, …
//   tensor   name → element size u8, count u64, raw elements (w, p, r, m, v)
// Reading checks the magic number, the version and the length (against the
// file's real size) before it reads the payload, and the checksum before
// anything is used; every size inside (a name, a text, element count ×
// element size, which is 4 or 8) is checked against the bytes left before
// anything is allocated for it, and a second record of a kind and name is
// refused. A checkpoint that fails any check is refused.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <curv/autodiff/tensor.hpp>

namespace curv::examples {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Checkpoint {
 public:
  std::map<std::string, std::string> settings;
  std::map<std::string, double> scalars;
  std::map<std::string, std::uint64_t> counters;

  template <class T>
  void put_tensor(const std::string& name, const Tensor<T>& t) {
    Raw r;
    r.element_size = sizeof(T);
    r.bytes.resize(t.size() * sizeof(T));
    if (t.size()) std::memcpy(r.bytes.data(), t.data(), r.bytes.size());
    tensors_[name] = std::move(r);
  }

  // The tensor `name` as a 1-D Tensor<T>; throws CheckpointError when it is
  // missing, of another element type, or (expected_size ≠ npos) of another length.
  template <class T>
  Tensor<T> tensor(const std::string& name, std::size_t expected_size = npos) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw CheckpointError("the checkpoint has no tensor '" + name + "'");
    if (it->second.element_size != sizeof(T))
      throw CheckpointError("tensor '" + name + "' has " + std::to_string(it->second.element_size * 8) +
                            "-bit elements, expected " + std::to_string(sizeof(T) * 8) + "-bit");
    const std::size_t n = it->second.bytes.size() / sizeof(T);
    if (expected_size != npos && n != expected_size)
      throw CheckpointError("tensor '" + name + "' has " + std::to_string(n) + " elements, expected " +
                            std::to_string(expected_size));
    Tensor<T> t = Tensor<T>::from_shape({n});
    if (n) std::memcpy(t.data(), it->second.bytes.data(), n * sizeof(T));
    return t;
  }
  bool has_tensor(const std::string& name) const { return tensors_.count(name) != 0; }

  double scalar(const std::string& name) const;
  std::uint64_t counter(const std::string& name) const;

  // Writes atomically: `path` holds the previous checkpoint or this one, never a mix.
  void write(const std::filesystem::path& path) const;
  // Throws CheckpointError naming the file and what is wrong with it.
  static Checkpoint read(const std::filesystem::path& path);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  struct Raw {
    std::uint8_t element_size = 0;
    std::vector<char> bytes;
  };
  std::map<std::string, Raw> tensors_;
};

}  // namespace curv::examples
