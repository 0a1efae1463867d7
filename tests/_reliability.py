"""Shared helpers for the reliability and multi-host tests (not a test module).

Every test here runs the real `jaxgan` command in subprocesses, which on a 2-core machine
costs mostly XLA compilation; a persistent compilation cache shared by all of them makes
each launch after the first compile nothing. The cache returns the same executable for
the same program, so it cannot change the numbers being compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")
CACHE = os.path.join(tempfile.gettempdir(), "jaxgan-test-xla-cache")

# The 2-D ring with a tiny MLP: real data are drawn on device from per-sample keys indexed
# by global position, so the run is the same for any split of the batch over processes.
TOY = ["--config", "toy_ring_vanilla", "model.latent_dim=8", "model.mlp.hidden=16",
       "model.mlp.depth=1", "train.batch_size=16", "train.steps_per_call=1",
       "train.progress=false", "train.sample_every=100000", "train.log_every=1"]


def env(devices: int = 1, **extra: str) -> dict[str, str]:
    """The environment of a test subprocess: CPU, `devices` host devices, shared cache."""
    out = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": CACHE,
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
           "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "PYTHONUNBUFFERED": "1"}
    for k in ("JAXGAN_COORDINATOR", "JAXGAN_NUM_PROCESSES", "JAXGAN_PROCESS_ID"):
        out.pop(k, None)
    out.update(extra)
    return out


def popen(*args: str, devices: int = 1, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(devices, **extra))


def run(*args: str, devices: int = 1, timeout: float = 600, **extra: str
        ) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout,
                          env=env(devices, **extra))


def last_logged_step(workdir: Path) -> int:
    """The newest step in metrics.jsonl (0 before the first record)."""
    path = Path(workdir) / "metrics.jsonl"
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return 0
    import json

    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError):
            continue
    return 0


def wait_for_step(proc: subprocess.Popen, workdir: Path, step: int, timeout: float = 600
                  ) -> bool:
    """Poll until the run has logged `step` (True) or exited (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if last_logged_step(workdir) >= step:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    raise TimeoutError(f"step {step} not reached in {timeout}s")


def load_checkpoint(workdir: Path, step: int | None = None) -> dict:
    """A checkpoint as plain orbax reads it, without jaxgan (the newest one by default).

    Leaves come back as numpy arrays, which also reads a checkpoint that a 2-process run
    saved with shardings over devices this process does not have.
    """
    import jax
    import orbax.checkpoint as ocp

    root = Path(workdir) / "checkpoints"
    if step is None:
        step = max(int(p.name) for p in root.iterdir() if p.name.isdigit())
    path = str(root / str(step) / "default")
    ckptr = ocp.PyTreeCheckpointer()
    meta = ckptr.metadata(path)
    meta = getattr(meta, "item_metadata", meta)
    meta = getattr(meta, "tree", meta)
    args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), meta)
    return ckptr.restore(path, args=ocp.args.PyTreeRestore(restore_args=args))


def assert_trees_equal(a: dict, b: dict) -> int:
    """Every leaf bit-for-bit equal; returns the number of leaves compared."""
    import jax

    la, lb = jax.tree.leaves_with_path(a), jax.tree.leaves_with_path(b)
    assert [p for p, _ in la] == [p for p, _ in lb]
    for (path, x), (_, y) in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y),
                                      err_msg=jax.tree_util.keystr(path))
    return len(la)
