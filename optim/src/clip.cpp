// Gradient clipping's option checks (clip.hpp).
#include "curv/optim/clip.hpp"

#include <cmath>
#include <string>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

void check_clip_options(std::string_view options, const std::optional<double>& max_norm,
                        const std::optional<double>& clip_value) {
  auto check = [&](const char* name, const std::optional<double>& v, const char* expected) {
    if (v && !(*v > 0 && std::isfinite(*v)))
      detail::refuse(options, std::string(name) + " = " + detail::format(*v), expected);
  };
  check("clip_grad_norm", max_norm, "a finite max_norm > 0 (unset = no clipping)");
  check("clip_grad_value", clip_value, "a finite clip value > 0 (unset = no clipping)");
}

}  // namespace curv::optim
