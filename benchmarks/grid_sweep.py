"""Cheap preset tuning: several recipes x seeds, each recipe one vmapped `jaxgan.sweep`.

Why: a recipe is good when it is good at its worst seed, and the real commands
(`preset_seeds.py`, `quality.py`) cost a process, a compile and a checkpoint per run. Here
each recipe (``--variant NAME:KEY=V,KEY=V``; structural keys such as widths, packing, batch
size or R1 need their own program) trains all its seeds, and any vmappable grid
(``--grid optim.g.lr=1e-3,5e-4``), in one compiled program; every run's EMA generator (the
raw one without an EMA) then draws its samples with seed 777, as `preset_seeds.py` does
through `jaxgan sample --seed 777`, and a judge with no jaxgan code scores them:
`judge.mode_count` (2,500 samples) for the 2-D toys, and for `dcgan_mnist` (1,000 samples)
the MNIST judge of `quality.py` (FD to held-out digits, confident share, classes).

    python benchmarks/grid_sweep.py --seeds 0 1 --variant base: \
        --variant r1:tricks.r1_gamma=0.1 --grid optim.g.b1=0.5,0.0
    python benchmarks/grid_sweep.py --preset dcgan_mnist --seeds 0 1 2 3 4 --judge none \
        --save DIR --set data.source=idx data.path=../shared/data/mnist data.split=test \
        --variant preset: --variant long:train.steps=20000      # e.g. on a GPU machine
    python benchmarks/grid_sweep.py --rescore DIR --json out.json   # then judge them here

One JSON line per run (variant, overrides, the judge's figures, verdict, wall time of its
sweep) on stdout; ``--json FILE`` writes them all. ``--judge none`` only saves samples
(``--save``), for a machine whose scikit-learn is not the one the judge's figures were
measured with; ``--rescore DIR`` scores such a folder and prints each variant's median and
worst seed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import TOYS, mode_count  # noqa: E402


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``NAME:KEY=V,KEY=V`` -> (NAME, ["KEY=V", ...]); ``NAME:`` is the preset as is. A
    comma splits only before the next ``KEY=``, so a value may hold commas
    (``tricks.diffaugment=translation,cutout``)."""
    name, _, rest = text.partition(":")
    return name, [kv for kv in re.split(r",(?=[\w.]+=)", rest) if kv]


def toy_judge(preset: str):
    centers, std = TOYS["toy_grid" if "grid" in preset else "toy_ring"]

    def judge(samples: np.ndarray) -> dict:
        d = np.sqrt(((samples[:, None] - centers[None]) ** 2).sum(-1)).min(1)
        return {**mode_count(samples, centers, std),
                "dist_q50_q90": [round(float(q), 3) for q in np.quantile(d, [0.5, 0.9])]}
    return judge


def mnist_judge():
    """quality.py's MNIST judge and figures (FD, confident, classes, entropy) at 32x32."""
    from judge import MnistJudge
    from quality import load_data, score

    images, _, _ = load_data("mnist")
    j = MnistJudge(images)
    return lambda samples: score(j, np.asarray(samples)[..., 0])


def rescore(folder: Path) -> list[dict]:
    """Score every saved ``VARIANT_sSEED.npz`` of an image sweep with the MNIST judge."""
    judge, rows = mnist_judge(), []
    for path in sorted(folder.glob("*.npz")):
        variant, _, seed = path.stem.rpartition("_s")
        z = np.load(path)  # gpu_quality.sh's archive holds them as uint8 (0..255)
        x = z["samples"] if "samples" in z else z["samples_u8"] / 127.5 - 1.0
        rows.append({"variant": variant, "seed": int(seed), **judge(x)})
        print(json.dumps(rows[-1]), flush=True)
    print("\n| variant | FD median / worst | confident median / worst | classes (worst) |"
          "\n|---|---|---|---|")
    for v in dict.fromkeys(r["variant"] for r in rows):
        r = [x for x in rows if x["variant"] == v]
        fd, conf = [x["fd"] for x in r], [x["confident"] for x in r]
        print(f"| {v} ({len(r)} seeds) | {np.median(fd):.2f} / {max(fd):.2f} | "
              f"{100 * np.median(conf):.1f} / {100 * min(conf):.1f} % | "
              f"{min(x['classes_3pct'] for x in r)} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="toy_grid")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=V,...")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a vmappable key (seed, optim.{g,d}.{lr,b1,b2,eps}) and its values")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=V",
                   help="overrides of every variant (e.g. where the data is)")
    p.add_argument("--num", type=int, default=None,
                   help="samples per run (default: 2,500 for toys, 1,000 for images)")
    p.add_argument("--judge", choices=["auto", "none"], default="auto")
    p.add_argument("--json", default=None)
    p.add_argument("--save", default=None, help="a folder for each run's samples (.npz)")
    p.add_argument("--rescore", default=None, metavar="DIR",
                   help="score the MNIST samples saved in DIR and exit")
    args = p.parse_args(argv)
    if args.rescore:
        rows = rescore(Path(args.rescore))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
        return 0

    from jaxgan.config import resolve
    from jaxgan.sampling import generate
    from jaxgan.state import make_models
    from jaxgan.sweep import sweep

    grid = {k: v.split(",") for k, v in (g.split("=", 1) for g in args.grid)}
    toy = args.preset.startswith("toy_")
    num = args.num or (2500 if toy else 1000)
    judge = None if args.judge == "none" else \
        toy_judge(args.preset) if toy else mnist_judge()
    out = []
    for name, overrides in map(parse_variant, args.variant or ["preset:"]):
        cfg = resolve(args.preset, [*args.set, *overrides, "train.progress=false"])
        t0 = time.perf_counter()
        rows = sweep(cfg, list(args.seeds), grid, quiet=True)
        wall = time.perf_counter() - t0
        models = make_models(cfg)
        for r in rows:
            samples = generate(models, r["state"], num, 777,
                               use_ema=cfg.train.ema_decay > 0)
            rec = {"variant": name, "overrides": overrides,
                   **{k: r[k] for k in r if k not in ("state", "run", "step", "modes",
                                                      "high_quality")},
                   **(judge(samples) if judge else {}), "sweep_wall_s": round(wall, 1)}
            if args.save:
                Path(args.save).mkdir(parents=True, exist_ok=True)
                tag = f"{name}_s{r['seed']}" if not grid else f"{name}_{len(out):02d}"
                np.savez(Path(args.save) / f"{tag}.npz", samples=np.asarray(samples))
            print(json.dumps(rec), flush=True)
            out.append(rec)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
