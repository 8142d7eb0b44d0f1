// predict, predict_proba, predict_classes: forward passes on tapes of
// constants, batch by batch in parallel, each batch writing its own rows
// (see predict.hpp).
#include "curv/datasets/predict.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include <oneapi/tbb/task_arena.h>

#include "curv/autodiff/parallel.hpp"
#include "curv/autodiff/tape.hpp"
#include "curv/datasets/data_loader.hpp"
#include "detail/full_pass.hpp"

namespace curv::datasets {

namespace {

// The examples on the first axis of one tensor, as a Dataset without targets.
template <class T>
class InputRows {
 public:
  explicit InputRows(const Tensor<T>& inputs) : inputs_(inputs) {}
  std::size_t size() const { return inputs_.shape(0); }
  Batch<T> get_batch(std::span<const std::size_t> indices) const {
    Shape shape(inputs_.shape().begin(), inputs_.shape().end());
    shape[0] = indices.size();
    const std::size_t stride = inputs_.size() / inputs_.shape(0);
    Batch<T> batch{Tensor<T>::from_shape(shape), Tensor<T>()};
    for (std::size_t i = 0; i < indices.size(); ++i)
      std::memcpy(batch.inputs.data() + i * stride, inputs_.data() + indices[i] * stride, stride * sizeof(T));
    return batch;
  }

 private:
  const Tensor<T>& inputs_;
};

// Shape (rows, …rest of `shape`).
template <class S>
Shape with_rows(const S& shape, std::size_t rows) {
  Shape s(shape.begin(), shape.end());
  s[0] = rows;
  return s;
}

// The model's outputs for every example of `data`, stacked in order. With
// `classes`, the first batch's output must be (batch, classes), checked before
// the other batches run.
template <class T>
Tensor<T> predict_rows(const std::string& fn, const nn::Module<T>& model, const Tensor<T>& w, DatasetRef<T> data,
                       PredictOptions options, bool classes) {
  if (w.dimension() != 1 || w.size() != model.num_parameters())
    throw std::invalid_argument(fn + ": w has shape " + shape_string(w.shape()) + ", expected (" +
                                std::to_string(model.num_parameters()) + ",) (the model's num_parameters())");
  const std::size_t n = data.size();
  const std::size_t batch_size = resolve_batch_size(fn.c_str(), options.batch_size, n);
  const int threads = detail::resolve_threads(fn.c_str(), options.threads);
  if (n == 0) throw std::invalid_argument(fn + ": the dataset is empty; expected at least one example");
  const std::shared_ptr<const nn::Module<T>> fused = detail::fused_or_null(model, options.fuse);
  const nn::Module<T>& run = fused ? *fused : model;
  const std::size_t batches = (n + batch_size - 1) / batch_size;

  Tensor<T> out;
  std::size_t stride = 0;  // output elements per example
  // Batch b's forward pass on a tape of constants; its rows copied into `out`
  // (allocated by batch 0, whose output shape fixes every other batch's).
  auto forward = [&](std::size_t b) {
    const std::size_t first = b * batch_size;
    const std::size_t count = std::min(batch_size, n - first);
    std::vector<std::size_t> indices(count);
    std::iota(indices.begin(), indices.end(), first);
    Batch<T> batch = data.get_batch(indices);
    ad::Tape<T> tape;
    const ad::Var<T> y = run.forward(tape.borrowed_constant(w), tape.constant(std::move(batch.inputs)));
    const Tensor<T>& o = y.value();
    const bool rows_ok = o.dimension() >= 1 && o.shape(0) == count && (!classes || o.dimension() == 2);
    if (b == 0 && rows_ok) {
      out = Tensor<T>::from_shape(with_rows(o.shape(), n));
      stride = o.size() / count;
    }
    if (!rows_ok || o.size() != count * stride || with_rows(o.shape(), n) != with_rows(out.shape(), n))
      throw std::invalid_argument(
          fn + ": the model's output for examples [" + std::to_string(first) + ", " + std::to_string(first + count) +
          ") has shape " + shape_string(o.shape()) + ", expected " +
          (b == 0 ? classes ? "(" + std::to_string(count) + ", classes)"
                            : "(" + std::to_string(count) + ", …) (one row per example)"
                  : shape_string(with_rows(out.shape(), count)) + " (as the first batch's)"));
    std::copy(o.data(), o.data() + o.size(), out.data() + first * stride);
  };

  const detail::SingleThreadedBlas blas_guard;
  // Ops that spread their own work over threads run inside this arena too,
  // so `threads` bounds the whole pass.
  tbb::task_arena arena(threads);
  arena.execute([&] {
    forward(0);
    // One chunk per batch: each writes only its own rows of `out`.
    for_each_chunk(batches - 1, 1, [&](std::size_t first, std::size_t last) {
      for (std::size_t b = first; b < last; ++b) forward(b + 1);
    });
  });
  return out;
}

// Each row of z (N × K) replaced by its softmax: exp(z − max) / Σ exp(z − max),
// the sum in double, so no exp overflows and every row sums to 1.
template <class T>
void softmax_rows_in_place(Tensor<T>& z) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  for (std::size_t i = 0; i < n; ++i) {
    T* row = z.data() + i * k;
    const T m = *std::max_element(row, row + k);
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) total += static_cast<double>(row[j] = std::exp(row[j] - m));
    for (std::size_t j = 0; j < k; ++j) row[j] = static_cast<T>(static_cast<double>(row[j]) / total);
  }
}

