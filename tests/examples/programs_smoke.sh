#!/usr/bin/env bash
# Runs every example program on tiny settings and every gnuplot script on
# their output, checking that each PNG is written. Skips (77) without gnuplot;
# skips the MNIST programs when data/mnist-small has not been prepared.
# Usage: programs_smoke.sh <examples-build-dir> <source-dir> <scratch-dir>
set -euo pipefail
bin=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
command -v gnuplot >/dev/null || { echo "gnuplot not installed: skipping"; exit 77; }
plot() { gnuplot -e "$1" "$src/examples/plots/$2"; test -s "$3" || { echo "no $3" >&2; exit 1; }; }

"$bin/newton1d" --out "$out" >/dev/null
plot "dir='$out'; outfile='$out/fig1.png'" newton1d.gp "$out/fig1.png"
"$bin/rosenbrock" --out "$out" --max-iterations 3000 >/dev/null
plot "dir='$out'; outfile='$out/fig2.png'" rosenbrock.gp "$out/fig2.png"
grep -q '^scg,.*,1,' "$out/rosenbrock_summary.csv" || { echo "SCG did not reach the Rosenbrock minimum" >&2; exit 1; }

mnist=$src/data/mnist-small
if [ ! -f "$mnist/train-labels-idx1-ubyte" ] && [ ! -f "$mnist/train-labels-idx1-ubyte.gz" ]; then
  if [ "${CURV_REQUIRE_DATA:-0}" = 1 ]; then
    echo "no $mnist and CURV_REQUIRE_DATA=1: run scripts/fetch-data.sh" >&2
    exit 1
  fi
  echo "no $mnist: skipping curv-train, batch_sweep and compare"
  exit 0
fi
small=(--dataset "$mnist" --model mlp --hidden 16 --train-size 300 --val-size 100 --test-size 100)
"$bin/curv-train" "${small[@]}" --epochs 4 --log "$out/scg.csv" >"$out/train.txt"
grep -q '^test_loss=.* test_accuracy=0\.[0-9]*$' "$out/train.txt"
plot "log='$out/scg.csv'; outfile='$out/fig3.png'" scg_trace.gp "$out/fig3.png"
"$bin/batch_sweep" "${small[@]}" --epochs 3 --batch-sizes 32,256,-1 --out "$out/sweep" >"$out/sweep.txt"
grep -q '^max_relative_difference=' "$out/sweep.txt"
plot "dir='$out/sweep'; outfile='$out/fig4.png'" batch_sweep.gp "$out/fig4.png"
"$bin/compare" "${small[@]}" --passes 4 --out "$out/compare" >/dev/null
plot "dir='$out/compare'; outfile='$out/compare.png'" compare.gp "$out/compare.png"
# compare runs every optimizer of curv-train's table, not only its default three.
"$bin/compare" "${small[@]}" --passes 3 --optimizers lbfgs,cg --out "$out/compare_table" >/dev/null
[ "$(cut -d, -f1 "$out/compare_table/compare_summary.csv" | tr '\n' ' ')" = "optimizer lbfgs cg " ] ||
  { echo "compare did not run lbfgs and cg from the table" >&2; exit 1; }
"$bin/compare" "${small[@]}" --passes 6 --optimizers hf,trust-ncg --out "$out/compare_newton" >/dev/null
[ "$(cut -d, -f1 "$out/compare_newton/compare_summary.csv" | tr '\n' ' ')" = "optimizer hf trust-ncg " ] ||
  { echo "compare did not run hf and trust-ncg from the table" >&2; exit 1; }
echo "all programs and plots ran"
