// SCG: option validation and the float/double instantiations.
#include "curv/optim/scg.hpp"

#include <string>
#include <utility>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

template <class T>
SCG<T>::SCG(ScgOptions options) : options_(std::move(options)) {
  const char* who = "ScgOptions";
  detail::check_non_negative(who, "gradient_tolerance", options_.gradient_tolerance);
  detail::check_in_range(who, "relative_loss_tolerance", options_.relative_loss_tolerance, 0, 1, false);
  detail::check_positive(who, "lambda_min", options_.lambda_min);
  detail::check_positive(who, "lambda_max", options_.lambda_max);
  if (!(options_.lambda_min < options_.lambda_max))
    detail::fail(who, "lambda_min must be below lambda_max, got lambda_min = " + detail::format(options_.lambda_min) +
                          " and lambda_max = " + detail::format(options_.lambda_max));
  detail::check_in_range(who, "lambda_initial", options_.lambda_initial, options_.lambda_min, options_.lambda_max,
                         false);
  detail::check_positive(who, "sigma", options_.sigma);
  switch (options_.curvature) {
    case Curvature::exact:
    case Curvature::gauss_newton:
    case Curvature::finite_difference: break;
    default: detail::fail(who, "curvature has an unknown value " + std::to_string(static_cast<int>(options_.curvature)));
  }
  switch (options_.restart_counter) {
    case RestartCounter::iterations:
    case RestartCounter::successes: break;
    default:
      detail::fail(who, "restart_counter has an unknown value " +
                            std::to_string(static_cast<int>(options_.restart_counter)));
  }
}

template class SCG<float>;
template class SCG<double>;

}  // namespace curv::optim
