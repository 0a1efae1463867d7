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
one, to fire, and keeps firing while it holds in `HOLD_FRAC` of them (that hold form is also
the `at_risk` warning of a healthy run: `jaxgan.diagnostics.risks`). Beside the rules
relative to the run's own early values, absolute sanity bounds catch a run that exploded
before it had a sane baseline. One detector per failure, each returning its evidence; the
two about D beating G live in `jaxgan.diagnostics.dominance`. The thresholds are the
constants of `jaxgan.diagnostics.thresholds`; the README has the same table.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from jaxgan.diagnostics.dominance import (  # noqa: F401 (re-exported: det.X)
    d_confident,
    detect_convergence_failure,
    detect_vanishing_gradient,
    early_dominance,
    early_saturation,
    g_grad_vanished,
)
from jaxgan.diagnostics.overfitting import detect_d_overfitting
from jaxgan.diagnostics.records import (  # noqa: F401 (det.X)
    Finding,
    LossProfile,
    Record,
    count,
    decoded,
    excess_dup,
    fmt,
    is_training_record,
    layer_extreme,
    nonfinite_signals,
    out_of_bounds,
    reference,
    sustained,
    swing,
    value,
)
from jaxgan.diagnostics.thresholds import (  # noqa: F401  (re-exported: det.X)
    ADA_P_PINNED,
    ADA_RT_MARGIN,
    CLASSES_MIN_CONFIDENT,
    D_AHEAD_ACC,
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
    GRAD_ABS_MAX,
    GRAD_KEYS,
    HOLD_FRAC,
    LOSS_ABS_MAX,
    LOSS_KEYS,
    MIN_EVIDENCE_RECORDS,
    MODES_MAX_OFF,
    MODES_MIN_FRAC,
    OSC_ACC_AMPLITUDE,
    OSC_BAND_FRAC,
    OSC_HOLD_FACTOR,
    OSC_LOSS_REL_AMPLITUDE,
    OSC_MIN_CROSSINGS,
    OSC_MIN_RECORDS,
    OSC_SETTLE_FRAC,
    PIXEL_SPREAD_MIN,
    RUNAWAY_FACTOR,
    RUNAWAY_GROWTH,
    RUNAWAY_RECORDS,
    SATURATED_PROB,
    VANISH_FRAC,
    VANISH_FRAC_UNCONFIRMED,
    WGAN_W_GROWTH,
)


def profile_for(loss_name: str | None) -> LossProfile:
    """The profile of a loss, as registered with it (`jaxgan.losses.register_loss`); an
    unknown (user-defined, unregistered) loss gets the accuracy/grad rules only."""
    from jaxgan.losses import LOSSES

    loss = LOSSES.get(loss_name) if loss_name is not None else None
    if loss is not None and loss.profile is not None:
        return loss.profile
    return LossProfile(str(loss_name or "unknown"), accuracy_meaningful=True)


def sanity_bounds(profile: LossProfile) -> dict[str, float]:
    """The absolute bound of each signal no healthy run reaches (see thresholds.py)."""
    losses = ("d_loss",) if profile.name == "wasserstein" else LOSS_KEYS
    return {**dict.fromkeys(losses, LOSS_ABS_MAX), **dict.fromkeys(GRAD_KEYS, GRAD_ABS_MAX)}


def insane(record: Record, profile: LossProfile) -> list[str]:
    """Why a record is diverged on its own: non-finite values or values beyond the absolute
    bounds (empty if neither). Such records never enter the early baseline."""
    bad = nonfinite_signals(record)
    if bad:
        return [f"non-finite values at step {record.get('step')}: " + ", ".join(bad)]
    bounds = sanity_bounds(profile)
    huge = out_of_bounds(record, bounds)
    if huge:
        return [f"{', '.join(huge)} at step {record.get('step')}: beyond the absolute bounds "
                f"(|loss| >= {LOSS_ABS_MAX:g}, gradient norm >= {GRAD_ABS_MAX:g}) that no "
                "healthy run reaches"]
    return []


