// L2Penalty's group checks (l2_penalty.hpp).
#include "curv/optim/l2_penalty.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

namespace {

std::string describe(const L2Group& g) {
  return "group '" + g.name + "' [" + std::to_string(g.offset) + ", " + std::to_string(g.offset + g.size) + ")";
}

}  // namespace

void check_l2_groups(const std::vector<L2Group>& groups, std::size_t dim) {
  const char* who = "L2Penalty";
  for (const L2Group& g : groups) {
    if (!(g.lambda >= 0) || !std::isfinite(g.lambda))
      detail::refuse(who, "group '" + g.name + "' has lambda = " + detail::format(g.lambda), "a finite lambda >= 0");
    if (g.size == 0) detail::refuse(who, "group '" + g.name + "' is empty", "at least one element");
    if (g.offset > dim || g.size > dim - g.offset)
      detail::refuse(who, describe(g) + " ends past the objective's dim() = " + std::to_string(dim),
                     "a range inside [0, " + std::to_string(dim) + ")");
  }
  std::vector<const L2Group*> sorted;
  for (const L2Group& g : groups) sorted.push_back(&g);
  std::sort(sorted.begin(), sorted.end(), [](const L2Group* a, const L2Group* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->offset < sorted[i - 1]->offset + sorted[i - 1]->size)
      detail::refuse(who, describe(*sorted[i - 1]) + " and " + describe(*sorted[i]) + " overlap",
                     "disjoint groups");
}

}  // namespace curv::optim
