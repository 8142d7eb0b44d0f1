// Learning-rate schedules for SGD, Adam and AdamW: PyTorch's
// torch.optim.lr_scheduler rules in their closed forms, as values an
// optimizer's options hold, with an optional linear warm-up in front.
//
// A Schedule gives the learning rate of the update at position t = 0, 1, …
// counted in its unit: update steps (ScheduleUnit::step) or epochs (passes
// over a StochasticObjective's minibatches, ScheduleUnit::epoch). With
// η the optimizer's learning_rate (the base rate):
//
//   Constant                 η
//   Step(s, γ)               η·γ^⌊t/s⌋                                         (StepLR)
//   MultiStep(m₁ < m₂ …, γ)  η·γ^#{i : mᵢ ≤ t}                                (MultiStepLR)
//   Exponential(γ)           η·γ^t                                             (ExponentialLR)
//   CosineRestarts(T₀, T_mult, η_min)
//                            η_min + (η − η_min)(1 + cos(π·T_cur/T_i))/2,      (CosineAnnealingWarmRestarts)
//                            T_i = T₀·T_multⁱ the length of the current cycle i,
//                            T_cur the position within it
//   OneCycle(η_max, N, …)    cosine from η_max/div to η_max over pct_start·N − 1
//                            steps, then to η_max/(div·final_div) at N − 1      (OneCycleLR)
//   ReduceOnPlateau(…)       η, times factor whenever the reported metric has
//                            not improved for more than `patience` reports     (ReduceLROnPlateau)
//   LinearWarmup(N, s) first η·(s + (1 − s)·t/N) for t < N, then the rule at
//                            position t − N                                    (LinearLR + SequentialLR)
//
// Only ReduceOnPlateau has a memory of its own (ScheduleState: its current
// rate, the best metric, the bad reports, the cooldown); every other rule is
// a function of t, and t is a function of the optimizer's step counter, so
// resuming a saved state continues the schedule exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <variant>
#include <vector>

namespace curv::optim {

// What a schedule's position t counts.
enum class ScheduleUnit {
  step,   // update steps (with accumulate = k, one per k minibatches)
  epoch,  // epochs: t is constant during an epoch (PyTorch: scheduler.step() after each epoch)
};

namespace schedule {

// The base learning rate throughout.
struct Constant {};

// η·γ^⌊t/step_size⌋.
struct Step {
  std::size_t step_size = 1;  // ≥ 1
  double gamma = 0.1;         // ≥ 0
};

// η·γ^(number of milestones ≤ t).
struct MultiStep {
  std::vector<std::size_t> milestones;  // strictly increasing
  double gamma = 0.1;                   // ≥ 0
};

// η·γ^t.
struct Exponential {
  double gamma = 0.95;  // ≥ 0
};

// SGDR (Loshchilov & Hutter 2017): cosine annealing from η to eta_min over
// cycles of t0, t0·t_mult, t0·t_mult², … positions, restarting at η.
struct CosineRestarts {
  std::size_t t0 = 1;      // ≥ 1: the first cycle's length
  std::size_t t_mult = 1;  // ≥ 1: each cycle this many times longer than the last
  double eta_min = 0;      // ≥ 0
};

// Smith & Topin's one-cycle policy, PyTorch's OneCycleLR with cosine
// annealing: from max_lr/div_factor up to max_lr at position
// pct_start·total_steps − 1, down to max_lr/(div_factor·final_div_factor) at
// total_steps − 1 (three_phase: back to max_lr/div_factor at
// 2·pct_start·total_steps − 2 first, then down to the minimum). It sets the
// rate itself: the optimizer's learning_rate is not used.
struct OneCycle {
  double max_lr = 0;            // > 0
  std::size_t total_steps = 0;  // positions in the cycle; the rate stays at its minimum after
  double pct_start = 0.3;       // the rising part: each phase must span at least one position
  double div_factor = 25;       // > 0
  double final_div_factor = 1e4;  // > 0
  bool three_phase = false;
};

// Reduce the rate by `factor` when a metric the user reports (Sgd/Adam
// report_metric, e.g. the validation loss after each epoch) stops improving:
// after more than `patience` reports without an improvement of more than
// `threshold` (relative to the best, or absolute), then wait `cooldown`
// reports before counting again; never below min_lr, and not at all when the
// reduction would be at most eps.
struct ReduceOnPlateau {
  enum class Mode { min, max };
  Mode mode = Mode::min;  // min: lower is better (a loss); max: higher (an accuracy)
  double factor = 0.1;    // in (0, 1)
  std::size_t patience = 10;
  double threshold = 1e-4;          // ≥ 0
  bool relative_threshold = true;   // PyTorch threshold_mode 'rel' (true) or 'abs'
  std::size_t cooldown = 0;
  double min_lr = 0;  // ≥ 0
  double eps = 1e-8;  // ≥ 0
};

// In front of another rule: the rate rises linearly from start_factor·η to η
// over `steps` positions; the rule then starts at its own position 0.
struct LinearWarmup {
  std::size_t steps = 0;        // 0 = no warm-up
  double start_factor = 1.0 / 3;  // in (0, 1]; PyTorch LinearLR's default
};

}  // namespace schedule

// Reduce-on-plateau's memory, kept in the optimizer's State and saved with it.
struct ScheduleState {
  double lr = std::numeric_limits<double>::quiet_NaN();  // the rate it has set (start(): the base learning rate)
  double best = 0;  // the best metric reported (starts at +inf for mode min, −inf for max)
  std::size_t num_bad_epochs = 0;    // reports since the last improvement
  std::size_t cooldown_counter = 0;  // reports left before bad ones count again

