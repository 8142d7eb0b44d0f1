// Accumulator: per-minibatch sums of loss, gradient, H·v and Gauss–Newton·v,
// forward passes in parallel, reverse sweeps and sums in batch order (see
// accumulator.hpp).
#include "curv/datasets/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "curv/autodiff/parallel.hpp"
#include "curv/autodiff/tape.hpp"
#include "curv/datasets/data_loader.hpp"
#include "curv/nn/gauss_newton.hpp"
#include "curv/nn/ops/softmax_cross_entropy.hpp"
#include "curv/nn/parameter_name.hpp"
#include "curv/optim/reductions.hpp"
#include "detail/full_pass.hpp"

namespace curv::datasets {

struct detail::BatchPlace {
  std::span<const std::size_t> rows;  // its examples' dataset rows; empty for a batch the caller gathered
  std::size_t batch = 0;              // counted from 0
  std::size_t batches = 1;
  std::optional<std::uint64_t> epoch;  // a loader's minibatch: the loader's epoch
};

namespace {

constexpr std::size_t npos = optim::NonFiniteError::npos;

// A value as messages show it: 10, 1.5, -1, nan, inf.
std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// Example j of a minibatch as errors name it: "train-labels-idx1-ubyte
// record 617 (dataset row 150, minibatch 3 of 8)" (its targets' source, or
// its inputs'), "dataset row 150 (minibatch 3 of 8)" when the dataset does
// not know, "example 4 of the minibatch" for a batch the caller gathered.
struct Example {
  std::string text;
  std::size_t row = 0;
  Origin origin;
};

template <class T>
Example example_at(const DatasetRef<T>& data, const detail::BatchPlace& place, std::size_t j, bool targets) {
  if (place.rows.empty()) return {"example " + std::to_string(j) + " of the minibatch", j, {"", "", j}};
  Example e;
  e.row = place.rows[j];
  e.origin = data.origin(e.row);
  std::string batch = "minibatch " + std::to_string(place.batch + 1) + " of " + std::to_string(place.batches);
  if (place.epoch) batch += " of epoch " + std::to_string(*place.epoch);
  const std::string row = "dataset row " + std::to_string(e.row);
  e.text = e.origin.known() ? (targets ? e.origin.targets_record() : e.origin.inputs_record()) + " (" + row + ", " +
                                  batch + ")"
                            : row + " (" + batch + ")";
  return e;
}

// Element k of a tensor of `shape` without its first axis, as "[0,12,4]".
std::string element_of(const Shape& shape, std::size_t k) {
  std::vector<std::size_t> index(shape.size() > 1 ? shape.size() - 1 : 1, 0);
  for (std::size_t d = index.size(); d-- > 0;) {
    const std::size_t extent = shape.size() > 1 ? shape[d + 1] : 1;
    index[d] = k % extent;
    k /= extent;
  }
  std::string s = "[";
  for (std::size_t d = 0; d < index.size(); ++d) {
    if (d) s += ',';
    s += std::to_string(index[d]);
  }
  return s + "]";
}

// The index in w of the first parameter whose gradient the non-finite
// `input` (one example) makes non-finite, found on the example's own tape:
// each recorded op in turn, in the order the model ran them, is swept alone
// with a seed of ones, and the first sweep that leaves a non-finite element
// in w's adjoint names it — for a Linear first layer, the first weight that
// multiplies the bad pixel (one sweep from the loss would make every
// gradient NaN and name w[0]). The op's own value need not be non-finite: a
// max-pooling may drop the NaN that its convolution's weight gradient
// still reads. Ops that reach no parameter (a reshape of the input) or only
// finite values pass. Runs only when an error is being reported.
template <class T>
std::optional<std::size_t> first_parameter_hit(const nn::Module<T>& model, const Tensor<T>& w, Tensor<T> input) {
  ad::Tape<T> tape;
  const ad::Var<T> wv = tape.borrowed_variable(w);
  model.forward(wv, tape.constant(std::move(input)));
  for (std::size_t i = 0; i < tape.size(); ++i) {
    if (tape.node_info(i).op.empty()) continue;  // a leaf: the input or w
    const ad::Var<T> node(tape, i);
    tape.backward(node, Tensor<T>(xt::ones<T>(node.shape())));
    if (const std::size_t k = optim::first_non_finite(wv.grad()); k != npos) return k;
  }
  return std::nullopt;
}

// Elements per chunk of the sums' loops (curv::for_each_chunk): a thread with
// nothing else to do helps the serial stage, and the calling thread does not
// take up another batch's forward pass meanwhile (the loop is isolated).
constexpr std::size_t chunk = std::size_t{1} << 15;

// total += part, in double, element by element (so the same sums however
// the range is split). The first part becomes the total: for T = double its
// own buffer is taken over, so the sums cost no parameter-sized buffer of
// their own (x, not 0 + x: the same up to the sign of a zero).
template <class T>
void add_into(std::optional<Tensor<double>>& total, Tensor<T>&& part) {
  if (!total) {
    if constexpr (std::is_same_v<T, double>) {
      total = std::move(part);
    } else {
      total = Tensor<double>::from_shape(part.shape());
      double* t = total->data();
      const T* p = part.data();
      for_each_chunk(total->size(), chunk, [&](std::size_t b, std::size_t e) { std::copy(p + b, p + e, t + b); });
    }
    return;
  }
  double* t = total->data();
  const T* p = part.data();
  for_each_chunk(total->size(), chunk, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) t[i] += p[i];
  });
}

