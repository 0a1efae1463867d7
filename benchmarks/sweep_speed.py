"""16 toy_ring runs: one vmapped `jaxgan.sweep` program vs the same runs one after another.

The sequential side is what a user does without `sweep`: each run builds, compiles and
trains its own program (the trainer's `setup_run` step), so it pays 16 compiles and 16x
the dispatches. Both sides train the same runs (seeds 0..15) for the same steps without
writing files; wall time includes compilation. Goal: vmapped <= 0.5x sequential.

    python benchmarks/sweep_speed.py [--runs 16] [--steps 1000] [--cli]

With ``--cli`` both sides are the real commands a user types, in fresh processes, with
their default outputs and health monitoring: one ``jaxgan sweep --seeds 16`` against 16
``jaxgan train seed=i`` one after another (each also pays its process start and writes
its own checkpoint and TensorBoard file, which the sweep's runs do not).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np


def sequential(cfg_overrides: list[str], seeds: list[int]) -> float:
    from jaxgan import parallel
    from jaxgan.config import resolve
    from jaxgan.state import init_state
    from jaxgan.trainer import setup_run

    t0 = time.perf_counter()
    for seed in seeds:
        cfg = resolve("toy_ring", [*cfg_overrides, f"seed={seed}"])
        run = setup_run(cfg)
        state = parallel.create_replicated(
            lambda run=run, cfg=cfg: init_state(run.models, cfg.seed, run.sample_shape),
            run.mesh)
        tc = cfg.train
        batch = parallel.host_to_global(
            {"image": np.zeros((tc.steps_per_call, 1, tc.batch_size, 1), np.float32)},
            run.mesh, 2)
        for _ in range(tc.steps // tc.steps_per_call):
            state, m = run.step_fn(state, batch)
        jax.block_until_ready((state, m))
    return time.perf_counter() - t0


def vmapped(cfg_overrides: list[str], seeds: list[int]) -> float:
    from jaxgan.config import resolve
    from jaxgan.sweep import sweep

    t0 = time.perf_counter()
    rows = sweep(resolve("toy_ring", cfg_overrides), seeds, {}, None, quiet=True)
    jax.block_until_ready(rows[-1]["state"])
    return time.perf_counter() - t0


def _cli(args: list[str]) -> float:
    t0 = time.perf_counter()
    exe = Path(sys.executable).with_name("jaxgan")  # the installed console script
    subprocess.run([str(exe), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cli(runs: int, steps: int) -> tuple[float, float]:
    """(sweep, sequential) wall seconds of the real commands, `steps` steps per run."""
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--config", "toy_ring", f"train.steps={steps}"]
        t_vmap = _cli(["sweep", *common, "--seeds", str(runs), "--workdir",
                       str(Path(tmp, "sweep"))])
        t_seq = sum(_cli(["train", *common, f"seed={i}", "--workdir", str(Path(tmp, f"r{i}")),
                          "train.progress=false"]) for i in range(runs))
    return t_vmap, t_seq


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--spc", type=int, default=100)
    ap.add_argument("--cli", action="store_true", help="time the real commands instead")
    args = ap.parse_args()
    if args.cli:
        t_vmap, t_seq = cli(args.runs, args.steps)
        print(f"{args.runs} toy_ring runs x {args.steps} steps, real commands: jaxgan sweep "
              f"{t_vmap:.1f} s, jaxgan train x {args.runs} {t_seq:.1f} s, ratio "
              f"{t_vmap / t_seq:.2f}x (goal <= 0.5x)")
        return
    ovr = [f"train.steps={args.steps}", f"train.steps_per_call={args.spc}",
           f"train.log_every={args.steps}", "health.enabled=false"]
    seeds = list(range(args.runs))
    t_vmap = vmapped(ovr, seeds)
    t_seq = sequential(ovr, seeds)
    print(f"{args.runs} toy_ring runs x {args.steps} steps: vmapped {t_vmap:.1f} s, "
          f"sequential {t_seq:.1f} s, ratio {t_vmap / t_seq:.2f}x (goal <= 0.5x)")


if __name__ == "__main__":
    main()