def detect_diverged(window: Sequence[Record], baseline: Mapping[str, float],
                    profile: LossProfile, active: bool = False) -> Finding | None:
    """NaN/Inf or a value beyond the absolute sanity bounds in the latest record, or a sudden
    jump of a gradient norm to more than EXPLODE_FACTOR x its early median."""
    if not window:
        return None
    last = window[-1]
    if bad := insane(last, profile):
        return Finding("diverged", bad)
    if (runaway := _runaway(window, baseline, profile, active)) is not None:
        return runaway
    recent = window[-EXPLODE_RECORDS:]
    if len(recent) < EXPLODE_RECORDS:
        return None
    for key in GRAD_KEYS:
        base = reference(baseline, key)
        if not base or base <= 0:
            continue
        vals = [v for r in recent if (v := value(r, key)) is not None]
        if len(vals) < EXPLODE_RECORDS or min(vals) <= EXPLODE_FACTOR * base:
            continue
        prior = [v for r in window[:-EXPLODE_RECORDS] if (v := value(r, key)) is not None]
        if not (active or not prior or min(vals) > EXPLODE_JUMP * statistics.median(prior)):
            continue  # a slow drift up, not an explosion
        ev = [f"{key}={fmt(vals[-1])} > {EXPLODE_FACTOR:g}x its early median {fmt(base)} "
              f"for {EXPLODE_RECORDS} records"
              + ("" if active else f", a sudden >{EXPLODE_JUMP:g}x jump")]
        if (layer := layer_extreme(last, baseline, key, largest=True)) is not None:
            ev.append(f"largest growth: {layer}")
        return Finding("diverged", ev)
    return None


def _magnitude(r: Record, key: str) -> float | None:
    v = value(r, key)
    return None if v is None else abs(v)


def _runaway(window: Sequence[Record], baseline: Mapping[str, float], profile: LossProfile,
             active: bool) -> Finding | None:
    """A signal growing geometrically toward Inf (thresholds.RUNAWAY_*); held (`active`)
    while it keeps growing at sqrt(RUNAWAY_GROWTH) over the same records."""
    keys = GRAD_KEYS + (("d_loss",) if profile.name == "wasserstein" else ())
    for key in keys:
        base = abs(reference(baseline, key) or 0.0)
        if not base:
            continue
        vals = [v for r in window[-RUNAWAY_RECORDS:] if (v := _magnitude(r, key)) is not None]
        if len(vals) < RUNAWAY_RECORDS or vals[-1] < RUNAWAY_FACTOR * base:
            continue
        rises = sum(b > a for a, b in zip(vals, vals[1:], strict=False))
        growth = vals[-1] / max(vals[0], 1e-30)
        need = math.sqrt(RUNAWAY_GROWTH) if active else RUNAWAY_GROWTH  # held: still rising
        if growth >= need and rises == len(vals) - 1:
            return Finding("diverged", [
                f"|{key}| {fmt(vals[0])} -> {fmt(vals[-1])} over the last {len(vals)} "
                f"records ({fmt(growth)}x, rising in {rises}/{len(vals) - 1} intervals), "
                f"{fmt(vals[-1] / base)}x its early median {fmt(base)}: growing without bound"])
    return None


def _low_diversity(r: Record) -> bool | None:
    ratio = value(r, "diversity_ratio")
    return None if ratio is None else ratio < DIVERSITY_RATIO_MIN


def _modes_lost(r: Record, prefix: str = "") -> bool | None:
    """Fewer than half the modes (2-D toys) or classes (labelled images) among the samples
    of the training generator (`prefix` "") or of the EMA generator ("ema_"); None when the
    record cannot say (no count, or too few samples near a mode / recognizable)."""
    captured, modes = value(r, f"{prefix}modes_captured"), value(r, "num_modes")
    if captured is None or not modes:
        return _classes_lost(r, prefix)
    if (off := value(r, f"{prefix}toy_off_mode")) is not None and off > MODES_MAX_OFF:
        return None  # G is off the data: too few samples near a mode to judge coverage
    return captured < MODES_MIN_FRAC * modes


def _classes_lost(r: Record, prefix: str = "") -> bool | None:
    """The image form: classes of a labelled dataset the live classifier finds
    (`jaxgan.diagnostics.class_modes`), judged once enough samples look like some class."""
    captured, classes = value(r, f"{prefix}classes_captured"), value(r, "num_classes")
    if captured is None or not classes:
        return None
    if (value(r, f"{prefix}class_confident") or 0.0) < CLASSES_MIN_CONFIDENT:
        return None  # nothing recognizable yet: a convergence question, not coverage
    return captured < MODES_MIN_FRAC * classes


def _spread_lost(r: Record, prefix: str = "") -> bool | None:
    """The samples of the training (`prefix` "") or EMA ("ema_") generator nearly alike in
    pixel space (`jaxgan.diagnostics.spread`); None without the signal."""
    spread = value(r, f"{prefix}pixel_spread")
    return None if spread is None else spread < PIXEL_SPREAD_MIN