// total / n as T, in the total's own buffer when T = double.
template <class T>
Tensor<T> mean_of(std::optional<Tensor<double>>&& total, std::size_t n, std::size_t dim) {
  if (!total) return xt::zeros<T>({dim});
  const double inv_n = 1.0 / static_cast<double>(n);
  const std::size_t size = total->size();
  double* t = total->data();
  if constexpr (std::is_same_v<T, double>) {
    for (std::size_t i = 0; i < size; ++i) t[i] *= inv_n;
    return std::move(*total);
  } else {
    Tensor<T> out = Tensor<T>::from_shape({size});
    for (std::size_t i = 0; i < size; ++i) out.data()[i] = static_cast<T>(t[i] * inv_n);
    return out;
  }
}

}  // namespace

template <class T>
struct Accumulator<T>::Slot {
  double loss = 0;
  Tensor<T> first;   // Σ gradient over the batch
  Tensor<T> second;  // Σ H·v or Σ G·v over the batch
  std::size_t correct = 0;
  std::vector<std::size_t> class_count, class_correct;
};

template <class T>
struct Accumulator<T>::Totals {
  double loss = 0;
  std::size_t count = 0;  // examples: the dataset's, or with reduce every shard's
  std::optional<Tensor<double>> first, second;  // none until a batch adds one
  std::size_t correct = 0;
  std::vector<std::size_t> class_count, class_correct;
};

template <class T>
Accumulator<T>::Accumulator(const nn::Module<T>& model, const nn::Loss<T>& loss, DatasetRef<T> data,
                            AccumulatorOptions options)
    : fused_(detail::fused_or_null(model, options.fuse)),
      model_(fused_ ? *fused_ : model),
      loss_(loss),
      data_(data),
      n_(data.size()),
      batch_size_(resolve_batch_size("curv::datasets::Accumulator", options.batch_size, data.size())),
      threads_(options.threads),
      mode_(options.mode),
      seed_(options.seed),
      reduce_(std::move(options.reduce)),
      first_row_(options.first_row) {
  if (n_ == 0)
    throw std::invalid_argument("curv::datasets::Accumulator: the dataset is empty; expected at least one example");
  threads_ = detail::resolve_threads("curv::datasets::Accumulator", threads_);
  order_.resize(n_);
  std::iota(order_.begin(), order_.end(), std::size_t(0));
}

