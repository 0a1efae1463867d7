"""Failure-mode detectors: practitioners' rules of thumb over a sliding window of log records.

Each record is one line of `metrics.jsonl`: the means over one log interval of the signals
from `jaxgan.diagnostics.signals` (see the README for the list). Each detector is a pure
function `(window, baseline, profile, active) -> Finding | None`:

* `window`: the recent records after warm-up (oldest first);
* `baseline`: medians of every signal over the warm-up records, the run's "early value";
* `profile`: what the run's loss makes meaningful (probabilities only for the two
  sigmoid-cross-entropy losses, accuracies wherever the sign of D's output is its decision,
  a loss floor wherever a perfect D scores zero);
* `active`: whether this verdict is the current one, which relaxes the rule (hysteresis) so
  that a verdict does not flicker on and off around a threshold.

A sustained condition must hold in `FIRE_FRAC` of the window's records, including the latest
one, to fire, and keeps firing while it holds in `HOLD_FRAC` of them. The thresholds are the
constants of `jaxgan.diagnostics.thresholds`; the README has the same table.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jaxgan.diagnostics.records import (
    Finding,
    LossProfile,
    Record,
    count,
    fmt,
    layer_extreme,
    nonfinite_signals,
    swing,
    value,
)
from jaxgan.diagnostics.thresholds import (  # noqa: F401  (re-exported: det.X)
    D_CONFIDENT_PROB,
    D_LOSS_FLOOR,
    D_WIN_ACC,
    DIVERSITY_RATIO_MIN,
    DUP_FRAC_MAX,
    EXPLODE_FACTOR,
    EXPLODE_JUMP,
    EXPLODE_RECORDS,
    FIRE_FRAC,
    G_CLIMB_MARGIN,
    G_DEAD_NORM,
    G_LOSS_HIGH,
    HOLD_FRAC,
    MIN_EVIDENCE_RECORDS,
    MODES_MIN_FRAC,
    OSC_ACC_AMPLITUDE,
    OSC_BAND_FRAC,
    OSC_HOLD_FACTOR,
    OSC_LOSS_REL_AMPLITUDE,
    OSC_MIN_CROSSINGS,
    OSC_MIN_RECORDS,
    OSC_SETTLE_FRAC,
    PROFILES,
    SATURATED_PROB,
    VANISH_FRAC,
    VANISH_FRAC_UNCONFIRMED,
    WGAN_W_GROWTH,
    profile_for,
)


def _sustained(window: Sequence[Record], pred: Callable[[Record], bool | None],
               active: bool) -> tuple[bool, str]:
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


def detect_diverged(window: Sequence[Record], baseline: Mapping[str, float],
                    profile: LossProfile, active: bool = False) -> Finding | None:
    """NaN/Inf in the latest record, or a sudden jump of a gradient norm to more than
    EXPLODE_FACTOR x its early median."""
    if not window:
        return None
    last = window[-1]
    bad = nonfinite_signals(last)
    if bad:
        return Finding("diverged", [f"non-finite values at step {last.get('step')}: "
                                    + ", ".join(bad)])
    recent = window[-EXPLODE_RECORDS:]
    if len(recent) < EXPLODE_RECORDS:
        return None
    for key in ("g_grad_norm", "d_grad_norm"):
        base = baseline.get(key)
        if not base or base <= 0:
            continue
        vals = [v for r in recent if (v := value(r, key)) is not None]
        if len(vals) < EXPLODE_RECORDS or min(vals) <= EXPLODE_FACTOR * base:
            continue
        prior = [v for r in window[:-EXPLODE_RECORDS] if (v := value(r, key)) is not None]
        if not (active or not prior or min(vals) > EXPLODE_JUMP * statistics.median(prior)):
            continue  # a slow drift up, not an explosion
        ev = [f"{key}={fmt(vals[-1])} > {EXPLODE_FACTOR:g}x its early median {fmt(base)} "
              f"for {EXPLODE_RECORDS} records, a sudden >{EXPLODE_JUMP:g}x jump"]
        if (layer := layer_extreme(last, baseline, key, largest=True)) is not None:
            ev.append(f"largest growth: {layer}")
        return Finding("diverged", ev)
    return None


def g_grad_vanished(record: Record, baseline: Mapping[str, float],
                    profile: LossProfile) -> bool | None:
    """G's gradient has collapsed (or, for minimax, is saturated by D(G(z)) ~ 0)."""
    if profile.saturating and (p := value(record, "d_fake_prob")) is not None:
        if p <= SATURATED_PROB:
            return True
    g, base = value(record, "g_grad_norm"), baseline.get("g_grad_norm")
    if g is None or not base or base <= 0:
        return None
    return g < VANISH_FRAC * base


