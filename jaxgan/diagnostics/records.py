"""Reading log records: numeric access, loss profiles, baselines, window counts and swings.

The generic window mechanics under the detectors, kept apart from the rules themselves so
that `detectors.py` reads as the list of rules it is (thresholds: `thresholds.py`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxgan.diagnostics.thresholds import (  # noqa: F401  (LossProfile: re-exported)
    FIRE_FRAC,
    HOLD_FRAC,
    MIN_EVIDENCE_RECORDS,
    SATURATED_PROB,
    LossProfile,
)

Record = Mapping[str, Any]

# Keys whose non-finite value means the training itself went non-finite.
_CORE_SIGNALS = (
    "d_loss", "g_loss", "d_loss_real", "d_loss_fake", "g_grad_norm", "d_grad_norm",
    "g_param_norm", "d_param_norm", "g_update_ratio", "d_update_ratio",
)
# A record is a training record (one the monitor judges) when it has one of these: the
# losses of a log record, or the bare `nonfinite` flag of the trainer's NaN record.
_TRAINING_KEYS = ("d_loss", "g_loss", "nonfinite")
# How metrics.jsonl keeps a non-finite float (JSON has none): `writers._jsonable`'s str().
_NONFINITE_TEXT = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass
class Finding:
    """A detector's positive answer: the verdict name and the evidence behind it."""

    name: str
    evidence: list[str] = field(default_factory=list)


def value(record: Record, key: str) -> float | None:
    """A record's signal as a float, or None when absent or not a number."""
    v = record.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def is_training_record(record: Any) -> bool:
    """A log record of the training loop (the trainer's NaN record included), not an
    evaluation record or a line of something else: what the monitor and the doctor judge."""
    return (isinstance(record, Mapping) and value(record, "step") is not None
            and record.get("kind") != "eval" and any(k in record for k in _TRAINING_KEYS))


def decoded(record: Record) -> Record:
    """`record` with the strings "nan", "inf", "-inf" turned back into floats, so a record
    read back from metrics.jsonl is judged exactly as the live one was."""
    bad = {k: _NONFINITE_TEXT[v] for k, v in record.items()
           if isinstance(v, str) and v in _NONFINITE_TEXT}
    return {**record, **bad} if bad else record


def excess_dup(r: Record) -> float | None:
    """The share of G's batch that are near-duplicates in D's features beyond the real
    batch's own share (real toy batches are themselves near-duplicates)."""
    dup = value(r, "dup_frac")
    return None if dup is None else dup - (value(r, "real_dup_frac") or 0.0)


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def make_baseline(records: Sequence[Record]) -> dict[str, float]:
    """Median of each finite numeric signal over `records` (the warm-up): the early values."""
    keys = {k for r in records for k in r}
    base = _medians(records, keys)
    live = [r for r in records if not _saturated_both_ways(r)]
    grads = {k for k in keys if k.startswith(GRAD_PREFIXES)}
    base.update({f"{k}{UNSATURATED}": v for k, v in _medians(live, grads).items()})
    return base


# A gradient norm's median over the warm-up records in which D was not saturated both ways,
# stored under `key + UNSATURATED`: the reference the explosion rules compare with. A D
# certain of real and fake alike starves both players' gradients (a minimax toy_ring run
# with D 20x faster: G's norm 0.003-0.04 at steps 200-500, against 1.8 at step 100), and
# the ordinary recovery to 2-5 then read as a 100x explosion, `diverged` for 14 records.
UNSATURATED = "@unsaturated"
GRAD_PREFIXES = ("g_grad_norm", "d_grad_norm")


def reference(baseline: Mapping[str, float], key: str) -> float | None:
    """The early level a gradient norm's growth is measured against (None: no reference)."""
    return baseline.get(f"{key}{UNSATURATED}") if key.startswith(GRAD_PREFIXES) \
        else baseline.get(key)


def _medians(records: Sequence[Record], keys: set[str]) -> dict[str, float]:
    out = {}
    for k in keys:
        vals = [v for r in records if (v := value(r, k)) is not None and math.isfinite(v)]
        if vals:
            out[k] = statistics.median(vals)
    return out