template <class T>
void Accumulator<T>::check_vector(const char* fn, const char* arg, const Tensor<T>& x) const {
  if (x.dimension() != 1 || x.size() != dim())
    throw std::invalid_argument(std::string("curv::datasets::Accumulator::") + fn + ": " + arg +
                                " has shape " + shape_string(x.shape()) + ", expected (" +
                                std::to_string(dim()) + ",) (the model's num_parameters())");
}

// One batch after its forward pass: its tape and the Vars of w and of the
// loss while the reverse sweep is still to come, and what it has found so far.
template <class T>
struct Accumulator<T>::Recording {
  // A loss may read them in place until its tape is gone: on the heap, where
  // moving the Recording leaves them, and declared before the tape so that
  // they outlive it.
  std::unique_ptr<const Tensor<T>> targets;
  std::unique_ptr<ad::Tape<T>> tape;  // null when nothing is left to sweep
  ad::Var<T> w, loss;
  Slot slot;
  // What the batch threw, rethrown when the in-order stage reaches it: of
  // several bad batches the first is reported, whichever thread ran it.
  std::exception_ptr error;
};

template <class T>
void Accumulator<T>::check_finite(const Batch<T>& batch, const detail::BatchPlace& place, const Tensor<T>& w) const {
  const std::size_t bad_x = optim::first_non_finite(batch.inputs), bad_y = optim::first_non_finite(batch.targets);
  if (bad_x == npos && bad_y == npos) return;
  const std::size_t rows = batch.inputs.shape(0);
  const std::size_t x_stride = batch.inputs.size() / rows, y_stride = batch.targets.size() / rows;
  const std::size_t jx = bad_x == npos ? npos : bad_x / x_stride, jy = bad_y == npos ? npos : bad_y / y_stride;
  const std::string who = "curv::datasets::Accumulator: ";
  if (jy < jx) {  // the first bad example's targets
    const Example e = example_at(data_, place, jy, true);
    throw DataError(who + "target " + number(static_cast<double>(batch.targets.data()[bad_y])) + " of " + e.text +
                        ": expected finite targets",
                    e.row, e.origin, place.batch);
  }
  const Example e = example_at(data_, place, jx, false);
  const Shape shape(batch.inputs.shape().begin(), batch.inputs.shape().end());
  Shape one = shape;
  one[0] = 1;
  Tensor<T> input = Tensor<T>::from_shape(one);
  std::copy_n(batch.inputs.data() + jx * x_stride, x_stride, input.data());
  const std::optional<std::size_t> hit = first_parameter_hit(model_, w, std::move(input));
  throw DataError(who + e.text + " holds a non-finite input: " + number(static_cast<double>(batch.inputs.data()[bad_x])) +
                      " at " + element_of(shape, bad_x % x_stride) + "; expected finite inputs. " +
                      (hit ? "The first parameter whose gradient it makes non-finite: " +
                                 nn::parameter_at(model_, *hit).to_string()
                           : std::string("It makes no parameter's gradient non-finite")),
                  e.row, e.origin, place.batch, hit);
}

// The batch's forward pass with its data checked first, and a target that
// is no class index (nn's ClassIndexError, which knows only its place in
// the batch) named by the example's origin and row.
template <class T>
typename Accumulator<T>::Recording Accumulator<T>::record_checked(Pass pass, Batch<T> batch,
                                                                  const detail::BatchPlace& place, const Tensor<T>& w,
                                                                  const Tensor<T>* v) const {
  check_finite(batch, place, w);
  // The examples' rows as the model is told them: through the ids when
  // set, in the whole dataset when this one is a shard.
  std::vector<std::size_t> ids;
  std::span<const std::size_t> rows = place.rows;
  if ((example_ids_ || first_row_) && !rows.empty()) {
    ids.reserve(rows.size());
    for (const std::size_t r : rows) ids.push_back((example_ids_ ? example_ids_->at(r) : r) + first_row_);
    rows = ids;
  }
  const nn::ForwardContext context{pass == Pass::evaluate ? nn::Mode::eval : mode_, seed_,
                                   place.epoch.value_or(epoch_), rows, 0};
  try {
    return record_batch(pass, std::move(batch), context, w, v);
  } catch (const nn::ops::ClassIndexError& error) {
    const Example e = example_at(data_, place, error.index(), true);
    throw DataError("curv::datasets::Accumulator: label " + number(error.value()) + " of " + e.text +
                        ": expected a class in [0, " + std::to_string(error.classes()) + ")",
                    e.row, e.origin, place.batch);
  }
}