def d_confident(record: Record, profile: LossProfile) -> bool | None:
    """D is sure about the fakes, judged by whichever signal the loss makes meaningful."""
    if profile.probabilistic and (p := value(record, "d_fake_prob")) is not None:
        return p <= D_CONFIDENT_PROB
    if profile.accuracy_meaningful and (a := value(record, "d_fake_acc")) is not None:
        return a >= D_WIN_ACC
    if profile.d_loss_floor is not None and (d := value(record, "d_loss")) is not None:
        return d < profile.d_loss_floor
    return None


def _d_dominates(record: Record, profile: LossProfile) -> bool | None:
    conds = []
    if (floor := profile.d_loss_floor) is not None:
        real, fake = value(record, "d_loss_real"), value(record, "d_loss_fake")
        if real is not None and fake is not None:
            conds.append(fake < floor if profile.probabilistic else real + fake < floor)
        elif (d := value(record, "d_loss")) is not None:
            conds.append(d < floor)
        else:
            return None
    if profile.accuracy_meaningful:
        ra, fa = value(record, "d_real_acc"), value(record, "d_fake_acc")
        if ra is None or fa is None:
            return None
        conds.append(ra >= D_WIN_ACC and fa >= D_WIN_ACC)
    return all(conds) if conds else None


def _wasserstein_estimate(record: Record) -> float | None:
    real, fake = value(record, "d_loss_real"), value(record, "d_loss_fake")
    if real is not None and fake is not None:
        return -(real + fake)
    d = value(record, "d_loss")
    return None if d is None else -d


def _wgan_convergence_failure(window: Sequence[Record], active: bool) -> Finding | None:
    w = [x for r in window if (x := _wasserstein_estimate(r)) is not None]
    if len(w) < OSC_MIN_RECORDS or w[0] <= 0:
        return None
    rises = sum(b > a for a, b in zip(w, w[1:], strict=False))
    growth = w[-1] / w[0]
    need = (HOLD_FRAC if active else FIRE_FRAC) * (len(w) - 1)
    if rises >= need and growth >= (math.sqrt(WGAN_W_GROWTH) if active else WGAN_W_GROWTH):
        return Finding("convergence_failure", [
            f"critic's Wasserstein estimate grew {fmt(w[0])} -> {fmt(w[-1])} "
            f"({fmt(growth)}x, rising in {rises}/{len(w) - 1} intervals)"])
    return None