def _coverage_evidence(last: Record, prefix: str, where: str) -> str:
    who = " by the EMA generator" if prefix else ""
    if value(last, "modes_captured") is None:
        return (f"classes_captured={fmt(value(last, f'{prefix}classes_captured'))}/"
                f"{fmt(value(last, 'num_classes'))}{who} < {MODES_MIN_FRAC:g} of the classes "
                f"{where} (by jaxgan's classifier, among the "
                f"{fmt(100 * (value(last, f'{prefix}class_confident') or 0.0))}% of samples "
                "it is sure of)")
    off = value(last, f"{prefix}toy_off_mode")
    return (f"modes_captured={fmt(value(last, f'{prefix}modes_captured'))}/"
            f"{fmt(value(last, 'num_modes'))}{who} < {MODES_MIN_FRAC:g} of the modes {where}"
            + ("" if off is None else f" (counted among the samples near a mode; "
               f"{fmt(100 * off)}% of the samples are near none)"))


def detect_mode_collapse(window: Sequence[Record], baseline: Mapping[str, float],
                         profile: LossProfile, active: bool = False) -> Finding | None:
    """Generated diversity far below real diversity, near-duplicates, or modes lost; sustained.

    Each sign is judged over the records that carry it (mode counts come from evaluations,
    which need not run at every log step). Oscillating losses are added as supporting
    evidence by the monitor: a collapsed G often hops from mode to mode as D learns to
    reject each one.
    """
    last, ev = window[-1] if window else {}, []
    ok, where = sustained(window, _low_diversity, active)
    if ok:
        ev.append(f"diversity_ratio={fmt(value(last, 'diversity_ratio'))} < "
                  f"{DIVERSITY_RATIO_MIN:g} {where}")
    ok, where = sustained(window, lambda r: None if (x := excess_dup(r)) is None
                           else x > DUP_FRAC_MAX, active)
    if ok:
        ev.append(f"dup_frac={fmt(value(last, 'dup_frac'))} ({fmt(excess_dup(last))} above "
                  f"the real batch's) > {DUP_FRAC_MAX:g} {where}")
    for prefix in ("", "ema_"):  # the training generator first; the EMA's once it is not
        ok, where = sustained(window, lambda r, p=prefix: _modes_lost(r, p), active)
        if ok:
            ev.append(_coverage_evidence(last, prefix, where))
            break
    for prefix in ("", "ema_"):
        ok, where = sustained(window, lambda r, p=prefix: _spread_lost(r, p), active)
        if ok:
            ev.append(f"pixel_spread={fmt(value(last, f'{prefix}pixel_spread'))}"
                      f"{' by the EMA generator' if prefix else ''} < {PIXEL_SPREAD_MIN:g} "
                      f"{where}: the samples are nearly alike in pixel space (1 = as spread "
                      "as real images)")
            break
    return Finding("mode_collapse", ev) if ev else None


def detect_oscillation(window: Sequence[Record], baseline: Mapping[str, float],
                       profile: LossProfile, active: bool = False,
                       warn: bool = False) -> Finding | None:
    """The players trade wins: large, repeated, undamped swings of D accuracy or loss gap.

    `active` (the verdict holds) relaxes amplitudes to OSC_HOLD_FACTOR and needs one
    crossing fewer; `warn` (the `at_risk` form) keeps the full amplitudes and needs one
    crossing fewer: swings as large as an oscillation's, not yet for two full cycles (a
    healthy dcgan_digits run swings its loss gap by ~0.6x its scale, record to record).
    """
    if len(window) < OSC_MIN_RECORDS:
        return None
    factor = OSC_HOLD_FACTOR if active and not warn else 1.0
    slack = 1 if active or warn else 0
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
        if (p2p >= need and crossings >= OSC_MIN_CROSSINGS - slack
                and settle >= OSC_SETTLE_FRAC * factor):
            size = fmt(p2p) if scale == 1.0 else f"{fmt(p2p)} ({fmt(p2p / scale)}x loss scale)"
            ev.append(f"{key} swings by {size}, crossing mid-range {crossings} times in "
                      f"{len(xs)} records without damping")
    return Finding("oscillation", ev) if ev else None


@dataclass(frozen=True)
class Detector:
    """A failure mode: its rule, what practitioners try against it (most effective first,
    with the config key where one exists) and its colour in the doctor's plots."""

    name: str
    detect: Callable[..., Finding | None]
    remedies: tuple[str, ...]
    colour: str


# The registry, highest priority first: the verdict the monitor reports when several
# detectors fire. `DETECTORS`, `VERDICTS`, `REMEDIES` and `VERDICT_COLORS` are its views,
# read by the monitor, the at-risk warnings, the doctor, its plots and the failure zoo.
REGISTRY: dict[str, Detector] = {}
DETECTORS: tuple[tuple[str, Callable[..., Finding | None]], ...] = ()
REMEDIES: dict[str, list[str]] = {"healthy": []}
VERDICT_COLORS: dict[str, str] = {}


