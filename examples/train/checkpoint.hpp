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
//
// Which scalars, counters and tensors an optimizer's state has is the
// optimizer's knowledge (its save_state/load_state in optim): the checkpoint
// is one implementation of optim's StateWriter/StateReader.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <curv/autodiff/tensor.hpp>
#include <curv/optim/state_io.hpp>

namespace curv::examples {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Checkpoint final : public optim::StateWriter, public optim::StateReader {
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

  double scalar(const std::string& name) const;
  std::uint64_t counter(const std::string& name) const;

  // Writes atomically: `path` holds the previous checkpoint or this one, never a mix.
  void write(const std::filesystem::path& path) const;
  // Throws CheckpointError naming the file and what is wrong with it.
  static Checkpoint read(const std::filesystem::path& path);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // optim's state archive interface: the records above, under the same names.
  void write_scalar(std::string_view name, double value) override { scalars[std::string(name)] = value; }
  void write_counter(std::string_view name, std::uint64_t value) override { counters[std::string(name)] = value; }
  void write_tensor(std::string_view name, const Tensor<float>& t) override { put_tensor(std::string(name), t); }
  void write_tensor(std::string_view name, const Tensor<double>& t) override { put_tensor(std::string(name), t); }
  double read_scalar(std::string_view name) const override { return scalar(std::string(name)); }
  std::uint64_t read_counter(std::string_view name) const override { return counter(std::string(name)); }
  bool has_counter(std::string_view name) const override { return counters.count(std::string(name)) != 0; }
  bool has_tensor(std::string_view name) const override { return tensors_.count(std::string(name)) != 0; }
  void read_tensor(std::string_view name, std::size_t size, Tensor<float>& out) const override {
    out = tensor<float>(std::string(name), size);
  }
  void read_tensor(std::string_view name, std::size_t size, Tensor<double>& out) const override {
    out = tensor<double>(std::string(name), size);
  }

 private:
  struct Raw {
    std::uint8_t element_size = 0;
    std::vector<char> bytes;
  };
  std::map<std::string, Raw> tensors_;
};

}  // namespace curv::examples