def detect_convergence_failure(window: Sequence[Record], baseline: Mapping[str, float],
                               profile: LossProfile, active: bool = False) -> Finding | None:
    """D wins outright (loss ~0, ~100 % accuracy on both) while G's loss climbs, sustained.

    If G's gradient has also collapsed the run is reported as `vanishing_gradient` instead:
    the difference between the two is whether G still gets a signal to learn from, and the
    remedies differ (fix the loss vs. weaken D).
    """
    if profile.name == "wasserstein":
        return _wgan_convergence_failure(window, active)
    ok, where = _sustained(window, lambda r: _d_dominates(r, profile), active)
    if not ok:
        return None
    # G's loss over the records where D dominates: has it climbed?
    won = [r for r in window if _d_dominates(r, profile)]
    g = [v for r in won if (v := value(r, "g_loss")) is not None]
    if not g:
        return None
    g_mean, g_med, g_base = statistics.fmean(g), statistics.median(g), baseline.get("g_loss")
    climbed = g_base is not None and g_mean - g_base > G_CLIMB_MARGIN * max(1.0, abs(g_base))
    high = profile.g_loss_high is not None and g_med > profile.g_loss_high
    probs = [p for r in won if (p := value(r, "d_fake_prob")) is not None]
    p_fake = statistics.fmean(probs) if probs else None
    losing = profile.probabilistic and p_fake is not None and p_fake <= D_CONFIDENT_PROB
    if not (climbed or high or losing):
        return None
    vanished, n = count(window, lambda r: g_grad_vanished(r, baseline, profile))
    if n and vanished >= HOLD_FRAC * n:
        return None
    last = window[-1]
    ev = []
    accs = (f"d_real_acc={fmt(value(last, 'd_real_acc'))}, d_fake_acc="
            f"{fmt(value(last, 'd_fake_acc'))} >= {D_WIN_ACC:g}")
    real, fake = value(last, "d_loss_real"), value(last, "d_loss_fake")
    floor = profile.d_loss_floor
    if floor is None:
        ev = [f"{accs} {where}"]
    elif real is None or fake is None:
        ev = [f"d_loss={fmt(value(last, 'd_loss'))} < {floor:g} {where}"]
    elif profile.probabilistic:
        ev = [f"d_loss_fake={fmt(fake)} < {floor:g} (d_loss {fmt(value(last, 'd_loss'))}) "
              f"{where}"]
    else:
        ev = [f"d_loss_real + d_loss_fake = {fmt(real + fake)} < {floor:g} {where}"]
    if floor is not None and profile.accuracy_meaningful:
        ev.append(accs)
    ev.append(f"g_loss climbing: {fmt(g_mean)} while D dominates vs early median {fmt(g_base)}"
              + (f"; mean D(G(z)) {fmt(p_fake)}" if profile.probabilistic else ""))
    return Finding("convergence_failure", ev)


def detect_vanishing_gradient(window: Sequence[Record], baseline: Mapping[str, float],
                              profile: LossProfile, active: bool = False) -> Finding | None:
    """G's gradient norm collapsed below VANISH_FRAC of its early median while D is confident."""
    base = baseline.get("g_grad_norm")

    def cond(r: Record) -> bool | None:
        if (g := value(r, "g_grad_norm")) is not None and g <= G_DEAD_NORM:
            return True
        vanished = g_grad_vanished(r, baseline, profile)
        if vanished is None:
            return None
        confident = d_confident(r, profile)
        if confident is None:
            g = value(r, "g_grad_norm")
            return g is not None and bool(base) and g < VANISH_FRAC_UNCONFIRMED * base
        return vanished and confident

    ok, where = _sustained(window, cond, active)
    if not ok:
        return None
    last = window[-1]
    g = value(last, "g_grad_norm")
    ratio = f" ({fmt(100 * g / base)}% of early median {fmt(base)})" if g and base else ""
    if g is not None and g <= G_DEAD_NORM:
        ratio = " (G receives no gradient at all: dead units or a saturated output)"
    p = value(last, "d_fake_prob")
    if profile.saturating and p is not None and p <= SATURATED_PROB:
        ev = [f"d_fake_prob={fmt(p)} <= {SATURATED_PROB:g} {where}: the minimax G gradient "
              f"scales with D(G(z)), {fmt(0.5 / max(p, 1e-12))}x weaker than in a balanced game",
              f"g_grad_norm={fmt(g)}{ratio}"]
    else:
        ev = [f"g_grad_norm={fmt(g)}{ratio} {where}"]
        if d_confident(last, profile):
            key = "d_fake_prob" if profile.probabilistic else "d_fake_acc"
            ev.append(f"{key}={fmt(value(last, key))} (D confident)")
    if (layer := layer_extreme(last, baseline, "g_grad_norm", largest=False)) is not None:
        ev.append(f"smallest: {layer}")
    return Finding("vanishing_gradient", ev)


def _low_diversity(r: Record) -> bool | None:
    ratio = value(r, "diversity_ratio")
    return None if ratio is None else ratio < DIVERSITY_RATIO_MIN


def _excess_dup(r: Record) -> float | None:
    dup = value(r, "dup_frac")
    return None if dup is None else dup - (value(r, "real_dup_frac") or 0.0)


def _modes_lost(r: Record) -> bool | None:
    captured, modes = value(r, "modes_captured"), value(r, "num_modes")
    return None if captured is None or not modes else captured < MODES_MIN_FRAC * modes


