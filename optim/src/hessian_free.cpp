// HessianFree: option validation and the float/double instantiations.
#include "curv/optim/hessian_free.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

template <class T>
HessianFree<T>::HessianFree(HessianFreeOptions options) : options_(std::move(options)) {
  const char* who = "HessianFreeOptions";
  detail::check_non_negative(who, "gradient_tolerance", options_.gradient_tolerance);
  detail::check_in_range(who, "relative_loss_tolerance", options_.relative_loss_tolerance, 0, 1, false);
  if (options_.curvature != Curvature::exact && options_.curvature != Curvature::gauss_newton)
    detail::fail(who, "curvature must be exact or gauss_newton (a CG solve needs products B·v, not one "
                      "finite-difference curvature along p), got " +
                          std::string(options_.curvature == Curvature::finite_difference
                                          ? "finite_difference"
                                          : "the unknown value " + std::to_string(static_cast<int>(options_.curvature))));
  detail::check_positive(who, "lambda_min", options_.lambda_min);
  detail::check_positive(who, "lambda_max", options_.lambda_max);
  if (!(options_.lambda_min < options_.lambda_max))
    detail::fail(who, "lambda_min must be below lambda_max, got lambda_min = " + detail::format(options_.lambda_min) +
                          " and lambda_max = " + detail::format(options_.lambda_max));
  detail::check_in_range(who, "lambda_initial", options_.lambda_initial, options_.lambda_min, options_.lambda_max,
                         false);
  detail::check_at_least_one(who, "max_cg_iterations", options_.max_cg_iterations);
  detail::check_in_range(who, "cg_progress_tolerance", options_.cg_progress_tolerance, 0, 1, false);
  detail::check_in_range(who, "cg_residual_tolerance", options_.cg_residual_tolerance, 0, 1, false);
  detail::check_in_range(who, "warm_start_decay", options_.warm_start_decay, 0, 1, true);
  if (!(options_.backtrack_ratio > 1) || !std::isfinite(options_.backtrack_ratio))
    detail::fail(who, "backtrack_ratio must be > 1 and finite, got " + detail::format(options_.backtrack_ratio));
  if (!(options_.preconditioner_exponent > 0 && options_.preconditioner_exponent <= 1))
    detail::fail(who, "preconditioner_exponent must be in (0, 1], got " +
                          detail::format(options_.preconditioner_exponent));
  detail::check_in_range(who, "armijo", options_.armijo, 0, 1, false);
  if (!(options_.line_search_shrink > 0 && options_.line_search_shrink < 1))
    detail::fail(who, "line_search_shrink must be in (0, 1), got " + detail::format(options_.line_search_shrink));
  detail::check_at_least_one(who, "max_line_search_steps", options_.max_line_search_steps);
}

template class HessianFree<float>;
template class HessianFree<double>;

}  // namespace curv::optim
