// The groups of an L2 penalty (optim::L2Penalty) from a model's named
// parameters: by role (weights only, biases excluded, the usual choice) or
// by a name pattern ("fc*.weight"). It lives here because optim knows
// nothing of nn.
#pragma once

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/nn/module.hpp"
#include "curv/optim/l2_penalty.hpp"

namespace curv::datasets {

namespace detail {

// Whole-name match of a glob whose '*' stands for any run of characters (dots too).
inline bool glob_match(std::string_view pattern, std::string_view name) {
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

[[noreturn]] inline void refuse_l2_groups(const std::string& found, const std::string& expected) {
  throw std::invalid_argument("curv::datasets::l2_groups: " + found + ", expected " + expected);
}

// One group per parameter of `model` that `selected` picks, each with λ.
template <class T, class Pick>
std::vector<optim::L2Group> l2_groups_where(const nn::Module<T>& model, double lambda, const std::string& what,
                                            Pick selected) {
  if (!(lambda >= 0) || !std::isfinite(lambda))
  {
    std::ostringstream found;
    found << "lambda = " << lambda;
    refuse_l2_groups(found.str(), "a finite lambda >= 0");
  }
  std::vector<optim::L2Group> groups;
  std::string names;
  for (const nn::ParameterInfo& p : model.parameters()) {
    names += (names.empty() ? "" : ", ") + p.name;
    if (selected(p)) groups.push_back({p.name, p.offset, p.size(), lambda});
  }
  if (groups.empty())
    refuse_l2_groups(what + " matches no parameter of " + model.describe() + " (it has: " + names + ")",
                     "at least one parameter");
  return groups;
}

}  // namespace detail

// The parameters of `role` (by default the weights: every parameter that is
// not a bias), each a group with coefficient λ.
template <class T>
std::vector<optim::L2Group> l2_groups(const nn::Module<T>& model, double lambda,
                                      nn::ParameterRole role = nn::ParameterRole::weight) {
  return detail::l2_groups_where(model, lambda, role == nn::ParameterRole::weight ? "role weight" : "role bias",
                                 [role](const nn::ParameterInfo& p) { return p.role == role; });
}

// The parameters whose whole name matches `pattern`, '*' standing for any run
// of characters ("*.weight", "fc*.weight", "conv1.bias").
template <class T>
std::vector<optim::L2Group> l2_groups(const nn::Module<T>& model, double lambda, std::string_view pattern) {
  return detail::l2_groups_where(model, lambda, "pattern '" + std::string(pattern) + "'",
                                 [pattern](const nn::ParameterInfo& p) { return detail::glob_match(pattern, p.name); });
}

}  // namespace curv::datasets