// The first column holding each row's maximum.
template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& z) {
  const std::size_t n = z.shape(0), k = z.shape(1);
  std::vector<std::size_t> classes(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = z.data() + i * k;
    classes[i] = static_cast<std::size_t>(std::max_element(row, row + k) - row);
  }
  return classes;
}

template <class T>
void check_inputs(const std::string& fn, const Tensor<T>& inputs) {
  if (inputs.dimension() == 0 || inputs.shape(0) == 0)
    throw std::invalid_argument(fn + ": inputs have shape " + shape_string(inputs.shape()) +
                                ", expected (examples, …) with at least one example");
}

}  // namespace

template <class T>
Tensor<T> predict(const nn::Module<T>& model, const Tensor<T>& w, std::type_identity_t<DatasetRef<T>> data,
                  PredictOptions options) {
  return predict_rows<T>("curv::datasets::predict", model, w, data, options, false);
}

template <class T>
Tensor<T> predict(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs, PredictOptions options) {
  check_inputs("curv::datasets::predict", inputs);
  const InputRows<T> rows(inputs);
  return predict_rows<T>("curv::datasets::predict", model, w, rows, options, false);
}

template <class T>
Tensor<T> predict_proba(const nn::Module<T>& model, const Tensor<T>& w, std::type_identity_t<DatasetRef<T>> data,
                        PredictOptions options) {
  Tensor<T> p = predict_rows<T>("curv::datasets::predict_proba", model, w, data, options, true);
  softmax_rows_in_place(p);
  return p;
}

template <class T>
Tensor<T> predict_proba(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs,
                        PredictOptions options) {
  check_inputs("curv::datasets::predict_proba", inputs);
  const InputRows<T> rows(inputs);
  Tensor<T> p = predict_rows<T>("curv::datasets::predict_proba", model, w, rows, options, true);
  softmax_rows_in_place(p);
  return p;
}

template <class T>
std::vector<std::size_t> predict_classes(const nn::Module<T>& model, const Tensor<T>& w,
                                         std::type_identity_t<DatasetRef<T>> data, PredictOptions options) {
  return argmax_rows(predict_rows<T>("curv::datasets::predict_classes", model, w, data, options, true));
}

template <class T>
std::vector<std::size_t> predict_classes(const nn::Module<T>& model, const Tensor<T>& w, const Tensor<T>& inputs,
                                         PredictOptions options) {
  check_inputs("curv::datasets::predict_classes", inputs);
  const InputRows<T> rows(inputs);
  return argmax_rows(predict_rows<T>("curv::datasets::predict_classes", model, w, rows, options, true));
}

#define CURV_DATASETS_PREDICT(T)                                                                               \
  template Tensor<T> predict<T>(const nn::Module<T>&, const Tensor<T>&, DatasetRef<T>, PredictOptions);        \
  template Tensor<T> predict<T>(const nn::Module<T>&, const Tensor<T>&, const Tensor<T>&, PredictOptions);     \
  template Tensor<T> predict_proba<T>(const nn::Module<T>&, const Tensor<T>&, DatasetRef<T>, PredictOptions);  \
  template Tensor<T> predict_proba<T>(const nn::Module<T>&, const Tensor<T>&, const Tensor<T>&, PredictOptions); \
  template std::vector<std::size_t> predict_classes<T>(const nn::Module<T>&, const Tensor<T>&, DatasetRef<T>,  \
                                                       PredictOptions);                                        \
  template std::vector<std::size_t> predict_classes<T>(const nn::Module<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                       PredictOptions);
CURV_DATASETS_PREDICT(float)
CURV_DATASETS_PREDICT(double)
#undef CURV_DATASETS_PREDICT

}  // namespace curv::datasets
