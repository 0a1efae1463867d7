#!/usr/bin/env bash
# The GPU check of issue #18, one command for the GPU machine (its image: Python 3.12, JAX
# 0.11.2 CUDA 13, flax, optax, orbax, chex, tensorboard, scikit-learn, scipy, matplotlib,
# tqdm, PyTorch 2.11 + torchvision 0.26; no TensorFlow, tfds, tensorboardX, no network):
#
#   bash benchmarks/gpu_check.sh          # on the GPU: every figure in under 8 minutes
#   bash benchmarks/gpu_check.sh --cpu    # the dry run here: tiny sizes, every step
#   bash benchmarks/gpu_check.sh --fetch  # here, before a GPU run: the wheels it carries
#
# It installs jaxgan over the image's packages (pip install --no-deps -e .) plus the wheels
# in benchmarks/wheels/ (pytorch-fid 0.3.0, which the image lacks: `--fetch` downloads it
# on a machine with a registry; the folder is not ignored by git, so it travels with the
# working tree to the GPU machine), prints the device, then runs benchmarks/gpu_check.py: each stage
# in its own process with its own timeout, each figure to $OUT as JSON (default
# ./gpu_check_out), and a summary table (also $OUT/summary.md) at the end.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu_check_out}"
export OUT
mkdir -p "$OUT"
T0=$(date +%s)
PY="${PYTHON:-python}"
if [ "${1:-}" = "--fetch" ]; then
  exec "$PY" -m pip download -q --no-deps -d benchmarks/wheels pytorch-fid==0.3.0
fi
if [ "${1:-}" != "--cpu" ]; then
  "$PY" -m pip install -q --no-deps --no-build-isolation -e . >"$OUT/pip.log" 2>&1 \
    || "$PY" -m pip install -q --no-deps -e . >>"$OUT/pip.log" 2>&1 \
    || echo "gpu_check: pip install -e . failed (see $OUT/pip.log); using the tree as is"
  if ls benchmarks/wheels/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-deps benchmarks/wheels/*.whl >>"$OUT/pip.log" 2>&1 \
      || echo "gpu_check: the carried wheels did not install (see $OUT/pip.log)"
  fi
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv,noheader | tee "$OUT/nvidia-smi.txt"
fi
"$PY" -c "import jax; print('gpu_check: devices', jax.devices(), 'jax', jax.__version__)" \
  2>&1 | tail -1 | tee "$OUT/devices.txt"
USED=$(( $(date +%s) - T0 ))
DEFAULT_BUDGET=470
[ "${1:-}" = "--cpu" ] && DEFAULT_BUDGET=1230
BUDGET=$(( ${GPU_CHECK_BUDGET:-$DEFAULT_BUDGET} - USED ))
"$PY" benchmarks/gpu_check.py all --out "$OUT" --budget "$BUDGET" "$@"
echo "gpu_check: done in $(( $(date +%s) - T0 )) s; figures in $OUT"
