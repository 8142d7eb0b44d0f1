// What every curv optimizer reports: why it stopped, one IterationInfo per
// iteration (the trace, also handed to callbacks: callback.hpp) and the final point.
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "curv/autodiff/tensor.hpp"

namespace curv::optim {

enum class StopReason {
  none,                     // still running (a state that was never stopped)
  gradient_tolerance,       // |∇E(w)| ≤ gradient_tolerance
  relative_loss_tolerance,  // |E_k − E_{k+1}| ≤ relative_loss_tolerance · max(|E_k|, |E_{k+1}|)
  max_iterations,           // the iteration limit was reached
  max_epochs,               // SGD / Adam: the epoch limit was reached
  callback,                 // a callback asked to stop (callback.hpp)
  stalled,                  // SCG, HF: λ reached lambda_max; TR-NCG: the radius shrank below rounding
  line_search_failed,       // L-BFGS / CG: no strong-Wolfe step along a descent direction
  non_finite,               // a value that would enter the state is NaN or ±inf (see NonFiniteError)
};

// "gradient_tolerance", … (the enumerator's name).
std::string_view to_string(StopReason reason);

// One iteration, as the trace and callbacks see it. Numbers are doubles
// whatever T is. Fields an optimizer has no notion of stay NaN.
//
// "Passes" count calls to the objective over the whole data: value,
// value_and_grad, hvp and gnvp each count as 1 (an hvp is one
// forward-over-reverse sweep), a minibatch of a StochasticObjective as
// 1/num_batches().
struct IterationInfo {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();

  std::size_t iteration = 0;  // 1 for the first iteration
  double loss = nan;          // E(w) after the iteration (SGD/Adam: the minibatch loss at the step's start)
  bool success = true;        // SCG: Δ ≥ 0, the step was taken; HF, TR-NCG: w moved; others: always true
  double lambda = nan;        // SCG: λ_k as used for α_k (after steps 3–4); HF: the damping λ of the CG solve
  double lambda_bar = nan;    // SCG: λ̄_k as used for α_k
  double delta = nan;         // SCG: δ_k of step 3 (≤ 0 means step 4 ran)
  bool delta_fixed = false;   // SCG: step 4 (δ ≤ 0 → Hessian made positive definite) ran
  double mu = nan;            // SCG: μ_k = p_kᵀr_k
  double alpha = nan;         // SCG: α_k = μ_k/δ_k; L-BFGS/CG/HF: the line-search step; SGD/Adam: the learning rate
  double comparison = nan;    // SCG: Δ_k = 2δ_k(E(w_k) − E(w_k + α_k p_k))/μ_k²
  bool restarted = false;     // a restart to steepest descent happened in this iteration
  double p_norm = nan;        // |p_k|, the search direction of this iteration
  double p_mean = nan;        // mean of p_k's components
  double cg_iterations = nan; // HF / TR-NCG: curvature products of the inner CG solve
  double rho = nan;           // HF / TR-NCG: ρ, actual over predicted decrease of the step
  double radius = nan;        // TR-NCG: the trust radius Δ_k the step was computed in
  bool negative_curvature = false;  // HF / TR-NCG: the inner CG met dᵀBd ≤ 0
  double grad_norm = nan;     // |∇E| at the point after the iteration (SGD/Adam: the step's gradient)
  double grad_mean = nan;     // mean of that gradient's components
  double passes = 0;          // passes over the data since the start (see above)
  double seconds = 0;         // wall-clock seconds since the start
  std::size_t epoch = 0;      // SGD/Adam on a StochasticObjective: epoch and minibatch of this step
  std::size_t batch = 0;
};

// Thrown by an optimizer's step() when a value that would become part of its
// state — the loss, the gradient, the updated weights or another buffer, SCG's
// curvature δ, λ — is NaN or ±inf where no retreat is possible. The step then
// leaves the state exactly as it was before it (counters, passes and time
// included), so that the last good state can still be saved or resumed.
// minimize() and resume() turn it into StopReason::non_finite with what() as
// the message.
class NonFiniteError : public std::runtime_error {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  struct Where {
    std::string optimizer;      // "SGD", "SCG", …
    std::string quantity;       // "the gradient", "the updated weights", "the curvature delta = p'Hp", …
    std::string unit = "iteration";  // what `iteration` counts: "iteration", or "step" (SGD/Adam)
    std::size_t iteration = 0;  // the iteration (or step) that was refused, 1-based
    std::size_t index = npos;   // the first non-finite element of a vector quantity
    double value = std::numeric_limits<double>::quiet_NaN();  // the value found there
    bool minibatch = false;     // SGD/Adam on a StochasticObjective: the epoch and minibatch of the step
    std::size_t epoch = 0;
    std::size_t batch = 0;
  };

  explicit NonFiniteError(Where where);
  const Where& where() const { return where_; }

 private:
  Where where_;
};

template <class T>
struct Result {
  Tensor<T> x;                  // the final point
  double value = 0;             // E(x)
  std::size_t iterations = 0;   // iterations done (since the start of the run, including resumed ones)
  bool converged = false;       // stopped on gradient_tolerance or relative_loss_tolerance
  StopReason stop_reason = StopReason::none;
  std::string message;          // why it stopped, with the numbers
  double passes = 0;            // passes over the data, IterationInfo's convention
  double seconds = 0;
  std::vector<IterationInfo> trace;
};

}  // namespace curv::optim