class _Verdicts(Sequence[str]):
    """``("healthy", *registered detectors in priority order)``, read live."""

    def __getitem__(self, i):  # type: ignore[override]
        return ("healthy", *REGISTRY)[i]

    def __len__(self) -> int:
        return 1 + len(REGISTRY)

    def __repr__(self) -> str:
        return repr(tuple(self))


VERDICTS: Sequence[str] = _Verdicts()


def register_detector(name: str, detect: Callable[..., Finding | None], *,
                      remedies: Sequence[str], colour: str = "#7f7f7f",
                      before: str | None = None) -> Detector:
    """Add the failure mode `name` (at the lowest priority, or just above `before`):
    ``detect(window, baseline, profile, active) -> Finding | None`` is its rule."""
    global DETECTORS
    entry = Detector(name, detect, tuple(remedies), colour)
    items = [(k, v) for k, v in REGISTRY.items() if k != name]
    at = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(at, (name, entry))
    REGISTRY.clear()
    REGISTRY.update(items)
    DETECTORS = tuple((k, v.detect) for k, v in REGISTRY.items())
    REMEDIES[name] = list(entry.remedies)
    VERDICT_COLORS[name] = colour
    return entry


# An optimizer that is unstable in itself (SGD, RMSprop off WGAN, Adam b1 0.9+) is the
# first thing the autopilot changes (remedies.ADAM_RECIPE); the monitor says the same.
RECIPE_ADVICE = ("on SGD, RMSprop or Adam with b1 > 0.5: the DCGAN recipe's Adam "
                 "(optim.*.name=adam, b1=0.5, b2=0.999, lr <= 2e-4; 1e-3 on 2-D toys)")

register_detector(
    "diverged", detect_diverged, colour="#000000",
    remedies=(
        "lower both learning rates (optim.g.lr, optim.d.lr), e.g. by 2-4x",
        RECIPE_ADVICE,
        "clip gradients by global norm (optim.g.grad_clip / optim.d.grad_clip)",
        "regularize D: gradient penalty (R1 or WGAN-GP) or spectral norm (model.spectral_norm)",
        "check the data scaling ([-1, 1] to match a tanh generator) and train.precision=float32",
        "train.on_nan=rollback to resume from the last good checkpoint",
    ))
register_detector(
    "d_overfitting", detect_d_overfitting, colour="#8c564b",  # the cause, before its effect
    remedies=(
        "more training data: ADA's p is at its useful maximum and D still memorizes",
        "a stronger R1 (tricks.r1_gamma, e.g. 10x): the ADA paper's small datasets use more",
        "a narrower D (model.d_width) or a lower D learning rate (optim.d.lr)",
        "instance noise on D's inputs (tricks.instance_noise)",
    ))
register_detector(
    "convergence_failure", detect_convergence_failure, colour="#d62728",
    remedies=(
        "TTUR the other way round: lower D's learning rate (optim.d.lr) or raise G's",
        RECIPE_ADVICE,
        "weaken D: spectral norm (model.spectral_norm=true), a narrower D (model.d_width), "
        "fewer D steps (train.n_critic=1)",
        "one-sided label smoothing (real targets 0.9) or instance noise on D's inputs",
        "a gradient penalty (R1) or DiffAugment so D cannot memorize the real set",
        "a smaller batch (train.batch_size): noisier D gradients slow D down",
    ))
register_detector(
    "vanishing_gradient", detect_vanishing_gradient, colour="#9467bd",
    remedies=(
        "the non-saturating loss (loss.name=non_saturating) instead of minimax",
        "a loss whose gradient does not vanish with a confident D: loss.name=hinge or "
        "wasserstein with a gradient penalty",
        "weaken D: spectral norm (model.spectral_norm=true), lower optim.d.lr (TTUR)",
        "instance noise or one-sided label smoothing to keep D's outputs unsaturated",
    ))
register_detector(
    "mode_collapse", detect_mode_collapse, colour="#ff7f0e",
    remedies=(
        "minibatch standard deviation (or minibatch discrimination) in D",
        "a gradient penalty (R1 / WGAN-GP) or spectral norm (model.spectral_norm=true)",
        "TTUR: a lower G learning rate (optim.g.lr) than D's",
        RECIPE_ADVICE,
        "instance noise or DiffAugment; a class-conditional model (model.num_classes)",
        "a different loss (loss.name=hinge or wasserstein)",
    ))
register_detector(
    "oscillation", detect_oscillation, colour="#1f77b4",
    remedies=(
        "lower both learning rates, and Adam b1=0.0-0.5 (optim.*.b1)",
        RECIPE_ADVICE,
        "TTUR: D's learning rate ~4x G's (optim.d.lr vs optim.g.lr)",
        "a gradient penalty (R1) or spectral norm: they damp the players' rotation",
        "evaluate the EMA generator (train.ema_decay), which averages the cycle out",
    ))
