# Sourced by curv's scripts: picks OpenBLAS's kernels by the CPU's features
# when OpenBLAS itself falls back to its generic ones.
#
# OpenBLAS (Debian's build: DYNAMIC_ARCH) chooses its kernels from the CPU
# model. Virtual CPUs that report a generic model ("Intel Xeon Processor")
# get its Prescott (SSE3) kernels even when they support AVX-512; on curv's
# 2-core machines that doubles the time of every matrix product. When
# OPENBLAS_CORETYPE is unset and OpenBLAS reports Prescott, this exports the
# core type the CPU's flags support (SkylakeX for AVX-512, Haswell for
# AVX2 + FMA). Usage: curv_openblas_core PROGRAM (any program linked with
# OpenBLAS, run with --help).
curv_openblas_core() {
  [ -n "${OPENBLAS_CORETYPE:-}" ] && return 0
  local core flags
  core=$(OPENBLAS_VERBOSE=2 "$1" --help 2>&1 | sed -n 's/^Core: *//p' | head -n 1) || true
  [ "$core" = Prescott ] || return 0
  flags=" $(grep -m 1 '^flags' /proc/cpuinfo 2>/dev/null || true) "
  has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
  if has avx512f avx512bw avx512vl avx512dq avx512cd; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif has avx2 fma; then
    export OPENBLAS_CORETYPE=Haswell
  else
    return 0
  fi
  echo "OpenBLAS detected its generic $core kernels on this CPU; using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE (its flags support them)"
}