def detect_mode_collapse(window: Sequence[Record], baseline: Mapping[str, float],
                         profile: LossProfile, active: bool = False) -> Finding | None:
    """Generated diversity far below real diversity, near-duplicates, or modes lost; sustained.

    Each sign is judged over the records that carry it (mode counts come from evaluations,
    which need not run at every log step). Oscillating losses are added as supporting
    evidence by the monitor: a collapsed G often hops from mode to mode as D learns to
    reject each one.
    """
    last, ev = window[-1] if window else {}, []
    ok, where = _sustained(window, _low_diversity, active)
    if ok:
        ev.append(f"diversity_ratio={fmt(value(last, 'diversity_ratio'))} < "
                  f"{DIVERSITY_RATIO_MIN:g} {where}")
    ok, where = _sustained(window, lambda r: None if (x := _excess_dup(r)) is None
                           else x > DUP_FRAC_MAX, active)
    if ok:
        ev.append(f"dup_frac={fmt(value(last, 'dup_frac'))} ({fmt(_excess_dup(last))} above "
                  f"the real batch's) > {DUP_FRAC_MAX:g} {where}")
    ok, where = _sustained(window, _modes_lost, active)
    if ok:
        ev.append(f"modes_captured={fmt(value(last, 'modes_captured'))}/"
                  f"{fmt(value(last, 'num_modes'))} < {MODES_MIN_FRAC:g} of the modes {where}")
    return Finding("mode_collapse", ev) if ev else None


def detect_oscillation(window: Sequence[Record], baseline: Mapping[str, float],
                       profile: LossProfile, active: bool = False) -> Finding | None:
    """The players trade wins: large, repeated, undamped swings of D accuracy or loss gap."""
    if len(window) < OSC_MIN_RECORDS:
        return None
    factor = OSC_HOLD_FACTOR if active else 1.0
    series: list[tuple[str, list[float], float, float]] = []
    if profile.accuracy_meaningful:
        for key in ("d_real_acc", "d_fake_acc"):
            xs = [v for r in window if (v := value(r, key)) is not None]
            series.append((key, xs, OSC_ACC_AMPLITUDE, 1.0))
    if profile.name != "wasserstein":
        pairs = [(g, d) for r in window
                 if (g := value(r, "g_loss")) is not None and (d := value(r, "d_loss")) is not None]
        scale = (statistics.median(abs(g) for g, _ in pairs)
                 + statistics.median(abs(d) for _, d in pairs)) if pairs else 0.0
        if scale > 1e-6:
            series.append(("g_loss - d_loss", [g - d for g, d in pairs],
                           OSC_LOSS_REL_AMPLITUDE, scale))
    ev = []
    for key, xs, amp, scale in series:
        if len(xs) < OSC_MIN_RECORDS or not all(math.isfinite(x) for x in xs):
            continue
        need = factor * amp * scale
        p2p, crossings, settle = swing(xs, OSC_BAND_FRAC * need)
        if (p2p >= need and crossings >= OSC_MIN_CROSSINGS - (1 if active else 0)
                and settle >= OSC_SETTLE_FRAC * factor):
            size = fmt(p2p) if scale == 1.0 else f"{fmt(p2p)} ({fmt(p2p / scale)}x loss scale)"
            ev.append(f"{key} swings by {size}, crossing mid-range {crossings} times in "
                      f"{len(xs)} records without damping")
    return Finding("oscillation", ev) if ev else None


# Highest priority first: the verdict the monitor reports when several detectors fire.
DETECTORS: tuple[tuple[str, Callable[..., Finding | None]], ...] = (
    ("diverged", detect_diverged),
    ("convergence_failure", detect_convergence_failure),
    ("vanishing_gradient", detect_vanishing_gradient),
    ("mode_collapse", detect_mode_collapse),
    ("oscillation", detect_oscillation),
)


def __getattr__(name: str) -> Any:
    # The monitor lives in `monitor.py` (this module holds the rules); keep the import path
    # `jaxgan.diagnostics.detectors.HealthMonitor` working without a circular import.
    if name in ("HealthMonitor", "Verdict"):
        from jaxgan.diagnostics import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
