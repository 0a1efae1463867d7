"""Evidence that ADA acts: a small subset of the digits for D to overfit, and the r_t / p
trace of a run on it, read from its metrics.jsonl.

Usage::

    python benchmarks/ada_trace.py subset --n 64 --seed 0 --out /tmp/digits64.npz
    jaxgan train --config stylegan2_digits --workdir RUN data.source=npz \\
        data.path=/tmp/digits64.npz tricks.ada_kimg=10 train.steps=2600 train.log_every=25
    python benchmarks/ada_trace.py trace RUN [--every 100]

The subset is drawn from scikit-learn's 8x8 digits (the embedded dataset), scaled as
jaxgan's digits builder scales them (round(v * 255 / 16)), unlabelled. The trace prints,
per log record, ADA's p, r_t = E[sign D(real)], D's accuracy on real images, and the
monitor's verdict and warning; and a summary: the longest stretch with r_t above the
target, and r_t's mean and spread over the records once p has left 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np


def subset(n: int, seed: int, out: str) -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = np.sort(np.random.default_rng(seed).choice(len(d.images), n, replace=False))
    images = np.round(d.images[idx] * 255 / 16).astype(np.uint8)[..., None]
    np.savez(out, images=images)
    print(f"{out}: {images.shape}, digits {np.bincount(d.target[idx], minlength=10).tolist()}")


def trace(workdir: str, every: int) -> list[dict]:
    rows = [json.loads(ln) for ln in Path(workdir, "metrics.jsonl").read_text().splitlines()
            if ln.strip()]
    recs = [r for r in rows if "ada_p" in r and "ada_rt" in r]
    for r in recs:
        if int(r["step"]) % every == 0:
            print(f"step {int(r['step']):5d}  p {r['ada_p']:.3f}  r_t {r['ada_rt']:+.3f}  "
                  f"D real acc {r.get('d_real_acc', float('nan')):.3f}  "
                  f"{r.get('verdict', '')} {r.get('at_risk', '')}")
    target = next((r["ada_target"] for r in recs if "ada_target" in r), 0.6)
    run, best, start = 0, (0, None), None
    for r in recs:
        run, start = (run + 1, start if run else r["step"]) if r["ada_rt"] > target else (0, None)
        best = max(best, (run, start), key=lambda x: x[0])
    active = [r["ada_rt"] for r in recs if r["ada_p"] > 0.05]
    print(f"records {len(recs)}; target {target}; p max {max(r['ada_p'] for r in recs):.3f}, "
          f"last {recs[-1]['ada_p']:.3f}; longest run of r_t > target: {best[0]} records "
          f"from step {best[1]}")
    if len(active) > 1:
        print(f"while p > 0.05 ({len(active)} records): r_t mean {statistics.mean(active):.3f}, "
              f"std {statistics.stdev(active):.3f}, range {min(active):.3f}-{max(active):.3f}")
    return recs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("subset")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    t = sub.add_parser("trace")
    t.add_argument("workdir")
    t.add_argument("--every", type=int, default=100)
    args = ap.parse_args()
    if args.cmd == "subset":
        subset(args.n, args.seed, args.out)
    else:
        trace(args.workdir, args.every)


if __name__ == "__main__":
    main()