template <class T>
typename Accumulator<T>::Slot Accumulator<T>::sweep_batch(Pass pass, Recording&& r) const {
  Slot s = std::move(r.slot);
  if (r.tape) {
    r.tape->backward(r.loss);
    s.first = r.tape->take_adjoint(r.w);  // moved out of the tape, not copied
    if (pass == Pass::hvp) s.second = r.tape->take_adjoint_tangent(r.w);
    r.tape.reset();  // its memory goes back before the sums are added
  }
  return s;
}

template <class T>
typename Accumulator<T>::Recording Accumulator<T>::record_batch(Pass pass, Batch<T> batch,
                                                                 const nn::ForwardContext& context, const Tensor<T>& w,
                                                                 const Tensor<T>* v) const {
  Recording r;
  Slot& s = r.slot;
  auto scalar = [](const ad::Var<T>& l) {
    if (l.size() != 1)
      throw std::logic_error("curv::datasets::Accumulator: the loss returned shape " +
                             shape_string(l.shape()) + ", expected a scalar");
    return static_cast<double>(*l.value().data());
  };
  if (pass == Pass::gnvp) {
    // nn's product: Jv from a tangent-seeded forward pass, then one reverse
    // sweep carrying (∇ℓ, H_ℓ J v), whose adjoint at w is the gradient and
    // adjoint tangent Jᵀ H_ℓ J v.
    nn::GaussNewtonProduct<T> gn =
        nn::gauss_newton_product(model_, loss_, w, batch.inputs, batch.targets, *v, context);
    s.loss = static_cast<double>(gn.loss);
    s.first = std::move(gn.grad);
    s.second = std::move(gn.gv);
    return r;
  }
  // w and v are shared by every batch's tape at once: borrowed, not copied.
  auto tape = std::make_unique<ad::Tape<T>>();
  switch (pass) {
    case Pass::value:
    case Pass::evaluate: r.w = tape->borrowed_constant(w); break;
    case Pass::gradient: r.w = tape->borrowed_variable(w); break;
    default: r.w = tape->borrowed_variable(w, *v); break;
  }
  const ad::Var<T> out = model_.forward(r.w, tape->constant(std::move(batch.inputs)), context);
  r.targets = std::make_unique<const Tensor<T>>(std::move(batch.targets));
  r.loss = loss_.forward(out, *r.targets, nn::Reduction::sum);
  s.loss = scalar(r.loss);
  if (pass == Pass::gradient || pass == Pass::hvp) {
    r.tape = std::move(tape);
    return r;
  }
  if (pass == Pass::evaluate) {
    const Tensor<T>& o = out.value();
    const std::size_t rows = r.targets->size();
    if (o.dimension() != 2 || o.shape(0) != rows)
      throw std::invalid_argument("curv::datasets::Accumulator::evaluate: the model's output has shape " +
                                  shape_string(o.shape()) + ", expected (" + std::to_string(rows) +
                                  ", classes) for " + std::to_string(rows) + " class-index targets");
    const std::size_t classes = o.shape(1);
    s.class_count.assign(classes, 0);
    s.class_correct.assign(classes, 0);
    const std::vector<std::size_t> labels =
        nn::ops::class_labels("curv::datasets::Accumulator::evaluate", *r.targets, rows, classes);
    for (std::size_t i = 0; i < rows; ++i) {
      const T* row = o.data() + i * classes;
      const std::size_t predicted = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
      const std::size_t c = labels[i];
      ++s.class_count[c];
      if (predicted == c) {
        ++s.class_correct[c];
        ++s.correct;
      }
    }
  }
  return r;
}

