// curv-train's wording: numbers as they appear in messages and settings, and
// the refusal of an option with its value.
#pragma once

#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace curv::examples {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Every digit a double needs to round-trip (17 significant).
inline std::string num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// std::invalid_argument "<option> <value>: <expected>".
[[noreturn]] inline void bad_option(const std::string& option, const std::string& value, const std::string& expected) {
  throw std::invalid_argument(option + " " + value + ": " + expected);
}

}  // namespace curv::examples
