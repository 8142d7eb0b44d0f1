// curv::for_each_chunk, the one parallel loop of curv's kernels: fixed chunks
// of an index range on TBB's threads.
//
// The chunks are [k·chunk, min(n, (k+1)·chunk)) for k = 0, 1, …: fixed by n
// and chunk alone, never by the thread count or by how TBB schedules them. A
// kernel that writes each chunk's own elements, or a partial sum per chunk
// that it then adds up in chunk order, therefore gives the same bits on any
// number of threads (the Accumulator's and fused conv's reproducibility
// tests rely on it).
//
// The loop runs isolated (tbb::this_task_arena::isolate): a thread waiting for
// its chunks never takes up an unrelated outer task meanwhile, such as
// another of the Accumulator's minibatches, which would hold this loop up
// until that task ended. A single chunk runs on the calling thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <type_traits>

namespace curv {

namespace detail {
// body(f, first, last) for every chunk, on TBB's threads (src/parallel.cpp:
// TBB stays out of the public headers).
void run_chunks(std::size_t n, std::size_t chunk, void (*body)(void*, std::size_t, std::size_t), void* f);
}  // namespace detail

// Calls f(first, last) once for every chunk [first, last) of [0, n), in
// parallel and in no particular order. chunk ≥ 1.
template <class F>
void for_each_chunk(std::size_t n, std::size_t chunk, F&& f) {
  if (chunk == 0) throw std::invalid_argument("curv::for_each_chunk: chunk = 0, expected at least 1");
  if (n <= chunk) {
    if (n > 0) f(std::size_t{0}, n);
    return;
  }
  detail::run_chunks(
      n, chunk,
      [](void* g, std::size_t first, std::size_t last) { (*static_cast<std::remove_reference_t<F>*>(g))(first, last); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace curv
