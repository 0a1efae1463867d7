#!/usr/bin/env bash
# dcgan_mnist on the GPU machine (issue 13): the preset as a user runs it, timed, and the
# recipes tried to close its gap in the judge's confident share, each a vmapped sweep over
# five seeds. Samples come back as one archive and are judged on the development machine
# (`python benchmarks/grid_sweep.py --rescore DIR`), by the scikit-learn that measured the
# CPU figures.
#
#   bash benchmarks/gpu_quality.sh            # on the GPU machine, with MNIST in ./.mnist
#   QUICK=1 bash benchmarks/gpu_quality.sh    # the dry run here: tiny nets, a few steps
#   SHORT_ONLY=1 / LONG_ONLY=1                # only the 5,000- / the 20,000-iteration recipes
#
# MNIST: the shared IDX files (t10k-*.gz), copied into ./.mnist (ignored by git, carried).
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu_quality_out}"
mkdir -p "$OUT/samples" "$OUT/logs"
PY="${PYTHON:-python3}"
T0=$(date +%s)
if [ -z "${QUICK:-}" ]; then
  "$PY" -m pip install -q --no-deps --no-build-isolation -e . >"$OUT/logs/pip.log" 2>&1 \
    || echo "gpu_quality: pip install -e . failed; using the tree on PYTHONPATH"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
export XLA_PYTHON_CLIENT_PREALLOCATE=false
"$PY" -c "import jax, flax, optax, sklearn; print('devices', jax.devices(), 'jax', \
jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__)" | tee "$OUT/logs/env.txt"
DATA=(data.source=idx data.path=.mnist data.split=test)
if [ -n "${QUICK:-}" ]; then
  SMALL=(model.g_width=8 model.d_width=8 train.log_every=10 train.checkpoint_every=20
         train.sample_every=20)
  S=20; L=40; CAP=600
else
  SMALL=(); S=5000; L=20000; CAP=${CAP:-420}
fi
# 1. the real command at seed 0, as a user runs it (the preset's own steps_per_call), in a
# fresh workdir: a second call on a warm machine would otherwise resume the finished run
rm -rf /tmp/gq
[ -z "${LONG_ONLY:-}" ] && ( t=$SECONDS
  timeout "$CAP" "$PY" -m jaxgan.cli train --config dcgan_mnist --workdir /tmp/gq/s0 --force \
    seed=0 train.progress=false "${DATA[@]}" "${SMALL[@]}" train.steps=$S \
    >"$OUT/logs/train_s0.log" 2>&1 && \
  "$PY" -m jaxgan.cli sample /tmp/gq/s0 --num 1000 --seed 777 \
    --out "$OUT/samples/command_s0.npz" >>"$OUT/logs/train_s0.log" 2>&1
  echo "command seed 0: rc $? wall $((SECONDS - t)) s" \
    | tee -a "$OUT/logs/train_s0.log"
  tail -3 /tmp/gq/s0/metrics.jsonl 2>/dev/null | cut -c1-300 >>"$OUT/logs/train_s0.log" ) &
# 2. the recipes, five seeds each in one program, the short ones first
sweep() {  # NAME STEPS KEY=V...
  local name=$1 steps=$2; shift 2
  local t=$SECONDS
  timeout "$CAP" "$PY" benchmarks/grid_sweep.py --preset dcgan_mnist --seeds 0 1 2 3 4 \
    --judge none --save "$OUT/samples" --set "${DATA[@]}" "${SMALL[@]}" \
    train.steps_per_call=50 train.log_every=100 \
    --variant "$name:train.steps=$steps${*:+,$(IFS=,; echo "$*")}" \
    >"$OUT/logs/$name.log" 2>&1
  echo "$name: rc $? wall $((SECONDS - t)) s" | tee -a "$OUT/logs/$name.log"
}
[ -n "${QUICK:-}" ] && sweep() {  # the dry run: log every 10 steps, 10 per call
  local name=$1 steps=$2; shift 2
  "$PY" benchmarks/grid_sweep.py --preset dcgan_mnist --seeds 0 1 --judge none \
    --save "$OUT/samples" --set "${DATA[@]}" "${SMALL[@]}" train.steps_per_call=10 \
    --variant "$name:train.steps=$steps${*:+,$(IFS=,; echo "$*")}" \
    >"$OUT/logs/$name.log" 2>&1
  echo "$name: rc $?" | tee -a "$OUT/logs/$name.log"
}
if [ -z "${LONG_ONLY:-}" ]; then  # LONG_ONLY=1: only the 4x-budget recipes (one call each)
  sweep preset $S &
  sweep decay $S optim.g.schedule=linear optim.d.schedule=linear &
  sweep diffaug $S tricks.diffaugment=translation,cutout &
fi
if [ -z "${SHORT_ONLY:-}" ]; then
  sweep long $L &
  sweep long_ema9999 $L train.ema_decay=0.9999 &
  sweep long_decay $L optim.g.schedule=linear optim.d.schedule=linear &
fi
wait
# what comes back is a few files of <= 16 MiB: the samples as uint8 (the judge's own
# 0..255 input scale), in one archive with the logs
"$PY" - "$OUT" <<'PYEOF'
import sys, tarfile, pathlib, numpy as np
out = pathlib.Path(sys.argv[1])
for f in sorted((out / "samples").glob("*.npz")):
    x = np.load(f)["samples"]
    np.savez_compressed(f, samples_u8=np.rint((np.clip(x, -1, 1) + 1) * 127.5).astype(np.uint8))
with tarfile.open(out / "gpu_quality.tgz", "w:gz") as t:
    t.add(out / "samples", "samples"); t.add(out / "logs", "logs")
PYEOF
rm -rf "$OUT/samples" "$OUT/logs"
echo "gpu_quality: done in $(( $(date +%s) - T0 )) s"
