"""Sample quality over a run beside the health monitor's verdict at the same steps.

Why: the monitor names a run failing from its training signals alone; whether the samples
agree is a question for an independent judge. This trains a preset with every
`--every`-th checkpoint kept (the real `jaxgan train`), then scores the raw and the EMA
generator of each kept checkpoint with `judge.py` (the same judge and Fréchet distance as
`quality.py`) and prints them next to the verdict in `metrics.jsonl` at that step. A
`convergence_failure` while the judge's FD keeps falling is a false alarm; one while it
climbs is the failure.

    python benchmarks/quality_over_time.py --data mnist --seed 0 --every 1000
    python benchmarks/quality_over_time.py --data mnist --workdir DIR   # score a kept run

Results go to `benchmarks/RESULTS.md` (by hand) and, with `--json FILE`, to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import DigitsJudge, MnistJudge, frechet_distance  # noqa: E402
from quality import EXE, load_data  # noqa: E402


def train(npz: Path, res: int, preset: str, seed: int, every: int, wd: Path,
          overrides: list[str]) -> None:
    """The preset through the real command, keeping every `every`-th checkpoint."""
    cmd = [EXE, "train", "--config", preset, "--workdir", str(wd), "--force", f"seed={seed}",
           "data.source=npz", f"data.path={npz}", f"data.resolution={res}",
           "data.channels=1", "train.progress=false", f"train.checkpoint_every={every}",
           f"train.keep_every={every}", *overrides]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env={**os.environ, "JAX_PLATFORMS": "cpu"})
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])


def verdicts(wd: Path) -> dict[int, str]:
    """The monitor's verdict at each recorded step."""
    out = {}
    for line in (wd / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if "verdict" in r:
            out[int(r["step"])] = r["verdict"]
    return out


def score_run(wd: Path, judge, num: int) -> list[dict]:
    """FD and confident share of raw and EMA samples at every kept checkpoint."""
    from jaxgan.checkpoint import Checkpointer
    from jaxgan.readers import load_run

    ckpt = Checkpointer(wd / "checkpoints", read_only=True)
    try:
        steps = sorted(ckpt.steps())
    finally:
        ckpt.close()
    said = verdicts(wd)
    rows = []
    for step in steps:
        run = load_run(wd, step=step)
        row = {"step": step, "verdict": said.get(max((s for s in said if s <= step),
                                                     default=-1), "")}
        for name, ema in (("raw", False), ("ema", True)):
            x = run.sample(num, seed=777, use_ema=ema)[..., 0]
            s = judge.score(x).as_dict()
            row[f"{name}_fd"] = frechet_distance(judge.features(x), judge.held_features)
            row[f"{name}_confident"] = s["confident"]
            row[f"{name}_classes"] = s["classes_3pct"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=["digits", "mnist"], default="mnist")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=1000, help="keep a checkpoint this often")
    p.add_argument("--num", type=int, default=1000)
    p.add_argument("--workdir", default=None, help="score this run instead of training one")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    images, res, preset = load_data(args.data)
    judge = DigitsJudge() if args.data == "digits" else MnistJudge(images)
    floor = frechet_distance(judge.train_features, judge.held_features)
    print(f"{args.data}: judge FD floor (its training vs held-out real images) {floor:.2f}")
    if args.workdir:
        wd = Path(args.workdir)
    else:
        root = Path(tempfile.mkdtemp(prefix="jaxgan-qot-"))
        npz = root / f"{args.data}.npz"
        np.savez(npz, images=images[..., None])
        wd = root / f"{preset}_s{args.seed}"
        train(npz, res, preset, args.seed, args.every, wd, args.set)
    rows = score_run(wd, judge, args.num)
    print("\n| step | verdict | raw FD | raw confident | EMA FD | EMA confident | classes "
          "raw / EMA |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['verdict']} | {r['raw_fd']:.2f} | "
              f"{r['raw_confident']:.1%} | {r['ema_fd']:.2f} | {r['ema_confident']:.1%} | "
              f"{r['raw_classes']} / {r['ema_classes']} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"data": args.data, "seed": args.seed,
                                               "workdir": str(wd), "fd_floor": floor,
                                               "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
