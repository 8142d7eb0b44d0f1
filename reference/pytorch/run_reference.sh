#!/usr/bin/env bash
# Trains the article CNN with SCG in curv-train and in the PyTorch reference
# from the same data and the same initial parameters, then compares the logs.
#
#   reference/pytorch/run_reference.sh OUT_DIR DTYPE ITERATIONS [curv-train data options...]
#
#   e.g. (the trajectory check on a slice, then the article's full-MNIST split):
#   reference/pytorch/run_reference.sh out/reference/traj64 float64 30 --train-size 600 --val-size 200 --test-size 200
#   reference/pytorch/run_reference.sh out/reference/full32 float32 10
#
# CURV_BUILD_DIR names the build folder with examples/curv-train (default
# build/release); PYTHON the Python with torch (default /usr/bin/python3);
# BATCH the minibatch size (default 256, as scripts/demo.sh); THREADS (default 2).
# curv-train exports the standardized split and its seeded initialization
# (--epochs 0 --export-data --save-model); both trainers then start from them.
# The data is the full MNIST (data/mnist-full, scripts/fetch-data.sh) unless
# the options name another --dataset. curv-train runs again after PyTorch, so
# the wall times of both are measured alternating, in one run on one machine.
# A rerun into the same OUT_DIR replaces its files (curv-train --overwrite).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 3 ] || { sed -n '2,16p' "$0"; exit 2; }
out=$1 dtype=$2 iterations=$3
shift 3
build=${CURV_BUILD_DIR:-build/release}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
python=${PYTHON:-/usr/bin/python3}
batch=${BATCH:-256}
threads=${THREADS:-2}
train="$build/examples/curv-train"
mkdir -p "$out"
dataset=(--dataset mnist --mnist-dir "$root/data/mnist-full")
for arg in "$@"; do [ "$arg" = --dataset ] && dataset=(); done
common=("${dataset[@]}" --model article-cnn --optimizer scg --batch-size "$batch"
        --dtype "$dtype" --threads "$threads" "$@")

echo "== export: $out/data.npz, $out/init.npz"
"$train" "${common[@]}" --epochs 0 --export-data "$out/data.npz" --save-model "$out/init.npz" --overwrite --quiet

echo "== curv-train: $iterations SCG iterations ($dtype)"
start=$(date +%s%N)
"$train" "${common[@]}" --epochs "$iterations" --init "$out/init.npz" --log "$out/curv.csv" \
  --save-model "$out/curv_final.npz" --overwrite | tee "$out/curv.txt"
echo "curv_wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))" | tee -a "$out/curv.txt"

echo "== PyTorch reference: $iterations SCG iterations ($dtype)"
start=$(date +%s%N)
"$python" "$here/train_article_cnn.py" --data "$out/data.npz" --init "$out/init.npz" --dtype "$dtype" \
  --iterations "$iterations" --batch-size "$batch" --threads "$threads" --log "$out/torch.csv" \
  --save-model "$out/torch_final.npz" | tee "$out/torch.txt"
echo "torch_wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))" | tee -a "$out/torch.txt"

echo "== curv-train again (wall time only, after PyTorch)"
start=$(date +%s%N)
"$train" "${common[@]}" --epochs "$iterations" --init "$out/init.npz" --quiet >/dev/null
echo "curv_again_wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))" | tee -a "$out/curv.txt"

echo "== comparison"
"$python" "$here/compare_logs.py" "$out/curv.csv" "$out/torch.csv" --models "$out/curv_final.npz" "$out/torch_final.npz" \
  | tee "$out/compare.txt"
grep -h 'test_accuracy=' "$out/curv.txt" "$out/torch.txt"
