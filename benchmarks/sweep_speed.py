"""16 toy_ring runs: one vmapped `jaxgan.sweep` program vs the same runs one after another.

The sequential side is what a user does without `sweep`: each run builds, compiles and
trains its own program (the trainer's `setup_run` step), so it pays 16 compiles and 16x
the dispatches. Both sides train the same runs (seeds 0..15) for the same steps without
writing files; wall time includes compilation. Goal: vmapped <= 0.5x sequential.

    python benchmarks/sweep_speed.py [--runs 16] [--steps 1000]
"""

from __future__ import annotations

import argparse
import time

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--spc", type=int, default=100)
    args = ap.parse_args()
    ovr = [f"train.steps={args.steps}", f"train.steps_per_call={args.spc}",
           f"train.log_every={args.steps}", "health.enabled=false"]
    seeds = list(range(args.runs))
    t_vmap = vmapped(ovr, seeds)
    t_seq = sequential(ovr, seeds)
    print(f"{args.runs} toy_ring runs x {args.steps} steps: vmapped {t_vmap:.1f} s, "
          f"sequential {t_seq:.1f} s, ratio {t_vmap / t_seq:.2f}x (goal <= 0.5x)")


if __name__ == "__main__":
    main()
