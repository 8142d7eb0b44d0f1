// Learning-rate schedules: option checks, the closed forms and reduce-on-plateau's update.
#include "curv/optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "curv/optim/detail/check.hpp"

namespace curv::optim {

namespace {

using detail::format;

// "<name> = <value>", what a refusal found.
std::string is(std::string_view name, double value) { return std::string(name) + " = " + format(value); }

void expect(bool ok, std::string_view where, std::string_view name, double value, std::string_view expected) {
  if (!ok) detail::refuse(where, is(name, value), expected);
}

// The cosine interpolation of OneCycleLR (anneal_strategy 'cos'): start at pct 0, end at pct 1.
double cosine_between(double start, double end, double pct) {
  return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
}

struct Check {
  void operator()(const schedule::Constant&) const {}
  void operator()(const schedule::Step& r) const {
    const char* who = "schedule::Step";
    expect(r.step_size >= 1, who, "step_size", static_cast<double>(r.step_size), "at least 1");
    expect(r.gamma >= 0 && std::isfinite(r.gamma), who, "gamma", r.gamma, "a finite factor >= 0");
  }
  void operator()(const schedule::MultiStep& r) const {
    const char* who = "schedule::MultiStep";
    for (std::size_t i = 1; i < r.milestones.size(); ++i)
      if (r.milestones[i] <= r.milestones[i - 1])
        detail::refuse(who, "milestones[" + std::to_string(i) + "] = " + std::to_string(r.milestones[i]) +
                                " after " + std::to_string(r.milestones[i - 1]),
                       "strictly increasing milestones");
    expect(r.gamma >= 0 && std::isfinite(r.gamma), who, "gamma", r.gamma, "a finite factor >= 0");
  }
  void operator()(const schedule::Exponential& r) const {
    expect(r.gamma >= 0 && std::isfinite(r.gamma), "schedule::Exponential", "gamma", r.gamma, "a finite factor >= 0");
  }
  void operator()(const schedule::CosineRestarts& r) const {
    const char* who = "schedule::CosineRestarts";
    expect(r.t0 >= 1, who, "t0", static_cast<double>(r.t0), "at least 1");
    expect(r.t_mult >= 1, who, "t_mult", static_cast<double>(r.t_mult), "at least 1");
    expect(r.eta_min >= 0 && std::isfinite(r.eta_min), who, "eta_min", r.eta_min, "a finite rate >= 0");
  }
  void operator()(const schedule::OneCycle& r) const {
    const char* who = "schedule::OneCycle";
    expect(r.max_lr > 0 && std::isfinite(r.max_lr), who, "max_lr", r.max_lr, "a finite rate > 0");
    expect(r.total_steps >= 2, who, "total_steps", static_cast<double>(r.total_steps), "at least 2");
    expect(r.pct_start > 0 && r.pct_start < 1, who, "pct_start", r.pct_start,
           "a fraction in (0, 1): the warm-up part must be shorter than the cycle");
    expect(r.div_factor > 0 && std::isfinite(r.div_factor), who, "div_factor", r.div_factor, "a finite factor > 0");
    expect(r.final_div_factor > 0 && std::isfinite(r.final_div_factor), who, "final_div_factor",
           r.final_div_factor, "a finite factor > 0");
    // Every phase spans at least one position (PyTorch divides by its length).
    const double rise = r.pct_start * static_cast<double>(r.total_steps);
    const double total = static_cast<double>(r.total_steps);
    if (!(rise > 1) || !(r.three_phase ? 2 * rise - 2 < total - 1 : rise < total))
      detail::refuse(who, "pct_start · total_steps = " + format(rise) + " of total_steps = " + format(total),
                     r.three_phase ? "1 < pct_start · total_steps < (total_steps + 1)/2 so that each of the three "
                                     "phases spans at least one step"
                                   : "1 < pct_start · total_steps < total_steps so that both phases span at least "
                                     "one step");
  }
  void operator()(const schedule::ReduceOnPlateau& r) const {
    const char* who = "schedule::ReduceOnPlateau";
    expect(r.factor > 0 && r.factor < 1, who, "factor", r.factor, "a factor in (0, 1)");
    expect(r.threshold >= 0 && std::isfinite(r.threshold), who, "threshold", r.threshold, "a finite number >= 0");
    expect(r.min_lr >= 0 && std::isfinite(r.min_lr), who, "min_lr", r.min_lr, "a finite rate >= 0");
    expect(r.eps >= 0 && std::isfinite(r.eps), who, "eps", r.eps, "a finite number >= 0");
  }
};

// The rule's rate at its own position t.
struct Rate {
  double base;
  std::size_t t;
  const ScheduleState& st;

