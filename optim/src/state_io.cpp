// The in-memory state archive and the helpers every optimizer's load shares.
#include "curv/optim/state_io.hpp"

#include <stdexcept>

namespace curv::optim {

namespace {

template <class M>
const typename M::mapped_type& find(const M& m, std::string_view kind, std::string_view name) {
  const auto it = m.find(name);
  if (it == m.end()) throw std::invalid_argument("curv::optim::MemoryState: no " + std::string(kind) + " '" + std::string(name) + "'");
  return it->second;
}

template <class T, class Other>
void read(const std::map<std::string, Tensor<T>, std::less<>>& same, const Other& other, std::string_view name,
          std::size_t size, Tensor<T>& out) {
  const auto it = same.find(name);
  if (it == same.end()) {
    if (other.find(name) != other.end())
      throw std::invalid_argument("curv::optim::MemoryState: tensor '" + std::string(name) + "' has " +
                                  std::to_string(sizeof(T) == 4 ? 64 : 32) + "-bit elements, expected " +
                                  std::to_string(sizeof(T) * 8) + "-bit");
    throw std::invalid_argument("curv::optim::MemoryState: no tensor '" + std::string(name) + "'");
  }
  if (it->second.size() != size)
    throw std::invalid_argument("curv::optim::MemoryState: tensor '" + std::string(name) + "' has " +
                                std::to_string(it->second.size()) + " elements, expected " + std::to_string(size));
  out = Tensor<T>::from_shape({size});
  std::copy(it->second.begin(), it->second.end(), out.begin());
}

}  // namespace

void MemoryState::write_scalar(std::string_view name, double value) { scalars[std::string(name)] = value; }
void MemoryState::write_counter(std::string_view name, std::uint64_t value) { counters[std::string(name)] = value; }
void MemoryState::write_tensor(std::string_view name, const Tensor<float>& t) { float_tensors[std::string(name)] = t; }
void MemoryState::write_tensor(std::string_view name, const Tensor<double>& t) { double_tensors[std::string(name)] = t; }

double MemoryState::read_scalar(std::string_view name) const { return find(scalars, "scalar", name); }
std::uint64_t MemoryState::read_counter(std::string_view name) const { return find(counters, "counter", name); }
bool MemoryState::has_counter(std::string_view name) const { return counters.find(name) != counters.end(); }
bool MemoryState::has_tensor(std::string_view name) const {
  return float_tensors.find(name) != float_tensors.end() || double_tensors.find(name) != double_tensors.end();
}
void MemoryState::read_tensor(std::string_view name, std::size_t size, Tensor<float>& out) const {
  read(float_tensors, double_tensors, name, size, out);
}
void MemoryState::read_tensor(std::string_view name, std::size_t size, Tensor<double>& out) const {
  read(double_tensors, float_tensors, name, size, out);
}

namespace detail {

void write_state_version(StateWriter& out) { out.write_counter("state_version", state_version); }

void check_state_version(std::string_view who, const StateReader& in) {
  const std::uint64_t v = in.has_counter("state_version") ? in.read_counter("state_version") : 1;
  if (v != state_version)
    throw std::invalid_argument("curv::optim::" + std::string(who) + ": state_version = " + std::to_string(v) +
                                ", this build reads version " + std::to_string(state_version) +
                                (v > state_version ? " (the state was saved by a newer curv)" : ""));
}

std::uint64_t LoadFields::at_most(std::string_view name, std::uint64_t most, std::string_view why) const {
  const std::uint64_t v = in_.read_counter(name);
  if (v > most)
    throw std::invalid_argument("curv::optim::" + std::string(who_) + ": state." + std::string(name) + " = " +
                                std::to_string(v) + ", expected at most " + std::to_string(most) +
                                (why.empty() ? std::string() : " (" + std::string(why) + ")"));
  return v;
}

void LoadFields::setting(std::string_view name, std::uint64_t v, std::string_view what) const {
  const std::uint64_t saved = in_.read_counter(name);
  if (saved != v)
    throw std::invalid_argument("curv::optim::" + std::string(who_) + ": state." + std::string(name) + " = " +
                                std::to_string(saved) + ", this run has " + std::string(what) + " = " +
                                std::to_string(v));
}

std::string indexed(std::string_view name, std::size_t i) {
  std::string s(name);
  s += std::to_string(i);
  return s;
}

}  // namespace detail

}  // namespace curv::optim
