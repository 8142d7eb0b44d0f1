// The optimizers' side of the callbacks (callback.hpp): one context per run,
// filled before each event with the record, the weights, the epochs done and
// the "loss" metric.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "curv/optim/callback.hpp"

namespace curv::optim::detail {

template <class T>
class CallbackDriver {
 public:
  // `save_state(StateWriter&)` writes the optimizer's whole state.
  template <class Obj, class Save>
  CallbackDriver(const Callbacks<T>& callbacks, std::string optimizer, Obj& obj, Save&& save_state)
      : list_(callbacks),
        context_(std::move(optimizer), ObjectiveRef<T>(obj), std::forward<Save>(save_state)) {}

  // on_begin at the run's starting point (`fresh`: minimize(), not
  // resume()); `loss` NaN when the optimizer does not know E there
  // (SGD/Adam), and then no "loss" metric is set.
  void begin(const IterationInfo& info, const Tensor<T>& w, std::size_t epoch, double loss, bool fresh) {
    fire(info, w, epoch, loss, &CallbackList<T>::begin, fresh);
  }
  void step(const IterationInfo& info, const Tensor<T>& w, std::size_t epoch) {
    fire(info, w, epoch, info.loss, &CallbackList<T>::step);
  }
  void epoch(const IterationInfo& info, const Tensor<T>& w, std::size_t epoch, double loss) {
    fire(info, w, epoch, loss, &CallbackList<T>::epoch);
  }
  // on_end with the record of the last event and the result's weights.
  void end(Result<T>& out) {
    if (list_.empty()) return;
    context_.at(last_, out.x, epoch_);
    if (std::isfinite(out.value)) context_.metrics().set("loss", out.value);
    list_.end(context_, out);
  }

  bool stop_requested() const { return context_.stop_requested(); }
  const std::string& stop_reason() const { return context_.stop_reason(); }

 private:
  void fire(const IterationInfo& info, const Tensor<T>& w, std::size_t epoch, double loss,
            void (CallbackList<T>::*event)(CallbackContext<T>&) const, bool fresh = false) {
    last_ = info;
    epoch_ = epoch;
    if (list_.empty()) return;
    context_.at(last_, w, epoch, fresh);
    if (!std::isnan(loss)) context_.metrics().set("loss", loss);
    (list_.*event)(context_);
  }

  CallbackList<T> list_;
  CallbackContext<T> context_;
  IterationInfo last_;
  std::size_t epoch_ = 0;
};

}  // namespace curv::optim::detail
