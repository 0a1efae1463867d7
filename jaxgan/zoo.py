"""The failure zoo: presets that reliably produce each failure, and the detectors' scorecard.

Each zoo preset (`jaxgan/configs/zoo_*.py`) is a small run on the 2-D `toy_ring` that fails
in one known way for a known reason; the healthy presets must raise no failure at all. Running
them over several seeds measures the detectors where it matters, on real training:

    python -m jaxgan.zoo --seeds 0 1 2 --out /tmp/zoo

prints the markdown scorecard (detector, runs, true positives, false positives) that the
README shows. `tests/test_diagnostics_zoo.py` runs each preset once (marked `slow`).

It sits beside the trainer rather than in `jaxgan.diagnostics` because it trains: the
detectors' package must not depend on the training loop (`tests/test_style.py` checks).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jaxgan.diagnostics.doctor import diagnose
from jaxgan.diagnostics.monitor import VERDICTS


@dataclass(frozen=True)
class ZooEntry:
    """A preset and the verdict it must produce by `within_steps` (`healthy`: no failure)."""

    preset: str
    expected: str
    within_steps: int


ZOO: tuple[ZooEntry, ...] = (
    ZooEntry("zoo_vanishing_gradient", "vanishing_gradient", 600),
    ZooEntry("zoo_convergence_failure", "convergence_failure", 600),
    ZooEntry("zoo_mode_collapse", "mode_collapse", 1500),
    ZooEntry("zoo_diverged", "diverged", 200),
    ZooEntry("zoo_oscillation", "oscillation", 500),
    ZooEntry("zoo_healthy", "healthy", 0),
)


@dataclass
class ZooRun:
    """One preset at one seed: the verdicts its run raised and whether it met expectations."""

    preset: str
    seed: int
    expected: str
    seen: dict[str, int] = field(default_factory=dict)  # verdict -> first step raised
    # (step, live verdict, doctor's verdict) wherever the trainer's record and the doctor's
    # replay of metrics.jsonl disagree (verdict or at_risk): must stay empty
    mismatches: list[tuple[int, str, str]] = field(default_factory=list)
    live_final: str = ""  # the last verdict the trainer wrote
    doctor_final: str = ""  # the doctor's final verdict
    at_risk: dict[str, int] = field(default_factory=dict)  # warning -> first step shown

    @property
    def failures(self) -> dict[str, int]:
        return {k: v for k, v in self.seen.items() if k != "healthy"}

    def passed(self, within_steps: int) -> bool:
        if self.expected == "healthy":
            return not self.failures
        first = self.seen.get(self.expected)
        return first is not None and first <= within_steps


def run_entry(entry: ZooEntry, seed: int, workdir: str | Path,
              overrides: Sequence[str] = ()) -> ZooRun:
    """Train `entry.preset` at `seed` in `workdir` (replaced), then replay its log."""
    import jax

    from jaxgan.config import resolve
    from jaxgan.trainer import TrainingDiverged, train

    workdir = Path(workdir)
    if workdir.exists():
        shutil.rmtree(workdir)
    cfg = resolve(entry.preset, [f"seed={seed}", "train.progress=false", *overrides],
                  jax.device_count())
    try:
        train(cfg, workdir)
    except TrainingDiverged:
        pass  # the diverged zoo entry ends this way; its log holds the evidence
    run = ZooRun(entry.preset, seed, entry.expected)
    report = diagnose(workdir)
    for seg in report.timeline:
        run.seen.setdefault(seg.verdict, seg.start_step)
    for rec, v in zip(report.records, report.verdicts, strict=True):
        live = (str(rec.get("verdict", "")), str(rec.get("at_risk", "")))
        if live != (v.name, v.at_risk):
            run.mismatches.append((int(rec["step"]), "/".join(live), f"{v.name}/{v.at_risk}"))
        if v.at_risk:
            run.at_risk.setdefault(v.at_risk, v.step)
    run.live_final = str(report.records[-1].get("verdict", ""))
    run.doctor_final = report.final.name
    return run


def scorecard(runs: Sequence[ZooRun]) -> list[dict[str, int | str]]:
    """Per detector: zoo runs, true positives (raised where expected), false positives
    (raised in a run expecting something else, healthy runs included), misses."""
    rows: list[dict[str, int | str]] = []
    for name in VERDICTS[1:]:
        expected = [r for r in runs if r.expected == name]
        rows.append({
            "detector": name,
            "runs": len(runs),
            "expected": len(expected),
            "true_positives": sum(name in r.seen for r in expected),
            "false_positives": sum(name in r.seen for r in runs if r.expected != name),
            "missed": sum(name not in r.seen for r in expected),
        })
    return rows


def format_scorecard(runs: Sequence[ZooRun]) -> str:
    """The scorecard as a markdown table, then one line per run."""
    head = ("| detector | zoo runs | runs expecting it | true positives | false positives |\n"
            "|---|---|---|---|---|")
    body = [f"| {r['detector']} | {r['runs']} | {r['expected']} | {r['true_positives']} | "
            f"{r['false_positives']} |" for r in scorecard(runs)]
    detail = [f"- {r.preset} seed {r.seed}: expected {r.expected}; raised "
              + (", ".join(f"{k} at step {v}" for k, v in r.seen.items()) or "nothing")
              + ("; at risk: " + ", ".join(f"{k} at step {v}" for k, v in r.at_risk.items())
                 if r.at_risk else "")
              + (f"; {len(r.mismatches)} live/doctor mismatches" if r.mismatches else "")
              for r in runs]
    return "\n".join([head, *body, "", *detail])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m jaxgan.zoo",
                                description="Run the failure zoo and print the scorecard.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--presets", nargs="+", default=[e.preset for e in ZOO])
    p.add_argument("--out", default=None, help="directory for the runs (default: a temp dir)")
    args = p.parse_args(argv)
    root = Path(args.out or tempfile.mkdtemp(prefix="jaxgan_zoo_"))
    entries = [e for e in ZOO if e.preset in args.presets]
    runs = []
    for entry in entries:
        for seed in args.seeds:
            run = run_entry(entry, seed, root / f"{entry.preset}_s{seed}")
            status = "ok" if run.passed(entry.within_steps) else "UNEXPECTED"
            print(f"{entry.preset} seed {seed}: {status} {run.seen}", file=sys.stderr)
            runs.append(run)
    print(format_scorecard(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
