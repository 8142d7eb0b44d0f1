// Metrics, the named numbers callbacks pass along (callback.hpp).
#include "curv/optim/callback.hpp"

#include <stdexcept>

namespace curv::optim {

void Metrics::set(std::string_view name, double value) {
  for (auto& [n, v] : items_)
    if (n == name) {
      v = value;
      return;
    }
  items_.emplace_back(std::string(name), value);
}

std::optional<double> Metrics::find(std::string_view name) const {
  for (const auto& [n, v] : items_)
    if (n == name) return v;
  return std::nullopt;
}

double Metrics::at(std::string_view name) const {
  if (const std::optional<double> v = find(name)) return *v;
  std::string known;
  for (const auto& [n, v] : items_) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("curv::optim::Metrics: no metric '" + std::string(name) + "' in this event (it has: " +
                              (known.empty() ? std::string("none") : known) +
                              "); a callback that sets it must come earlier in the list");
}

}  // namespace curv::optim