template <class T>
typename Accumulator<T>::Totals Accumulator<T>::run(Pass pass, const Tensor<T>& w, const Tensor<T>* v) const {
  Totals t = run_local(pass, w, v);
  if (!reduce_) return t;
  // The shards' totals summed across processes: the counts (exact in double
  // up to 2⁵³) and the loss in one message, then each parameter-sized total.
  const std::size_t classes = t.class_count.size();
  std::vector<double> scalars{t.loss, static_cast<double>(t.count), static_cast<double>(t.correct)};
  scalars.insert(scalars.end(), t.class_count.begin(), t.class_count.end());
  scalars.insert(scalars.end(), t.class_correct.begin(), t.class_correct.end());
  reduce_(scalars);
  t.loss = scalars[0];
  t.count = static_cast<std::size_t>(scalars[1]);
  t.correct = static_cast<std::size_t>(scalars[2]);
  for (std::size_t c = 0; c < classes; ++c) {
    t.class_count[c] = static_cast<std::size_t>(scalars[3 + c]);
    t.class_correct[c] = static_cast<std::size_t>(scalars[3 + classes + c]);
  }
  for (std::optional<Tensor<double>>* total : {&t.first, &t.second})
    if (*total) reduce_(std::span<double>((*total)->data(), (*total)->size()));
  return t;
}

template <class T>
typename Accumulator<T>::Totals Accumulator<T>::run_local(Pass pass, const Tensor<T>& w, const Tensor<T>* v) const {
  Totals t;
  t.count = n_;
  const std::size_t batches = num_batches();
  std::size_t added = 0;  // batches in the totals so far, for the progress callback
  auto check_cancel = [&](std::size_t b) {
    if (cancel_ && cancel_())
      throw Cancelled("curv::datasets::Accumulator: the pass was cancelled before minibatch " + std::to_string(b) +
                      " of " + std::to_string(batches));
  };
  auto record = [&](std::size_t b) {
    const std::size_t first = b * batch_size_;
    const std::size_t count = std::min(batch_size_, n_ - first);
    const detail::BatchPlace place{std::span<const std::size_t>(order_).subspan(first, count), b, batches, {}};
    return record_checked(pass, data_.get_batch(place.rows), place, w, v);
  };
  auto add = [&](Slot& s) {
    t.loss += s.loss;
    if (s.first.dimension() != 0) add_into(t.first, std::move(s.first));
    if (s.second.dimension() != 0) add_into(t.second, std::move(s.second));
    t.correct += s.correct;
    if (t.class_count.size() < s.class_count.size()) {
      t.class_count.resize(s.class_count.size(), 0);
      t.class_correct.resize(s.class_count.size(), 0);
    }
    for (std::size_t c = 0; c < s.class_count.size(); ++c) {
      t.class_count[c] += s.class_count[c];
      t.class_correct[c] += s.class_correct[c];
    }
    s = Slot();  // release the batch's tensors at once
    ++added;
    if (progress_) progress_({pass, added, batches, std::min(added * batch_size_, n_), n_});
  };

  // A pipeline rather than waves: batch numbers are issued in order, their
  // forward passes run in parallel, and the serial last stage sweeps each
  // tape backwards and adds the batch into the totals, strictly in batch
  // order. At most `threads` batches are alive at once.
  //
  // Why the sweeps are serial: from its first reverse step a tape holds the
  // adjoint and adjoint tangent of w (parameter-sized) and the activations'
  // adjoints, the largest part of a minibatch's memory. With the sweeps in
  // parallel, every thread's tape held them at once and a batch that
  // finished early kept its sums waiting behind a slower one: float64 H·v
  // of the article CNN at batch 32 on 2 threads held six parameter vectors
  // (the totals and two tapes' adjoints) where one sweep at a time holds
  // four. The other threads meanwhile record the next batches' forward
  // passes and help the sweep's parallel ops (the fused convolution, tanh);
  // more tokens would only add tapes waiting for their sweep.
  const detail::SingleThreadedBlas blas_guard;
  // Ops that spread their own work over threads (the fused convolution and
  // pooling) run inside this arena too, so `threads` bounds every pass.
  tbb::task_arena arena(threads_);
  if (batches == 1 || threads_ == 1) {
    arena.execute([&] {
      for (std::size_t b = 0; b < batches; ++b) {
        check_cancel(b);
        Slot s = sweep_batch(pass, record(b));
        add(s);
      }
    });
    return t;
  }
  // The recordings live here, not in the pipeline's tokens: when a batch
  // throws, oneTBB cancels the pipeline and drops the tokens in flight
  // without destroying them, so a heap-allocated token (a shared_ptr) would
  // leak its tape. At most `threads_` batches are in flight and the last
  // stage retires them in order, so batch b + threads_ starts only after b
  // is done with its ring slot.
  std::vector<Recording> ring(static_cast<std::size_t>(threads_));
  arena.execute([&] {
    std::size_t next = 0;
    tbb::parallel_pipeline(
        ring.size(),
        tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                            [&](tbb::flow_control& fc) -> std::size_t {
                                              if (next == batches) {
                                                fc.stop();
                                              } else {
                                                check_cancel(next);
                                              }
                                              return next++;
                                            }) &
            tbb::make_filter<std::size_t, std::size_t>(tbb::filter_mode::parallel,
                                                      [&](std::size_t b) {
                                                        Recording& r = ring[b % ring.size()];
                                                        try {
                                                          r = record(b);
                                                        } catch (...) {
                                                          r = Recording{};
                                                          r.error = std::current_exception();
                                                        }
                                                        return b;
                                                      }) &
            tbb::make_filter<std::size_t, void>(tbb::filter_mode::serial_in_order, [&](std::size_t b) {
              Recording r = std::move(ring[b % ring.size()]);
              ring[b % ring.size()] = Recording{};
              if (r.error) std::rethrow_exception(r.error);
              Slot s = sweep_batch(pass, std::move(r));
              add(s);
            }));
  });
  return t;
}

