#!/bin/sh
# run_crosscheck.sh PYTHON DUMP_EXE CROSSCHECK_PY OUT_DIR: dumps curv's numbers
# for the article CNN, then checks them with PyTorch. Exit 77 (CTest: skipped)
# when PYTHON cannot import torch and numpy.
set -eu
python=$1 dump=$2 script=$3 out=$4
if ! "$python" -c "import torch, numpy" >/dev/null 2>&1; then
  echo "SKIPPED: $python cannot import torch and numpy (scripts/install-deps.sh installs python3-torch python3-numpy)"
  exit 77
fi
rm -rf "$out"
"$dump" "$out" --batch 8 --seed 7
exec "$python" "$script" "$out"
