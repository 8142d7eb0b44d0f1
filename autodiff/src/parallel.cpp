// curv::for_each_chunk's parallel part (see parallel.hpp).
#include "curv/autodiff/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

namespace curv::detail {

void run_chunks(std::size_t n, std::size_t chunk, void (*body)(void*, std::size_t, std::size_t), void* f) {
  const std::size_t chunks = (n + chunk - 1) / chunk;
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, chunks, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t k = r.begin(); k != r.end(); ++k) body(f, k * chunk, std::min(n, (k + 1) * chunk));
        },
        tbb::simple_partitioner());
  });
}

}  // namespace curv::detail
