#!/bin/sh
# run_trajectory.sh PYTHON CURV_TRAIN SOURCE_DIR OUT_DIR [trainer options...]:
# curv-train and reference/pytorch/train_article_cnn.py run 5 SCG iterations of
# the article CNN in float64 from the same exported MNIST digits (64 training,
# minibatches of 24) and the same initial parameters; every logged quantity
# and the final parameters must agree to a relative 1e-10. Exit 77 (CTest:
# skipped) without torch or without data/mnist-small. Extra options go to the
# PyTorch trainer (--lambda-initial 1e-5 makes the check fail).
set -eu
python=$1 train=$2 src=$3 out=$4
shift 4
if ! "$python" -c "import torch, numpy" >/dev/null 2>&1; then
  echo "SKIPPED: $python cannot import torch and numpy (scripts/install-deps.sh installs python3-torch python3-numpy)"
  exit 77
fi
if [ ! -f "$src/data/mnist-small/train-images-idx3-ubyte" ]; then
  echo "SKIPPED: no MNIST digits in $src/data/mnist-small (scripts/fetch-data.sh)"
  exit 77
fi
rm -rf "$out"
mkdir -p "$out"
curv_train() {
  "$train" --dataset "$src/data/mnist-small" --train-size 64 --val-size 32 --test-size 32 \
    --model article-cnn --optimizer scg --dtype float64 --batch-size 24 --threads 2 --quiet "$@"
}
curv_train --epochs 0 --export-data "$out/data.npz" --save-model "$out/init.npz"
curv_train --epochs 5 --init "$out/init.npz" --log "$out/curv.csv" --save-model "$out/curv_final.npz"
"$python" "$src/reference/pytorch/train_article_cnn.py" --data "$out/data.npz" --init "$out/init.npz" \
  --dtype float64 --iterations 5 --batch-size 24 --threads 2 --log "$out/torch.csv" \
  --save-model "$out/torch_final.npz" "$@"
exec "$python" "$src/reference/pytorch/compare_logs.py" "$out/curv.csv" "$out/torch.csv" \
  --models "$out/curv_final.npz" "$out/torch_final.npz" --max-relative 1e-10
