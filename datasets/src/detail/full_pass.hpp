// What every full pass over a dataset sets up, shared by the Accumulator and
// predict: the model it runs (fused or as given), its thread count, and
// OpenBLAS kept on the calling thread while TBB owns the cores.
#pragma once

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <oneapi/tbb/info.h>

#include "curv/autodiff/blas.hpp"
#include "curv/nn/fuse.hpp"
#include "curv/nn/module.hpp"

namespace curv::datasets::detail {

// OpenBLAS single-threaded for the lifetime of the guard: TBB already keeps
// every core busy with one batch each, and nested BLAS threads would
// oversubscribe them.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : previous_(blas::num_threads()) { blas::set_num_threads(1); }
  ~SingleThreadedBlas() { blas::set_num_threads(previous_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

// The threads a pass runs on: `threads`, or every core TBB sees for 0;
// `fn` names the caller when threads < 0.
inline int resolve_threads(const char* fn, int threads) {
  if (threads < 0)
    throw std::invalid_argument(std::string(fn) + ": threads = " + std::to_string(threads) +
                                ", expected 0 (all cores) or a positive count");
  return threads == 0 ? std::max(1, tbb::info::default_concurrency()) : threads;
}

// nn::fuse(model) when `fuse`, else null (run the caller's model, not owned).
template <class T>
std::shared_ptr<const nn::Module<T>> fused_or_null(const nn::Module<T>& model, bool fuse) {
  return fuse ? nn::fuse(std::shared_ptr<const nn::Module<T>>(std::shared_ptr<void>(), &model)) : nullptr;
}

}  // namespace curv::datasets::detail
