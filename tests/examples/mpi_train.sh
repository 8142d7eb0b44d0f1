#!/usr/bin/env bash
# curv-train under mpirun (docs/distributed.md), on 300 images of
# data/mnist-small in float64 and float32:
#  (a) 5 SCG iterations as 2 and as 3 ranks give the 1-process losses
#      (train and validation, every epoch; float64 within 1e-12 relative,
#      float32 within 1e-5) and the same test accuracy;
#  (b) 2 ranks stopped after 3 epochs and resumed to 5 end with the
#      uninterrupted 2-rank run's log rows and parameters, bit for bit;
#  (c) resuming that checkpoint with 3 ranks is refused, naming mpirun -np;
#  (d) sgd, and adam with Dropout, as 2 and 3 ranks (each minibatch split
#      across them) give the 1-process losses within 1e-12 (float64);
#  --export-data under 2 ranks is refused once, clearly.
# Skips when data/mnist-small has not been prepared (fails instead under
# CURV_REQUIRE_DATA=1).
# Usage: mpi_train.sh <curv-train> <mpirun> <source-dir> <scratch-dir>
set -euo pipefail
bin=$1 mpirun=$2 src=$3 out=$4
rm -rf "$out" && mkdir -p "$out"
fail() { echo "$*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

mnist=$src/data/mnist-small
if [ ! -f "$mnist/train-labels-idx1-ubyte" ] && [ ! -f "$mnist/train-labels-idx1-ubyte.gz" ]; then
  [ "${CURV_REQUIRE_DATA:-0}" = 1 ] && fail "no $mnist and CURV_REQUIRE_DATA=1: run scripts/fetch-data.sh"
  echo "no $mnist: skipping the mpirun runs"
  exit 0
fi
# One thread per rank: 3 ranks on a 2-core machine already oversubscribe it.
small=(--dataset "$mnist" --train-size 300 --val-size 100 --test-size 100 --batch-size 64 --threads 1 --seed 3 -q)
run() {  # run <ranks> <args...>
  local k=$1
  shift
  if [ "$k" = 1 ]; then "$bin" "${small[@]}" "$@"; else "$mpirun" -np "$k" "$bin" "${small[@]}" "$@"; fi
}

# The losses of a log (columns 4 and 5: train_loss, val_loss), one line per epoch.
losses() { awk -F, 'NR > 1 { print $4, $5 }' "$1"; }
# Every loss of log $2 within relative tolerance $3 of log $1's, as many epochs.
close() {
  paste -d' ' <(losses "$1") <(losses "$2") | awk -v tol="$3" '
    function rel(a, b) { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; return d / m }
    { n++; if (NF != 4 || rel($3, $1) > tol || rel($4, $2) > tol) { print "epoch " NR - 1 ": " $0; bad = 1 } }
    { g = rel($3, $1); if (g > worst) worst = g; g = rel($4, $2); if (g > worst) worst = g }
    END { printf "largest relative difference %.3g\n", worst; exit bad || n != 6 }'
}

for dtype in float64 float32; do
  tol=1e-12
  [ "$dtype" = float32 ] && tol=1e-5
  for k in 1 2 3; do
    run "$k" --dtype "$dtype" --epochs 5 --log "$out/$dtype-$k.csv" >"$out/$dtype-$k.txt" ||
      fail "$k rank(s), $dtype: curv-train failed: $(cat "$out/$dtype-$k.txt")"
    [ "$(grep -c '^test_loss=' "$out/$dtype-$k.txt")" = 1 ] || fail "$k rank(s): expected one test_accuracy line (rank 0's)"
  done
  for k in 2 3; do
    echo -n "$dtype, $k ranks against one process: "
    close "$out/$dtype-1.csv" "$out/$dtype-$k.csv" "$tol" ||
      fail "$dtype: $k ranks' losses differ from one process's by more than $tol (above)"
    [ "$(grep -o 'test_accuracy=.*' "$out/$dtype-$k.txt")" = "$(grep -o 'test_accuracy=.*' "$out/$dtype-1.txt")" ] ||
      fail "$dtype: $k ranks' test accuracy differs from one process's"
  done
done
echo "2 and 3 ranks: the 1-process SCG losses (float64 1e-12, float32 1e-5)"

full=(--dtype float64 --epochs 5 --checkpoint)
run 2 "${full[@]}" "$out/whole" --log "$out/whole.csv" --save-model "$out/whole.npy" >/dev/null || fail "2 ranks, 5 epochs failed"
run 2 --dtype float64 --epochs 3 --checkpoint "$out/part" --log "$out/part.csv" >/dev/null || fail "2 ranks, 3 epochs failed"
run 2 "${full[@]}" "$out/part" --resume --log "$out/part.csv" --save-model "$out/part.npy" >"$out/resumed.txt" ||
  fail "2 ranks could not resume: $(cat "$out/resumed.txt")"
cmp -s "$out/whole.npy" "$out/part.npy" || fail "2 ranks resumed: the final parameters differ from the uninterrupted run's"
diff <(cut -d, -f1,2,4- "$out/whole.csv") <(cut -d, -f1,2,4- "$out/part.csv") >/dev/null ||
  fail "2 ranks resumed: the log differs from the uninterrupted run's (seconds aside)"
echo "2 ranks: stopped at epoch 3 and resumed, bit-identical"

if run 3 "${full[@]}" "$out/part" --resume >"$out/three.txt" 2>&1; then fail "a 2-rank checkpoint was resumed by 3 ranks"; fi
grep -q "ranks = 2, this run has ranks = 3 (mpirun -np" "$out/three.txt" ||
  fail "resuming with 3 ranks: no message naming the rank counts: $(cat "$out/three.txt")"
if run 2 --epochs 1 --export-data "$out/d.npz" >"$out/export.txt" 2>&1; then fail "--export-data ran under 2 ranks"; fi
grep -q "^curv-train: --export-data .*: cannot be used under mpirun -np 2" "$out/export.txt" ||
  fail "--export-data under 2 ranks: unclear refusal: $(cat "$out/export.txt")"
[ "$(grep -c 'curv-train' "$out/export.txt")" = 1 ] || fail "--export-data under 2 ranks: the refusal was printed more than once"
echo "mpirun: a checkpoint of 2 ranks refused by 3, --export-data refused once"

# (d) minibatch steps: each global minibatch split across the ranks.
for opt in sgd adam; do
  extra=()
  [ "$opt" = adam ] && extra=(--dropout 0.2)  # Dropout masks follow the example across shards
  for k in 1 2 3; do
    run "$k" --dtype float64 --optimizer "$opt" "${extra[@]}" --epochs 5 --log "$out/$opt-$k.csv" >"$out/$opt-$k.txt" ||
      fail "$opt, $k rank(s): curv-train failed: $(cat "$out/$opt-$k.txt")"
  done
  for k in 2 3; do
    echo -n "$opt, $k ranks against one process: "
    close "$out/$opt-1.csv" "$out/$opt-$k.csv" 1e-12 ||
      fail "$opt: $k ranks' losses differ from one process's by more than 1e-12 (above)"
  done
done
echo "2 and 3 ranks: the 1-process sgd and adam losses (float64 1e-12)"