  double operator()(const schedule::Constant&) const { return base; }
  double operator()(const schedule::Step& r) const {
    return base * std::pow(r.gamma, static_cast<double>(t / r.step_size));
  }
  double operator()(const schedule::MultiStep& r) const {
    const auto passed = std::upper_bound(r.milestones.begin(), r.milestones.end(), t) - r.milestones.begin();
    return base * std::pow(r.gamma, static_cast<double>(passed));
  }
  double operator()(const schedule::Exponential& r) const { return base * std::pow(r.gamma, static_cast<double>(t)); }
  double operator()(const schedule::CosineRestarts& r) const {
    // The cycle holding t, found by whole numbers (PyTorch takes a floating-point logarithm).
    std::size_t t_cur = t, t_i = r.t0;
    while (t_cur >= t_i) {
      t_cur -= t_i;
      if (t_i > SIZE_MAX / r.t_mult) break;  // the next cycle is longer than any t
      t_i *= r.t_mult;
    }
    return r.eta_min + (base - r.eta_min) *
                           (1 + std::cos(std::numbers::pi * static_cast<double>(t_cur) / static_cast<double>(t_i))) / 2;
  }
  double operator()(const schedule::OneCycle& r) const {
    const double initial = r.max_lr / r.div_factor;
    const double minimum = initial / r.final_div_factor;
    const double total = static_cast<double>(r.total_steps);
    const double rise_end = r.pct_start * total - 1;
    struct Phase {
      double end_step, start, end;
    };
    const std::vector<Phase> phases =
        r.three_phase ? std::vector<Phase>{{rise_end, initial, r.max_lr},
                                           {2 * r.pct_start * total - 2, r.max_lr, initial},
                                           {total - 1, initial, minimum}}
                      : std::vector<Phase>{{rise_end, initial, r.max_lr}, {total - 1, r.max_lr, minimum}};
    const double step = static_cast<double>(std::min(t, r.total_steps - 1));
    double start_step = 0;
    for (std::size_t i = 0; i < phases.size(); ++i) {
      if (step <= phases[i].end_step || i + 1 == phases.size())
        return cosine_between(phases[i].start, phases[i].end,
                              (step - start_step) / (phases[i].end_step - start_step));
      start_step = phases[i].end_step;
    }
    return minimum;  // not reached: the last phase always answers
  }
  double operator()(const schedule::ReduceOnPlateau&) const { return st.lr; }
};

}  // namespace

Schedule::Schedule(Rule rule, ScheduleUnit unit) : Schedule(schedule::LinearWarmup{}, std::move(rule), unit) {}

Schedule::Schedule(schedule::LinearWarmup warmup, Rule rule, ScheduleUnit unit)
    : warmup_(warmup), rule_(std::move(rule)), unit_(unit) {
  expect(warmup_.start_factor > 0 && warmup_.start_factor <= 1, "schedule::LinearWarmup", "start_factor",
         warmup_.start_factor, "a factor in (0, 1]");
  std::visit(Check{}, rule_);
}

ScheduleState Schedule::start(double base_lr) const {
  ScheduleState st;
  st.lr = base_lr;
  const auto* plateau = std::get_if<schedule::ReduceOnPlateau>(&rule_);
  const double inf = std::numeric_limits<double>::infinity();
  st.best = plateau && plateau->mode == schedule::ReduceOnPlateau::Mode::max ? -inf : inf;
  return st;
}

double Schedule::learning_rate(double base_lr, std::size_t t, const ScheduleState& st) const {
  if (t < warmup_.steps)
    return base_lr * (warmup_.start_factor +
                      (1 - warmup_.start_factor) * static_cast<double>(t) / static_cast<double>(warmup_.steps));
  return std::visit(Rate{base_lr, t - warmup_.steps, st}, rule_);
}

void Schedule::report(double metric, ScheduleState& st) const {
  const auto* r = std::get_if<schedule::ReduceOnPlateau>(&rule_);
  if (!r) return;
  const bool min = r->mode == schedule::ReduceOnPlateau::Mode::min;
  const double bound = r->relative_threshold ? st.best * (min ? 1 - r->threshold : 1 + r->threshold)
                                             : st.best + (min ? -r->threshold : r->threshold);
  if (min ? metric < bound : metric > bound) {
    st.best = metric;
    st.num_bad_epochs = 0;
  } else {
    st.num_bad_epochs += 1;
  }
  if (st.cooldown_counter > 0) {
    st.cooldown_counter -= 1;
    st.num_bad_epochs = 0;
  }
  if (st.num_bad_epochs > r->patience) {
    const double reduced = std::max(st.lr * r->factor, r->min_lr);
    if (st.lr - reduced > r->eps) st.lr = reduced;
    st.cooldown_counter = r->cooldown;
    st.num_bad_epochs = 0;
  }
}

void Schedule::check_state(std::string_view who, const ScheduleState& st) const {
  if (!has_state()) return;
  expect(std::isfinite(st.lr) && st.lr >= 0, who, "state.schedule.lr", st.lr, "a finite rate >= 0");
  expect(!std::isnan(st.best), who, "state.schedule.best", st.best, "a number (±inf before the first report)");
}

}  // namespace curv::optim
