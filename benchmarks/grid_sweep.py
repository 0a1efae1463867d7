"""Cheap toy_grid tuning: several recipes x seeds, each recipe one vmapped `jaxgan.sweep`.

Why: a recipe for the 5x5 grid is good when it is good at its worst seed, and the real
commands (`preset_seeds.py`) cost a process, a compile and a checkpoint per run. Here each
recipe (``--variant NAME:KEY=V,KEY=V``; structural keys such as widths, packing, batch
size or R1 need their own program) trains all its seeds, and any vmappable grid
(``--grid optim.g.lr=1e-3,5e-4``), in one compiled program; every run's EMA generator (the
raw one without an EMA) then draws 2,500 samples with seed 777, as `preset_seeds.py` does
through `jaxgan sample --seed 777`, and `judge.mode_count` (no jaxgan code) scores them.

    python benchmarks/grid_sweep.py --seeds 0 1 --variant base: \
        --variant r1:tricks.r1_gamma=0.1 --grid optim.g.b1=0.5,0.0

One JSON line per run (variant, overrides, modes, high-quality share, verdict, wall time
of its sweep) on stdout; ``--json FILE`` writes them all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import TOYS, mode_count  # noqa: E402


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``NAME:KEY=V,KEY=V`` -> (NAME, ["KEY=V", ...]); ``NAME:`` is the preset as is."""
    name, _, rest = text.partition(":")
    return name, [kv for kv in rest.split(",") if kv]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="toy_grid")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=V,...")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a vmappable key (seed, optim.{g,d}.{lr,b1,b2,eps}) and its values")
    p.add_argument("--num", type=int, default=2500)
    p.add_argument("--json", default=None)
    p.add_argument("--save", default=None, help="a folder for each run's samples (.npz)")
    args = p.parse_args(argv)

    from jaxgan.config import resolve
    from jaxgan.sampling import generate
    from jaxgan.state import make_models
    from jaxgan.sweep import sweep

    grid = {k: v.split(",") for k, v in (g.split("=", 1) for g in args.grid)}
    centers, std = TOYS["toy_grid" if "grid" in args.preset else "toy_ring"]
    out = []
    for name, overrides in map(parse_variant, args.variant or ["preset:"]):
        cfg = resolve(args.preset, [*overrides, "train.progress=false"])
        t0 = time.perf_counter()
        rows = sweep(cfg, list(args.seeds), grid, quiet=True)
        wall = time.perf_counter() - t0
        models = make_models(cfg)
        for r in rows:
            samples = generate(models, r["state"], args.num, 777,
                               use_ema=cfg.train.ema_decay > 0)
            rec = {"variant": name, "overrides": overrides,
                   **{k: r[k] for k in r if k not in ("state", "run", "step", "modes",
                                                      "high_quality")},
                   **mode_count(samples, centers, std), "sweep_wall_s": round(wall, 1)}
            d = np.sqrt(((samples[:, None] - centers[None]) ** 2).sum(-1)).min(1)
            rec["dist_q50_q90"] = [round(float(q), 3) for q in np.quantile(d, [0.5, 0.9])]
            if args.save:
                Path(args.save).mkdir(parents=True, exist_ok=True)
                np.savez(Path(args.save) / f"{name}_{len(out):02d}.npz", samples=samples)
            print(json.dumps(rec), flush=True)
            out.append(rec)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
