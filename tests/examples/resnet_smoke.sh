#!/usr/bin/env bash
# Runs examples/resnet for a few epochs with SCG and with Adam on 200 images
# of data/mnist-small and checks that each run completes and lowers the
# training loss (measured in evaluation mode before and after), that SCG's
# loss never rises from one epoch to the next, and that a missing data
# folder is refused. Skips when data/mnist-small has not been prepared
# (fails instead under CURV_REQUIRE_DATA=1).
# Usage: resnet_smoke.sh <resnet-binary> <source-dir> <scratch-dir>
set -euo pipefail
bin=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
fail() { echo "$*" >&2; exit 1; }

"$bin" --data "$out/no-such-folder" >"$out/missing.txt" 2>&1 && fail "resnet accepted a missing data folder"
grep -q "no data folder $out/no-such-folder" "$out/missing.txt" || fail "resnet did not name the missing folder"

mnist=$src/data/mnist-small
if [ ! -f "$mnist/train-labels-idx1-ubyte" ] && [ ! -f "$mnist/train-labels-idx1-ubyte.gz" ]; then
  [ "${CURV_REQUIRE_DATA:-0}" = 1 ] && fail "no $mnist and CURV_REQUIRE_DATA=1: run scripts/fetch-data.sh"
  echo "no $mnist: skipping the resnet runs"
  exit 0
fi
small=(--data "$mnist" --epochs 3 --train-size 200 --val-size 100 --test-size 100 --seed 5)
for optimizer in scg adam; do
  log=$out/$optimizer.txt
  "$bin" "${small[@]}" --optimizer "$optimizer" >"$log" || fail "resnet --optimizer $optimizer failed"
  grep -q '^parameters: [1-9][0-9]*$' "$log" || fail "$optimizer: no parameter count"
  [ "$(grep -Ec '^epoch [0-3] .* val_accuracy [01]\.[0-9]+ ' "$log")" = 4 ] || fail "$optimizer: expected epochs 0 to 3 with a validation accuracy"
  grep -Eq '^test_loss=.* test_accuracy=[01](\.[0-9]+)?$' "$log" || fail "$optimizer: no test accuracy"
  awk -F'[= ]' '/^train_loss_start=/ { found = 1; lower = $4 < $2 } END { exit !(found && lower) }' "$log" ||
    fail "$optimizer: the training loss did not decrease: $(grep '^train_loss_start=' "$log")"
done
# SCG only takes steps that lower E (a failed step keeps w), so its loss never rises.
awk '/^epoch [1-9]/ { if ($4 > prev) exit 1 } /^epoch / { prev = $4 }' "$out/scg.txt" ||
  fail "SCG's training loss rose between epochs: $(grep '^epoch' "$out/scg.txt")"
echo "resnet trains with scg and adam"