template <class T>
double Accumulator<T>::value(const Tensor<T>& w) const {
  check_vector("value", "w", w);
  const Totals t = run(Pass::value, w, nullptr);
  return t.loss / static_cast<double>(t.count);
}

template <class T>
double Accumulator<T>::value_and_grad(const Tensor<T>& w, Tensor<T>& grad) const {
  check_vector("value_and_grad", "w", w);
  Totals t = run(Pass::gradient, w, nullptr);
  grad = mean_of<T>(std::move(t.first), t.count, dim());
  return t.loss / static_cast<double>(t.count);
}

template <class T>
double Accumulator<T>::hvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& grad, Tensor<T>& hv) const {
  check_vector("hvp", "w", w);
  check_vector("hvp", "v", v);
  Totals t = run(Pass::hvp, w, &v);
  grad = mean_of<T>(std::move(t.first), t.count, dim());
  hv = mean_of<T>(std::move(t.second), t.count, dim());
  return t.loss / static_cast<double>(t.count);
}

template <class T>
double Accumulator<T>::gnvp(const Tensor<T>& w, const Tensor<T>& v, Tensor<T>& grad, Tensor<T>& gv) const {
  check_vector("gnvp", "w", w);
  check_vector("gnvp", "v", v);
  Totals t = run(Pass::gnvp, w, &v);
  grad = mean_of<T>(std::move(t.first), t.count, dim());
  gv = mean_of<T>(std::move(t.second), t.count, dim());
  return t.loss / static_cast<double>(t.count);
}

template <class T>
Evaluation Accumulator<T>::evaluate(const Tensor<T>& w) const {
  check_vector("evaluate", "w", w);
  Totals t = run(Pass::evaluate, w, nullptr);
  Evaluation e;
  e.loss = t.loss / static_cast<double>(t.count);
  e.correct = t.correct;
  e.count = t.count;
  e.accuracy = static_cast<double>(t.correct) / static_cast<double>(t.count);
  e.class_count = std::move(t.class_count);
  e.class_correct = std::move(t.class_correct);
  return e;
}

