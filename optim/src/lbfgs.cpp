// L-BFGS and NonlinearCG: option validation and the float/double instantiations.
#include "curv/optim/lbfgs.hpp"

#include <string>
#include <utility>

#include "curv/optim/detail/check.hpp"
#include "curv/optim/nonlinear_cg.hpp"

namespace curv::optim {

namespace {

void check_line_search(const char* who, double c1, double c2, std::size_t evaluations) {
  detail::check_in_range(who, "c1", c1, 0, 1, false);
  if (!(c1 > 0)) detail::fail(who, "c1 must be in (0, 1), got " + detail::format(c1));
  if (!(c2 > c1 && c2 < 1))
    detail::fail(who, "c2 must be in (c1, 1), got c2 = " + detail::format(c2) + " with c1 = " + detail::format(c1));
  detail::check_at_least_one(who, "max_line_search_evaluations", evaluations);
}

}  // namespace

template <class T>
LBFGS<T>::LBFGS(LbfgsOptions options) : options_(std::move(options)) {
  const char* who = "LbfgsOptions";
  detail::check_at_least_one(who, "memory", options_.memory);
  detail::check_non_negative(who, "gradient_tolerance", options_.gradient_tolerance);
  detail::check_in_range(who, "relative_loss_tolerance", options_.relative_loss_tolerance, 0, 1, false);
  check_line_search(who, options_.c1, options_.c2, options_.max_line_search_evaluations);
}

template <class T>
NonlinearCG<T>::NonlinearCG(NonlinearCgOptions options) : options_(std::move(options)) {
  const char* who = "NonlinearCgOptions";
  detail::check_non_negative(who, "gradient_tolerance", options_.gradient_tolerance);
  detail::check_in_range(who, "relative_loss_tolerance", options_.relative_loss_tolerance, 0, 1, false);
  check_line_search(who, options_.c1, options_.c2, options_.max_line_search_evaluations);
}

template class LBFGS<float>;
template class LBFGS<double>;
template class NonlinearCG<float>;
template class NonlinearCG<double>;

}  // namespace curv::optim
