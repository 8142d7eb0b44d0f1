// curv's buffer pool: a second tape of the same shapes is served from the
// buffers the first one freed, a smaller request from a larger idle block;
// the pool stays within its limit and reports its footprint.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "curv/autodiff.hpp"

namespace {

using namespace curv;

bool pool_enabled() { return buffer_pool_stats().limit_bytes > 0; }  // off under AddressSanitizer

// A scalar function whose tape holds a few 80 KiB .. 320 KiB tensors.
ad::Var<double> f(const ad::Var<double>& x) {
  const ad::Var<double> h = ad::tanh(ad::matmul(ad::reshape(x, {100, 100}), ad::reshape(x, {100, 100})));
  return ad::sum(ad::square(h));
}

Tensor<double> point() {
  Tensor<double> x = Tensor<double>::from_shape({10000});
  for (std::size_t i = 0; i < x.size(); ++i) x(i) = 0.01 * static_cast<double>(i % 17) - 0.08;
  return x;
}

TEST(BufferPool, ASecondTapeOfTheSameShapesIsServedFromTheFirstTapesBuffers) {
  if (!pool_enabled()) GTEST_SKIP() << "the pool is off in this build (AddressSanitizer)";
  const Tensor<double> x = point(), v = point();
  ad::hvp(f, x, v);  // warm: whatever the pool lacked is allocated now
  const BufferPoolStats before = buffer_pool_stats();
  const auto r = ad::hvp(f, x, v);
  const BufferPoolStats after = buffer_pool_stats();
  EXPECT_EQ(after.misses, before.misses) << "a large buffer was allocated afresh instead of reused";
  EXPECT_GT(after.hits, before.hits);
  EXPECT_EQ(r.hv.size(), x.size());
}

TEST(BufferPool, KeepsAtMostItsLimitAndReleaseFreesEverything) {
  if (!pool_enabled()) GTEST_SKIP() << "the pool is off in this build (AddressSanitizer)";
  const std::size_t old_limit = buffer_pool_stats().limit_bytes;
  release_buffer_pool();
  set_buffer_pool_limit(std::size_t{1} << 20);
  {
    std::vector<Tensor<float>> live;
    for (int i = 0; i < 6; ++i) live.push_back(Tensor<float>::from_shape({std::size_t{1} << 17}));  // 512 KiB each
  }
  EXPECT_LE(buffer_pool_stats().cached_bytes, std::size_t{1} << 20);
  EXPECT_GT(buffer_pool_stats().cached_bytes, 0u);
  release_buffer_pool();
  EXPECT_EQ(buffer_pool_stats().cached_bytes, 0u);
  set_buffer_pool_limit(old_limit);
  EXPECT_EQ(buffer_pool_stats().limit_bytes, old_limit);
}

TEST(BufferPool, RoundsRequestsUpByAtMostAnEighth) {
  if (!pool_enabled()) GTEST_SKIP() << "the pool is off in this build (AddressSanitizer)";
  for (const std::size_t n : {std::size_t{70001}, std::size_t{131073}, std::size_t{1000003}}) {
    release_buffer_pool();
    { Tensor<char> t = Tensor<char>::from_shape({n}); }
    const std::size_t kept = buffer_pool_stats().cached_bytes;
    EXPECT_GE(kept, n) << n;
    EXPECT_LE(static_cast<double>(kept), 1.125 * static_cast<double>(n)) << n;
  }
  { Tensor<char> small = Tensor<char>::from_shape({1000}); }  // below pool_min_bytes: not kept
  release_buffer_pool();
  { Tensor<char> small = Tensor<char>::from_shape({1000}); }
  EXPECT_EQ(buffer_pool_stats().cached_bytes, 0u);
}

TEST(BufferPool, ServesASmallerRequestFromTheSmallestCachedBlockUpToTwiceItsSize) {
  if (!pool_enabled()) GTEST_SKIP() << "the pool is off in this build (AddressSanitizer)";
  release_buffer_pool();
  const std::size_t n = std::size_t{1} << 18;  // 2 MiB of double
  const double* big_buffer = nullptr;
  {
    Tensor<double> big = Tensor<double>::from_shape({n});  // e.g. a full minibatch's activation
    Tensor<double> larger = Tensor<double>::from_shape({3 * n});  // more than twice a half
    big_buffer = big.data();
  }
  const BufferPoolStats before = buffer_pool_stats();
  {
    // e.g. the same activation of a short last batch: no new memory
    Tensor<double> half = Tensor<double>::from_shape({n / 2 + 1000});
    EXPECT_EQ(half.data(), big_buffer) << "not served from the smallest block that fits";
    const BufferPoolStats during = buffer_pool_stats();
    EXPECT_EQ(during.misses, before.misses);
    EXPECT_EQ(during.hits, before.hits + 1);
    EXPECT_EQ(during.in_use_bytes, n * sizeof(double)) << "the block's own size is in use";
  }
  // Back in the pool at its own size, and a full-sized request finds it again.
  const BufferPoolStats after = buffer_pool_stats();
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);
  EXPECT_EQ(after.in_use_bytes, 0u);
  {
    Tensor<double> again = Tensor<double>::from_shape({n});
    EXPECT_EQ(again.data(), big_buffer);
  }
  // Less than half a block's size is a miss: a small request does not tie up
  // a large block that a large request will want.
  {
    Tensor<double> quarter = Tensor<double>::from_shape({n / 4});
    EXPECT_EQ(buffer_pool_stats().misses, after.misses + 1);
  }
  EXPECT_EQ(buffer_pool_stats().peak_bytes, before.cached_bytes + (n / 4) * sizeof(double));
  release_buffer_pool();
  EXPECT_EQ(buffer_pool_stats().peak_bytes, 0u);
}

}  // namespace
