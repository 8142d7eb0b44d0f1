// Option validation shared by the optimizers (see detail/check.hpp).
#include "curv/optim/detail/check.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace curv::optim::detail {

std::string format(double value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

void fail(std::string_view options, std::string_view message) {
  throw std::invalid_argument("curv::optim::" + std::string(options) + ": " + std::string(message));
}

void refuse(std::string_view where, std::string_view found, std::string_view expected) {
  throw std::invalid_argument("curv::optim::" + std::string(where) + ": " + std::string(found) + ", expected " +
                              std::string(expected));
}

void check_positive(std::string_view options, std::string_view name, double value) {
  if (!(value > 0) || !std::isfinite(value))
    fail(options, std::string(name) + " must be positive and finite, got " + format(value));
}

void check_non_negative(std::string_view options, std::string_view name, double value) {
  if (!(value >= 0) || !std::isfinite(value))
    fail(options, std::string(name) + " must be >= 0 and finite, got " + format(value));
}

void check_in_range(std::string_view options, std::string_view name, double value, double lo, double hi,
                    bool hi_inclusive) {
  const bool ok = value >= lo && (hi_inclusive ? value <= hi : value < hi);
  if (!ok)
    fail(options, std::string(name) + " must be in [" + format(lo) + ", " + format(hi) + (hi_inclusive ? "]" : ")") +
                      ", got " + format(value));
}

void check_at_least_one(std::string_view options, std::string_view name, std::size_t value) {
  if (value < 1) fail(options, std::string(name) + " must be at least 1, got " + std::to_string(value));
}

}  // namespace curv::optim::detail
