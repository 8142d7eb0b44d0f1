// The process-wide pool behind curv::BufferAllocator.
#include "curv/autodiff/buffer_pool.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace curv {
namespace {

constexpr std::align_val_t alignment{64};

// The size class of a large request: rounded up to 1/8 of its power of two.
std::size_t class_bytes(std::size_t bytes) {
  const std::size_t step = std::bit_floor(bytes) / 8;
  return (bytes + step - 1) / step * step;
}

std::size_t default_limit() {
#if defined(__SANITIZE_ADDRESS__)
  return 0;  // let AddressSanitizer see every use after free
#endif
  if (const char* env = std::getenv("CURV_BUFFER_POOL_MB"); env && *env) {
    try {
      return static_cast<std::size_t>(std::stoull(env)) << 20;
    } catch (const std::exception&) {
      // An unreadable setting keeps the default; the pool only affects speed.
    }
  }
  return std::size_t{2} << 30;
}

struct Block {
  std::size_t bytes;
  void* p;
};

class Pool {
 public:
  ~Pool() {
    for (const Block& b : blocks_) ::operator delete(b.p, alignment);
  }

  void* allocate(std::size_t bytes) {
    const std::size_t c = class_bytes(bytes);
    {
      std::lock_guard lock(mutex_);
      if (void* p = take(c)) return p;
    }
    void* p = ::operator new(c, alignment);
    std::lock_guard lock(mutex_);
    ++misses_;
    in_use_ += c;
    peak_ = std::max(peak_, in_use_ + cached_);
    return p;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    std::size_t c = class_bytes(bytes);
    {
      std::lock_guard lock(mutex_);
      if (!oversized_.empty()) {
        if (const auto it = oversized_.find(p); it != oversized_.end()) {
          c = it->second;
          oversized_.erase(it);
        }
      }
      in_use_ -= c;
      if (cached_ + c <= limit_) {
        try {
          blocks_.push_back({c, p});
          cached_ += c;
          return;
        } catch (...) {
          // No room to remember it: free it below.
        }
      }
    }
    ::operator delete(p, alignment);
  }

  void set_limit(std::size_t bytes) {
    std::vector<Block> drop;
    {
      std::lock_guard lock(mutex_);
      limit_ = bytes;
      while (cached_ > limit_) {  // the oldest go first
        drop.push_back(blocks_.front());
        cached_ -= blocks_.front().bytes;
        blocks_.erase(blocks_.begin());
      }
    }
    for (const Block& b : drop) ::operator delete(b.p, alignment);
  }

  void reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = in_use_ + cached_;
  }

  BufferPoolStats stats() {
    std::lock_guard lock(mutex_);
    return {cached_, limit_, hits_, misses_, in_use_, peak_};
  }

 private:
  // The cached block to serve class c: the most recently freed one of class c
  // (the warmest memory), else the smallest one of a larger class up to 2c;
  // blocks_.size() when there is none.
  std::size_t find(std::size_t c) const {
    std::size_t best = blocks_.size();
    for (std::size_t i = blocks_.size(); i-- > 0;) {
      const std::size_t b = blocks_[i].bytes;
      if (b == c) return i;
      if (b > c && b <= 2 * c && (best == blocks_.size() || b < blocks_[best].bytes)) best = i;
    }
    return best;
  }

  // A cached block for class c (see find), now in use; null when there is
  // none. Called with the mutex held.
  void* take(std::size_t c) {
    const std::size_t i = find(c);
    if (i == blocks_.size()) return nullptr;
    const Block b = blocks_[i];
    if (b.bytes != c) {
      try {
        oversized_.emplace(b.p, b.bytes);
      } catch (...) {
        return nullptr;  // its size could not be remembered: leave it cached
      }
    }
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
    cached_ -= b.bytes;
    in_use_ += b.bytes;
    ++hits_;
    return b.p;
  }

  std::mutex mutex_;
  std::vector<Block> blocks_;
  // Blocks handed out for a smaller class than their own, and their own:
  // deallocate is told only the size that was asked for.
  std::unordered_map<void*, std::size_t> oversized_;
  std::size_t cached_ = 0;
  std::size_t limit_ = default_limit();
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
  std::size_t in_use_ = 0;
  std::size_t peak_ = 0;
};

// Never destroyed before the last Tensor: a static Tensor elsewhere may be
// freed after this file's statics are gone.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

}  // namespace

void set_buffer_pool_limit(std::size_t bytes) { pool().set_limit(bytes); }
void release_buffer_pool() {
  Pool& p = pool();
  const std::size_t limit = p.stats().limit_bytes;
  p.set_limit(0);
  p.set_limit(limit);
  p.reset_peak();
}
BufferPoolStats buffer_pool_stats() { return pool().stats(); }

namespace detail {

void* pool_allocate(std::size_t bytes) {
  if (bytes < pool_min_bytes) return ::operator new(bytes == 0 ? 1 : bytes);
  return pool().allocate(bytes);
}

void pool_deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes < pool_min_bytes) {
    ::operator delete(p);
    return;
  }
  pool().deallocate(p, bytes);
}

}  // namespace detail
}  // namespace curv