def _saturated_both_ways(r: Record) -> bool:
    """D certain of real and fake alike: mean probabilities within SATURATED_PROB of 1 and 0."""
    real, fake = value(r, "d_real_prob"), value(r, "d_fake_prob")
    return real is not None and fake is not None and fake <= SATURATED_PROB \
        and real >= 1 - SATURATED_PROB


def count(window: Sequence[Record], pred: Callable[[Record], bool | None]) -> tuple[int, int]:
    """(records where pred holds, records where it could be evaluated)."""
    results = [pred(r) for r in window]
    known = [x for x in results if x is not None]
    return sum(bool(x) for x in known), len(known)


def nonfinite_signals(record: Record) -> list[str]:
    """Which training signals of a record are NaN/Inf (including the `nonfinite` flag)."""
    bad = [k for k, v in record.items()
           if (k in _CORE_SIGNALS or k.startswith(("g_grad_norm/", "d_grad_norm/")))
           and isinstance(v, float) and not math.isfinite(v)]
    flag = value(record, "nonfinite")
    if flag is not None and (flag > 0 or not math.isfinite(flag)):
        bad.insert(0, "nonfinite")
    return bad


def out_of_bounds(record: Record, bounds: Mapping[str, float]) -> list[str]:
    """`key=value` for each finite signal at or beyond its absolute sanity bound."""
    out = []
    for k, bound in bounds.items():
        v = value(record, k)
        if v is not None and math.isfinite(v) and abs(v) >= bound:
            out.append(f"{k}={fmt(v)}")
    return out


def layer_extreme(record: Record, baseline: Mapping[str, float], prefix: str,
                   largest: bool) -> str | None:
    """The layer whose gradient norm moved most relative to its own early median."""
    ratios = {}
    for k in record:
        if k.startswith(prefix + "/") and (v := value(record, k)) is not None:
            if baseline.get(k, 0.0) > 0 and math.isfinite(v):
                ratios[k] = v / baseline[k]
    if not ratios:
        return None
    k = (max if largest else min)(ratios, key=ratios.get)
    return f"{k}={fmt(value(record, k))} ({fmt(ratios[k])}x its early median)"


def swing(xs: Sequence[float], band: float) -> tuple[float, int, float]:
    """(peak-to-peak, crossings, 2nd-half p2p / 1st-half p2p) of a series.

    A crossing is a move from above `mid + band` to below `mid - band` or back, `mid` being
    the middle of the range (not the median, which sits on the plateau of a lopsided cycle):
    the dead band keeps small noise around `mid` from counting as trading wins.
    """
    mid = (max(xs) + min(xs)) / 2
    states = [x > mid for x in xs if abs(x - mid) > band]
    crossings = sum(a != b for a, b in zip(states, states[1:], strict=False))
    half = len(xs) // 2
    first, second = xs[:half + 1], xs[half:]
    p2p_first = max(first) - min(first)
    settle = (max(second) - min(second)) / p2p_first if p2p_first > 0 else 1.0
    return max(xs) - min(xs), crossings, settle


def sustained(window: Sequence[Record], pred: Callable[[Record], bool | None],
               active: bool) -> tuple[bool, str]:
    """(fires, where): `pred` holds in FIRE_FRAC of the records it can judge, the latest
    among them (HOLD_FRAC when the verdict is `active`), over at least
    MIN_EVIDENCE_RECORDS; `where` says in how many and since which step."""
    hits, n = count(window, pred)
    if n < MIN_EVIDENCE_RECORDS:
        return False, ""
    if active:
        ok = hits >= HOLD_FRAC * n
    else:
        ok = hits >= FIRE_FRAC * n and bool(pred(window[-1]))
    onset = None  # first step of the trailing run of records showing the condition
    for r in reversed(window):
        if not pred(r):
            break
        onset = r.get("step")
    return ok, f"in {hits}/{n} records" + (f", since step {onset}" if onset is not None else "")
