// Names of the stop reasons.
#include "curv/optim/result.hpp"

namespace curv::optim {

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::none: return "none";
    case StopReason::gradient_tolerance: return "gradient_tolerance";
    case StopReason::relative_loss_tolerance: return "relative_loss_tolerance";
    case StopReason::max_iterations: return "max_iterations";
    case StopReason::callback: return "callback";
    case StopReason::stalled: return "stalled";
    case StopReason::line_search_failed: return "line_search_failed";
    case StopReason::non_finite: return "non_finite";
  }
  return "unknown";
}

}  // namespace curv::optim
