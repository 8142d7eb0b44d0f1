// curv::BufferAllocator, the allocator of every Tensor: large buffers freed by
// one tape are kept and handed to the next.
//
// Training records a tape of the same shapes for every minibatch and frees it
// at the end. With a general-purpose malloc the large blocks go back to the
// kernel (mmap/munmap, heap trimming) and the next tape page-faults them in
// again: a fifth of the article CNN's gradient time went to the kernel. The
// pool keeps freed buffers of at least pool_min_bytes in size classes
// (8 per power of two, so at most 12.5 % is wasted) up to a byte limit, and
// serves requests of the same class from them. Smaller buffers go straight to
// operator new, which serves them well.
//
// A request none of whose class is cached takes the smallest cached block of
// up to twice its size rather than new memory: a short last minibatch then
// runs in the full batches' idle buffers instead of adding a set of its own
// sizes to the process (6-7 MiB for the article CNN's float64 H·v at batch
// 32). Such a block is remembered by address, so that it returns to the pool
// at its own size. Smaller requests than half a block never take it: it would
// be missed by the next request of its own size.
//
// The pool is one process-wide list behind a mutex: large allocations are a
// few dozen per tape, and a buffer freed on one thread may serve another.
// Nothing about the values depends on it: a reused buffer is uninitialized
// memory like a fresh one.
#pragma once

#include <cstddef>
#include <new>

namespace curv {

struct BufferPoolStats {
  std::size_t cached_bytes = 0;  // held for reuse now
  std::size_t limit_bytes = 0;   // most that is ever held for reuse
  std::size_t hits = 0;          // large allocations served from the pool
  std::size_t misses = 0;        // large allocations that went to operator new
  std::size_t in_use_bytes = 0;  // handed out and not yet freed (whole blocks)
  // The most in_use_bytes + cached_bytes has been since the process started
  // or release_buffer_pool() was last called: the pool's share of peak memory
  // (pages of a block that were never written are not resident, so it can
  // exceed what the process touched by up to the classes' rounding).
  std::size_t peak_bytes = 0;
};

// Buffers smaller than this bypass the pool.
inline constexpr std::size_t pool_min_bytes = std::size_t{1} << 16;

// The most bytes the pool keeps for reuse (default 2 GiB, or the value in MiB
// of the environment variable CURV_BUFFER_POOL_MB read at first use). A lower
// limit frees cached buffers at once.
void set_buffer_pool_limit(std::size_t bytes);
// Frees every cached buffer (e.g. after training, before other work) and
// restarts peak_bytes from what is in use.
void release_buffer_pool();
BufferPoolStats buffer_pool_stats();

namespace detail {
void* pool_allocate(std::size_t bytes);
void pool_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

template <class T>
struct BufferAllocator {
  using value_type = T;

  BufferAllocator() noexcept = default;
  template <class U>
  BufferAllocator(const BufferAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::pool_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { detail::pool_deallocate(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const BufferAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace curv
