// TrustRegionNewtonCG: option validation and the float/double instantiations.
#include "curv/optim/trust_region.hpp"

#include <utility>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

template <class T>
TrustRegionNewtonCG<T>::TrustRegionNewtonCG(TrustRegionOptions options) : options_(std::move(options)) {
  const char* who = "TrustRegionOptions";
  detail::check_non_negative(who, "gradient_tolerance", options_.gradient_tolerance);
  detail::check_in_range(who, "relative_loss_tolerance", options_.relative_loss_tolerance, 0, 1, false);
  detail::check_positive(who, "max_radius", options_.max_radius);
  if (!(options_.initial_radius > 0 && options_.initial_radius <= options_.max_radius))
    detail::fail(who, "initial_radius must be in (0, max_radius = " + detail::format(options_.max_radius) +
                          "], got " + detail::format(options_.initial_radius));
  if (!(options_.forcing > 0 && options_.forcing < 1))  // ε < |g|: CG must reduce the residual
    detail::fail(who, "forcing must be in (0, 1), got " + detail::format(options_.forcing));
  detail::check_in_range(who, "eta", options_.eta, 0, 0.25, false);  // Nocedal & Wright: η ∈ [0, ¼)
}

template class TrustRegionNewtonCG<float>;
template class TrustRegionNewtonCG<double>;

}  // namespace curv::optim