  // The saved fields (state_io.hpp), named "schedule.<field>".
  template <class Self, class Fields>
  static void fields(Self& st, Fields& f) {
    f.scalar("schedule.lr", st.lr);
    f.scalar("schedule.best", st.best);
    f.counter("schedule.num_bad_epochs", st.num_bad_epochs, std::numeric_limits<std::uint64_t>::max(), "");
    f.counter("schedule.cooldown_counter", st.cooldown_counter, std::numeric_limits<std::uint64_t>::max(), "");
  }
};

class Schedule {
 public:
  using Rule = std::variant<schedule::Constant, schedule::Step, schedule::MultiStep, schedule::Exponential,
                            schedule::CosineRestarts, schedule::OneCycle, schedule::ReduceOnPlateau>;

  // The rule alone, or after a linear warm-up. Each throws std::invalid_argument
  // "curv::optim::schedule::<Rule>: <option> = <found>, expected <expected>".
  Schedule(Rule rule = schedule::Constant{}, ScheduleUnit unit = ScheduleUnit::step);
  Schedule(schedule::LinearWarmup warmup, Rule rule, ScheduleUnit unit = ScheduleUnit::step);

  const Rule& rule() const { return rule_; }
  const schedule::LinearWarmup& warmup() const { return warmup_; }
  ScheduleUnit unit() const { return unit_; }
  // True for ReduceOnPlateau: the only rule whose state is saved.
  bool has_state() const { return std::holds_alternative<schedule::ReduceOnPlateau>(rule_); }

  // The state a run starts with.
  ScheduleState start(double base_lr) const;
  // The learning rate at position t (in unit()).
  double learning_rate(double base_lr, std::size_t t, const ScheduleState& st) const;
  // ReduceOnPlateau: one reported metric (PyTorch's scheduler.step(metric));
  // other rules ignore it. A NaN metric is never an improvement.
  void report(double metric, ScheduleState& st) const;
  // Throws std::invalid_argument naming `who` and the field unless st can be
  // resumed: lr finite and ≥ 0, best not NaN.
  void check_state(std::string_view who, const ScheduleState& st) const;

 private:
  schedule::LinearWarmup warmup_;
  Rule rule_;
  ScheduleUnit unit_;
};

}  // namespace curv::optim
