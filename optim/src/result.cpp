// Names of the stop reasons.
#include "curv/optim/result.hpp"

#include <sstream>
#include <utility>

namespace curv::optim {

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::none: return "none";
    case StopReason::gradient_tolerance: return "gradient_tolerance";
    case StopReason::relative_loss_tolerance: return "relative_loss_tolerance";
    case StopReason::max_iterations: return "max_iterations";
    case StopReason::max_epochs: return "max_epochs";
    case StopReason::callback: return "callback";
    case StopReason::stalled: return "stalled";
    case StopReason::line_search_failed: return "line_search_failed";
    case StopReason::non_finite: return "non_finite";
  }
  return "unknown";
}

namespace {

std::string describe(const NonFiniteError::Where& w) {
  std::ostringstream s;
  s << "curv::optim::" << w.optimizer << ": " << w.quantity;
  if (w.index != NonFiniteError::npos) s << " has a non-finite element [" << w.index << "] = " << w.value;
  else s << " is not finite (" << w.value << ")";
  s << " at " << w.unit << " " << w.iteration;
  if (w.minibatch) s << " (epoch " << w.epoch << ", minibatch " << w.batch << ")";
  s << "; the state was left as it was before that " << w.unit;
  return s.str();
}

}  // namespace

NonFiniteError::NonFiniteError(Where where) : std::runtime_error(describe(where)), where_(std::move(where)) {}

}  // namespace curv::optim
