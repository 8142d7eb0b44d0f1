// curv-train's wording: numbers as they appear in messages and settings, the
// refusal of an option with its value, and an optimizer's non-finite element
// named as the parameter it belongs to.
#pragma once

#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include <curv/nn/parameter_name.hpp>
#include <curv/optim/result.hpp>

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

// An optimizer's NonFiniteError with the element it names (where().index,
// an index of w for every vector quantity an optimizer checks: gradient,
// weights, direction, momentum and moment buffers) as the model's parameter:
// "…; the state was left as it was before that step; w[9031] is
// mlp.fc1.weight[11,407]". Without an index (a scalar such as the loss),
// what() as it is.
template <class T>
std::string describe_non_finite(const optim::NonFiniteError& e, const nn::Module<T>& model) {
  const std::size_t i = e.where().index;
  if (i == optim::NonFiniteError::npos || i >= model.num_parameters()) return e.what();
  return std::string(e.what()) + "; w[" + std::to_string(i) + "] is " + nn::parameter_at(model, i).to_string();
}

}  // namespace curv::examples
