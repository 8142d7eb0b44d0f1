#!/usr/bin/env bash
# Builds the libFuzzer targets of curv's readers of untrusted files (tests/fuzz:
# npz/npy, IDX plain and gzip, curv-train's checkpoint) with clang in build/fuzz,
# replays their seed and regression corpora, then fuzzes each target for a
# bounded time. Fails on any finding (crash, sanitizer report, leak, uncaught
# exception, an allocation above 512 MB, an input taking over 10 s).
#   scripts/fuzz.sh                   60 s per target (CURV_FUZZ_SECONDS overrides)
#   scripts/fuzz.sh --seconds 1200    20 minutes per target
#   scripts/fuzz.sh --replay          only replay the corpora
# Inputs that add coverage are kept in build/fuzz/corpus/<target> between runs;
# a finding is written to build/fuzz/findings/<target>/: once the reader is
# fixed, copy it into tests/fuzz/regression/<target>/ (see docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${CURV_FUZZ_SECONDS:-60}
replay_only=0
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --replay) replay_only=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds $seconds: expected a whole number of seconds" >&2; exit 2; }

targets=(npz idx checkpoint)
echo "== libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) in build/fuzz"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCURV_BUILD_FUZZERS=ON -DCURV_BUILD_TESTS=OFF -DCURV_BUILD_BENCHMARKS=OFF -DCURV_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/fuzz_$t
  echo "== fuzz_$t: replaying tests/fuzz/corpus/$t and tests/fuzz/regression/$t"
  mkdir -p build/fuzz/findings
  "$bin" tests/fuzz/corpus/"$t"/* tests/fuzz/regression/"$t"/* >build/fuzz/findings/"$t".replay.log 2>&1 ||
    { tail -n 60 build/fuzz/findings/"$t".replay.log
      echo "fuzz.sh: fuzz_$t fails on its committed corpus (run: $bin tests/fuzz/regression/$t/*)" >&2; exit 1; }
  echo "$(grep -c '^Executed' build/fuzz/findings/"$t".replay.log) inputs, no finding"
done
((replay_only)) && exit 0

for t in "${targets[@]}"; do
  echo "== fuzz_$t: fuzzing for $seconds s"
  mkdir -p build/fuzz/corpus/"$t" build/fuzz/findings/"$t"
  build/fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -malloc_limit_mb=512 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/findings/"$t"/ \
    build/fuzz/corpus/"$t" tests/fuzz/corpus/"$t" >build/fuzz/findings/"$t".log 2>&1 ||
    { tail -n 80 build/fuzz/findings/"$t".log; echo "fuzz.sh: fuzz_$t found an input that breaks the reader; see build/fuzz/findings/$t/" >&2; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/findings/"$t".log
  echo "corpus: $(ls build/fuzz/corpus/"$t" | wc -l) inputs in build/fuzz/corpus/$t"
done
