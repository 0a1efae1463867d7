"""A preset over several seeds, trained by the real `jaxgan` command and scored by `judge`.

Why: a preset is good when it is good at every seed; a figure from seed 0 alone is an
anecdote. This trains PRESET at each seed (`jaxgan train --config PRESET seed=S ...`),
draws samples with `jaxgan sample --out samples.npz` (EMA weights where kept) and scores
them with the independent judges of `benchmarks/judge.py`: the digits classifier for
digit presets, the VEEGAN/PacGAN mode count for the 2-D toys. It prints one row per seed,
then the median and the worst seed, and writes everything as JSON with `--json FILE`.
With `--classes K` (a class-conditional preset: `jaxgan sample` draws sample i for class
i mod K) it also reports `requested`, the share classified as the class asked for, and with
`--truncation T` the same share of samples drawn with `jaxgan sample --truncation T`.

    python benchmarks/preset_seeds.py dcgan_digits --seeds 0 1 2 3 4
    python benchmarks/preset_seeds.py toy_grid --seeds 0 1 2 3 4 --jobs 2 optim.d.lr=5e-4
    python benchmarks/preset_seeds.py biggan_digits --seeds 0 1 2 --classes 10 --truncation 0.5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import TOYS, DigitsJudge, mode_count  # noqa: E402

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")


def train_and_sample(preset: str, seed: int, overrides: list[str], root: Path,
                     num: int, truncation: float | None = None) -> dict:
    wd = root / f"{preset}_s{seed}"
    t0 = time.perf_counter()
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    r = subprocess.run([EXE, "train", "--config", preset, "--workdir", str(wd), "--force",
                        f"seed={seed}", "train.progress=false", *overrides],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"seed {seed}: train failed: {r.stderr[-1500:]}")
    out = wd / "samples.npz"
    r = subprocess.run([EXE, "sample", str(wd), "--num", str(num), "--out", str(out),
                        "--seed", "777"], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"seed {seed}: sample failed: {r.stderr[-1500:]}")
    truncated = None
    if truncation is not None:
        tout = wd / "samples_truncated.npz"
        r = subprocess.run([EXE, "sample", str(wd), "--num", str(num), "--out", str(tout),
                            "--seed", "777", "--truncation", str(truncation)],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"seed {seed}: truncated sample failed: {r.stderr[-1500:]}")
        truncated = np.load(tout)["samples"]
    recs = [json.loads(ln) for ln in (wd / "metrics.jsonl").read_text().splitlines()]
    verdicts = sorted({rec["verdict"] for rec in recs if "verdict" in rec})
    return {"seed": seed, "wall_s": wall, "samples": np.load(out)["samples"],
            "truncated": truncated, "verdicts": verdicts, "workdir": str(wd)}


def score(preset: str, samples: np.ndarray, judge: DigitsJudge | None) -> dict:
    if preset in TOYS or samples.ndim == 2:
        centers, std = TOYS["toy_grid" if "grid" in preset else "toy_ring"]
        return mode_count(samples, centers, std)
    assert judge is not None
    return judge.score(samples).as_dict()


# For each judged quantity: True when larger is better (the worst seed is the minimum).
HIGHER_IS_BETTER = {"modes": True, "high_quality": True, "confident": True,
                    "classes_3pct": True, "entropy_bits": True, "min_class_share": True,
                    "nn_ratio": False, "requested": True, "requested_truncated": True}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("preset")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--num", type=int, default=None, help="samples scored per seed "
                   "(default 2,500 for toys, the protocol's count; 1,000 for images)")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    p.add_argument("--classes", type=int, default=None, help="K of a class-conditional "
                   "preset: also score the share of samples that are the class asked for")
    p.add_argument("--truncation", type=float, default=None, help="also draw samples with "
                   "`jaxgan sample --truncation T` and score their requested share")
    p.add_argument("--root", default=None, help="where the workdirs go (default: a temp dir)")
    p.add_argument("--json", default=None, help="write the rows and summary to this file")
    args = p.parse_intermixed_args(argv)
    toy = args.preset.startswith("toy") or any(o.startswith("data.source=toy")
                                               for o in args.overrides)
    num = args.num or (2500 if toy else 1000)
    root = Path(args.root or tempfile.mkdtemp(prefix="jaxgan-seeds-"))
    judge = None if toy else DigitsJudge()
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda s: train_and_sample(args.preset, s, args.overrides,
                                                        root, num, args.truncation),
                             args.seeds))
    rows = []
    for r in runs:
        row = {"seed": r["seed"], **score(args.preset, r["samples"], judge),
               "wall_s": round(r["wall_s"], 1), "verdicts": ",".join(r["verdicts"])}
        if args.classes and judge is not None:
            labels = np.arange(len(r["samples"])) % args.classes
            row["requested"] = judge.requested(r["samples"], labels)
            if r["truncated"] is not None:
                row["requested_truncated"] = judge.requested(r["truncated"], labels)
        rows.append(row)
        print(json.dumps(row))
    keys = [k for k in rows[0] if k in HIGHER_IS_BETTER]
    median = {k: float(np.median([r[k] for r in rows])) for k in keys}
    worst = {k: (min if HIGHER_IS_BETTER[k] else max)(r[k] for r in rows) for k in keys}
    print("median", json.dumps(median))
    print("worst ", json.dumps(worst))
    if judge is not None:
        print("held-out real digits", json.dumps(judge.score_held_out().as_dict()))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"preset": args.preset, "overrides": args.overrides, "rows": rows,
             "median": median, "worst": worst}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
