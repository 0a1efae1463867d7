"""The failure benchmark's halves swapped: thresholds tuned on one half, recall on the other.

`benchmarks/health_zoo.py` splits its mechanisms into halves A and B. The detectors'
thresholds were chosen looking at half A, and half B is the held-out report. This script
makes that split mechanical and runs it both ways. For every combination of a grid of the
thresholds that were tuned (the `GRID` below), it replays each finished run's
`metrics.jsonl` through the monitor, as `jaxgan doctor` does, with those values patched
in. It picks the combination that is best on the tuning half and reports the other half
with it. No training happens: the runs are the ones `health_zoo.py run` trained.

"Best" means: no healthy control flagged, then the highest worst-kind recall (the target
is >= 90 % per failure kind), then the highest total recall, then the smallest distance
from the shipped defaults (so a flat optimum keeps the defaults). The controls are used
by both directions as the false-positive check; the report says so.

    python benchmarks/health_swap.py --root /tmp/hz [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import pkgutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import health_zoo  # noqa: E402  (benchmarks/ is not a package)

# The thresholds chosen while looking at failure runs. Each is a module constant of
# jaxgan.diagnostics.thresholds, read at call time by the rules. The grids span the
# values a tuner would have tried around each default.
GRID: dict[str, tuple[float, ...]] = {
    "D_AHEAD_ACC": (0.8, 0.85, 0.9, 0.95),  # D ahead while G loses (over time)
    "D_WIN_ACC": (0.9, 0.95, 0.98),  # D wins outright
    "RUNAWAY_GROWTH": (4.0, 8.0, 16.0),  # divergence by geometric growth
    "FIRE_FRAC": (0.6, 0.7, 0.8),  # how much of the window must show a failure
}


def _diagnostics_modules() -> list:
    import jaxgan.diagnostics as pkg

    return [importlib.import_module(f"jaxgan.diagnostics.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__)]


@contextmanager
def patched(values: Mapping[str, float]) -> Iterator[None]:
    """The constants set in every diagnostics module that holds them (the rules import
    them by name), and restored afterwards."""
    saved = []
    for mod in _diagnostics_modules():
        for k, v in values.items():
            if hasattr(mod, k):
                saved.append((mod, k, getattr(mod, k)))
                setattr(mod, k, v)
    try:
        yield
    finally:
        for mod, k, v in reversed(saved):
            setattr(mod, k, v)


def defaults() -> dict[str, float]:
    from jaxgan.diagnostics import thresholds

    return {k: getattr(thresholds, k) for k in GRID}


def evaluate(rows: list[health_zoo.Scored], half: str) -> dict:
    """Recall per failure kind on `half`, and the controls flagged."""
    per: dict[str, list[int]] = {}
    for r in rows:
        if r.case.half == half and r.truth in health_zoo.KINDS:
            hit = per.setdefault(r.truth, [0, 0])
            hit[0] += r.truth in r.seen
            hit[1] += 1
    flagged = sum(bool(r.seen) for r in rows if r.case.half == "control")
    named, runs = sum(a for a, _ in per.values()), sum(n for _, n in per.values())
    return {"per_kind": {k: f"{a}/{n}" for k, (a, n) in sorted(per.items())},
            "worst_kind": min((a / n for a, n in per.values()), default=0.0),
            "total": f"{named}/{runs}", "recall": named / max(runs, 1),
            "controls_flagged": flagged}


def _distance(values: Mapping[str, float], base: Mapping[str, float]) -> int:
    return sum(abs(GRID[k].index(values[k]) - GRID[k].index(base[k])) for k in GRID)


def sweep(root: Path) -> list[dict]:
    """Every combination of GRID, with both halves' scores (replays only)."""
    out = []
    for combo in itertools.product(*GRID.values()):
        values = dict(zip(GRID, combo, strict=True))
        with patched(values):
            rows = health_zoo.score(root)
        out.append({"values": values, "A": evaluate(rows, "A"), "B": evaluate(rows, "B")})
    return out


def best(results: list[dict], half: str, base: Mapping[str, float]) -> dict:
    return min(results, key=lambda r: (r[half]["controls_flagged"] > 0,
                                       -r[half]["worst_kind"], -r[half]["recall"],
                                       _distance(r["values"], base)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="health_zoo.py's run directory")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    base = defaults()
    results = sweep(Path(args.root))
    shipped = next(r for r in results if r["values"] == base)
    report = {"grid": {k: list(v) for k, v in GRID.items()}, "defaults": shipped}
    for tune, held in (("A", "B"), ("B", "A")):
        chosen = best(results, tune, base)
        report[f"tuned_on_{tune}"] = {"values": chosen["values"], "tuning": chosen[tune],
                                      "held_out": chosen[held]}
        print(f"tuned on {tune}: {chosen['values']}\n  {tune} (tuning): {chosen[tune]}\n"
              f"  {held} (held out): {chosen[held]}")
    print(f"defaults {base}: A {shipped['A']}, B {shipped['B']}")
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "all": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
