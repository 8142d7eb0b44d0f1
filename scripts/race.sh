#!/usr/bin/env bash
# The race (docs/optimizers.md, "The race"): curv's optimizers on the
# article's problem — the article CNN on the full MNIST split 50,000 /
# 10,000 / 10,000, float32, seed 0 (one initialization), batch 256 — each
# for a budget of passes over the training data, with the test accuracy
# logged after every epoch (--log-test). Then a summary of passes and
# optimizer seconds to 97 % and to the article's 97.92 %, and the figure.
#
#   scripts/race.sh [--passes P] [--epochs E] [--only a,b,...] [--out DIR] [--threads N] [--extend]
#
#   --passes P   budget of the full-dataset optimizers (default 100)
#   --epochs E   epochs of each Adam and SGD run (default 15; each is also
#                stopped at P passes)
#   --only LIST  run only these runs (names below), e.g. --only scg,adam-1e-3
#   --out DIR    logs, checkpoints, outputs and the summary (default out/race)
#   --extend     resume the finished runs from their checkpoints up to the
#                new --passes / --epochs (curv-train resumes bit-identically)
#
# Runs (name: options): scg (exact H·p), scg-gn (Gauss–Newton), hf
# (Gauss–Newton, curvature on a new 10 % each iteration), hf-lambda-0.05
# (the same from λ₁ = 0.05, near where hf's λ settles), trust-ncg (exact
# H·v on 10 %), lbfgs, cg, adam-LR for LR in 3e-4 1e-3 3e-3, sgd-LR
# (momentum 0.9) for LR in 0.01 0.03 0.1: the learning rates are a grid of
# half-decades around each optimizer's usual default; the race reports them
# all and names the best by its validation accuracy.
#
# A finished run leaves DIR/NAME.done and is skipped when the script runs
# again (delete the file to redo it; --extend continues it); an interrupted
# one starts afresh.
# Needs build/release/examples/curv-train (CURV_BUILD_DIR) and the data of
# scripts/fetch-data.sh; the figure needs gnuplot.
set -euo pipefail
cd "$(dirname "$0")/.."

passes=100
epochs=15
only=""
out=out/race
threads=2
extend=0
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) passes="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --extend) extend=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "race.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

train="${CURV_BUILD_DIR:-build/release}/examples/curv-train"
[ -x "$train" ] || { echo "race.sh: no $train; build curv first (README)" >&2; exit 1; }
mkdir -p "$out"

run() {  # run NAME OPTIONS...
  local name="$1"
  shift
  if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then return 0; fi
  local mode=--overwrite
  if [ -e "$out/$name.done" ]; then
    if [ "$extend" = 0 ] || [ ! -e "$out/$name.ckpt/checkpoint.curv" ]; then
      echo "== $name: done before, skipped"
      return 0
    fi
    mode=--resume
  fi
  echo "== $name: $*"
  "$train" --dataset mnist --dtype float32 --seed 0 --batch-size 256 --threads "$threads" --log-test \
    --log "$out/$name.csv" --checkpoint "$out/$name.ckpt" $mode "$@" >> "$out/$name.out"
  tail -n 2 "$out/$name.out"
  touch "$out/$name.done"
}

full=(--max-passes "$passes" --epochs "$passes")
for lr in 3e-4 1e-3 3e-3; do run "adam-$lr" --optimizer adam --lr "$lr" --epochs "$epochs" --max-passes "$passes"; done
run scg --optimizer scg "${full[@]}"
run hf --optimizer hf --curvature gauss-newton --curvature-fraction 0.1 "${full[@]}"
run hf-lambda-0.05 --optimizer hf --curvature gauss-newton --curvature-fraction 0.1 --lambda-initial 0.05 "${full[@]}"
run trust-ncg --optimizer trust-ncg --curvature-fraction 0.1 "${full[@]}"
for lr in 0.01 0.03 0.1; do
  run "sgd-$lr" --optimizer sgd --lr "$lr" --momentum 0.9 --epochs "$epochs" --max-passes "$passes"
done
run scg-gn --optimizer scg --curvature gauss-newton "${full[@]}"
run lbfgs --optimizer lbfgs "${full[@]}"
run cg --optimizer cg "${full[@]}"

# The summary: for each log, the first row at or above 97 % and 97.92 % test
# accuracy (passes, optimizer seconds), the last row and the best accuracy.
summary="$out/race_summary.csv"
echo "run,passes_to_97,seconds_to_97,passes_to_97.92,seconds_to_97.92,passes,seconds,final_test_accuracy,best_test_accuracy" > "$summary"
for log in "$out"/*.csv; do
  [ "$log" = "$summary" ] && continue
  awk -F, -v run="$(basename "$log" .csv)" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    {
      p = $col["passes"]; s = $col["seconds"]; a = $col["test_accuracy"]
      if (a !~ /^[0-9.]+$/) next
      if (a >= 0.97 && p97 == "") { p97 = p; s97 = s }
      if (a >= 0.9792 && p9792 == "") { p9792 = p; s9792 = s }
      if (a > best) best = a
      last_p = p; last_s = s; last_a = a
    }
    END {
      printf "%s,%s,%s,%s,%s,%.4g,%.4g,%s,%s\n", run, (p97 == "" ? "-" : sprintf("%.4g", p97)),
        (s97 == "" ? "-" : sprintf("%.4g", s97)), (p9792 == "" ? "-" : sprintf("%.4g", p9792)),
        (s9792 == "" ? "-" : sprintf("%.4g", s9792)), last_p, last_s, last_a, best
    }' "$log" >> "$summary"
done
column -s, -t "$summary"
if command -v gnuplot > /dev/null; then
  gnuplot -e "dir='$out'" examples/plots/race.gp && echo "figure: $out/race.png"
fi
