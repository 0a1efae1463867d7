"""16 toy_ring runs: one vmapped `jaxgan.sweep` program vs the same runs one after another.

The sequential side is what a user does without `sweep`: each run builds, compiles and
trains its own program (the trainer's `setup_run` step, one device), so it pays 16
compiles and 16x the dispatches. The vmapped side is `jaxgan.sweep` with the runs split
over one CPU device per core, as the command does. Both sides train the same runs (seeds
0..15) for the same steps without writing files and with health off, each timed in its
own process; wall time includes compilation. Goal: vmapped <= 0.5x sequential.

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
        cfg = resolve("toy_ring_vanilla", [*cfg_overrides, f"seed={seed}"])
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
    rows = sweep(resolve("toy_ring_vanilla", cfg_overrides), seeds, {}, None, quiet=True)
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
        common = ["--config", "toy_ring_vanilla", f"train.steps={steps}"]
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
    ap.add_argument("--side", choices=("both", "vmapped", "sequential"), default="both",
                    help="time one side only and print its seconds (used by 'both')")
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
    if args.side != "both":
        if args.side == "vmapped":  # as `jaxgan sweep` does: one CPU device per core
            from jaxgan.xla_cpu import split_cpu_for_runs

            split_cpu_for_runs(args.runs)
        print((vmapped if args.side == "vmapped" else sequential)(ovr, seeds))
        return
    # Each side in its own process with the device setup its command uses: the sweep
    # splits the runs over one CPU device per core, `jaxgan train` runs on one device.
    t = {}
    for side in ("vmapped", "sequential"):
        out = subprocess.run([sys.executable, __file__, "--side", side, "--runs",
                              str(args.runs), "--steps", str(args.steps), "--spc",
                              str(args.spc)], check=True, capture_output=True, text=True)
        t[side] = float(out.stdout.split()[-1])
    print(f"{args.runs} toy_ring runs x {args.steps} steps: vmapped {t['vmapped']:.1f} s, "
          f"sequential {t['sequential']:.1f} s, ratio {t['vmapped'] / t['sequential']:.2f}x "
          "(goal <= 0.5x)")


if __name__ == "__main__":
    main()