template <class T>
double Accumulator<T>::batch_value_and_grad(const Batch<T>& batch, const Tensor<T>& w, Tensor<T>* grad) const {
  check_vector("batch_value_and_grad", "w", w);
  const std::size_t rows = batch.targets.dimension() == 0 ? 0 : batch.targets.shape(0);
  if (rows == 0 || batch.inputs.dimension() == 0 || batch.inputs.shape(0) != rows)
    throw std::invalid_argument("curv::datasets::Accumulator::batch_value_and_grad: the batch has inputs of shape " +
                                shape_string(batch.inputs.shape()) + " and targets of shape " +
                                shape_string(batch.targets.shape()) +
                                "; expected at least one example, the same count in both");
  return run_single(Batch<T>(batch), detail::BatchPlace{}, w, grad);
}

template <class T>
double Accumulator<T>::batch_value_and_grad(const DataLoader<T>& loader, std::size_t b, const Tensor<T>& w,
                                            Tensor<T>* grad) const {
  check_vector("batch_value_and_grad", "w", w);
  if (loader.size() != n_)
    throw std::invalid_argument("curv::datasets::Accumulator::batch_value_and_grad: the loader has " +
                                std::to_string(loader.size()) + " examples, expected a loader over this dataset (" +
                                std::to_string(n_) + ")");
  const detail::BatchPlace place{loader.indices(b), b, loader.num_batches(), loader.epoch()};
  return run_single(data_.get_batch(place.rows), place, w, grad);
}

template <class T>
double Accumulator<T>::shard_batch_value_and_grad(std::span<const std::size_t> rows, std::size_t batch,
                                                  std::size_t batches, std::uint64_t epoch, const Tensor<T>& w,
                                                  Tensor<T>* grad) const {
  check_vector("shard_batch_value_and_grad", "w", w);
  for (const std::size_t r : rows)
    if (r >= n_)
      throw std::invalid_argument("curv::datasets::Accumulator::shard_batch_value_and_grad: row " + std::to_string(r) +
                                  ", expected a row of this shard (below " + std::to_string(n_) + ")");
  const Pass pass = grad ? Pass::gradient : Pass::value;
  Slot s;
  if (!rows.empty()) {
    const detail::BatchPlace place{rows, batch, batches, epoch};
    s = sweep_batch(pass, record_checked(pass, data_.get_batch(rows), place, w, nullptr));
  }
  // The shards' sums, added in the order reduce fixes: the loss and the
  // count in one message, then the gradient (zero where this shard has none).
  std::vector<double> scalars{s.loss, static_cast<double>(rows.size())};
  if (reduce_) reduce_(scalars);
  const auto count = static_cast<std::size_t>(scalars[1]);
  if (count == 0)
    throw std::invalid_argument("curv::datasets::Accumulator::shard_batch_value_and_grad: minibatch " +
                                std::to_string(batch) + " has no rows on any shard; expected at least one");
  if (grad) {
    std::optional<Tensor<double>> sum;
    if (s.first.dimension() != 0)
      add_into(sum, std::move(s.first));
    else
      sum = xt::zeros<double>({dim()});
    if (reduce_) reduce_(std::span<double>(sum->data(), sum->size()));
    *grad = mean_of<T>(std::move(sum), count, dim());
  }
  return scalars[0] / static_cast<double>(count);
}

template <class T>
double Accumulator<T>::run_single(Batch<T> batch, const detail::BatchPlace& place, const Tensor<T>& w,
                                  Tensor<T>* grad) const {
  const std::size_t rows = batch.targets.shape(0);
  const Pass pass = grad ? Pass::gradient : Pass::value;
  Slot s = sweep_batch(pass, record_checked(pass, std::move(batch), place, w, nullptr));
  if (grad) {
    std::optional<Tensor<double>> sum;
    add_into(sum, std::move(s.first));
    *grad = mean_of<T>(std::move(sum), rows, dim());
  }
  return s.loss / static_cast<double>(rows);
}

template class Accumulator<float>;
template class Accumulator<double>;

}  // namespace curv::datasets
