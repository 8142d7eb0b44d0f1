// curv::for_each_chunk: the chunks are fixed by n and chunk alone, each is
// visited once, and per-chunk partial sums reduce to the same bits on any
// number of threads.
#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "curv/autodiff/parallel.hpp"

namespace {

std::set<std::pair<std::size_t, std::size_t>> chunks_of(std::size_t n, std::size_t chunk) {
  std::mutex m;
  std::set<std::pair<std::size_t, std::size_t>> seen;
  curv::for_each_chunk(n, chunk, [&](std::size_t first, std::size_t last) {
    std::lock_guard<std::mutex> lock(m);
    EXPECT_TRUE(seen.emplace(first, last).second) << "chunk [" << first << ", " << last << ") visited twice";
  });
  return seen;
}

TEST(ForEachChunk, VisitsEveryFixedChunkOnce) {
  using Chunks = std::set<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(chunks_of(10, 4), (Chunks{{0, 4}, {4, 8}, {8, 10}}));
  EXPECT_EQ(chunks_of(12, 4), (Chunks{{0, 4}, {4, 8}, {8, 12}}));
  EXPECT_EQ(chunks_of(3, 4), (Chunks{{0, 3}}));  // one chunk, on the calling thread
  EXPECT_EQ(chunks_of(0, 4), Chunks{});
  EXPECT_EQ(chunks_of(1000, 1).size(), 1000u);
}

TEST(ForEachChunk, PerChunkSumsReducedInOrderAreTheSameOnOneAndTwoThreads) {
  const std::size_t n = 100'003, chunk = 1000;
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.37 * static_cast<double>(i)) * 1e3;
  auto sum = [&] {
    std::vector<double> partial((n + chunk - 1) / chunk, 0.0);
    curv::for_each_chunk(n, chunk, [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) partial[first / chunk] += x[i];
    });
    double total = 0;
    for (double p : partial) total += p;
    return total;
  };
  double one = 0, two = 0;
  {
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 1);
    one = sum();
  }
  {
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
    two = sum();
  }
  EXPECT_EQ(one, two);
}

TEST(ForEachChunk, RejectsAZeroChunk) {
  EXPECT_THROW(curv::for_each_chunk(10, 0, [](std::size_t, std::size_t) {}), std::invalid_argument);
}

}  // namespace
