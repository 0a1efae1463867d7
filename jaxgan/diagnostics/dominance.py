"""The rules about who is winning the game: D beating G outright or over time
(`convergence_failure`) and G starved of gradient by a confident D (`vanishing_gradient`).

Split from `jaxgan.diagnostics.detectors` (which lists every rule in `DETECTORS` and
re-exports these) because the two failures share their signals and must tell each other
apart: when D wins and G's gradient has collapsed too, it is a vanishing gradient (fix the
loss), otherwise a convergence failure (weaken D). Thresholds: `thresholds.py`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from jaxgan.diagnostics.records import (
    Finding,
    LossProfile,
    Record,
    count,
    excess_dup,
    fmt,
    layer_extreme,
    sustained,
    value,
)
from jaxgan.diagnostics.thresholds import (
    D_AHEAD_ACC,
    D_CONFIDENT_PROB,
    D_WIN_ACC,
    DUP_FRAC_MAX,
    FIRE_FRAC,
    G_CLIMB_MARGIN,
    G_DEAD_NORM,
    HOLD_FRAC,
    LOOKS_REAL_CONFIDENT,
    LOOKS_REAL_SPREAD,
    NOTHING_CONFIDENT,
    NOTHING_MIN_RECORDS,
    OSC_MIN_RECORDS,
    PIXEL_SPREAD_MIN,
    SATURATED_PROB,
    VANISH_FRAC,
    VANISH_FRAC_UNCONFIRMED,
    WGAN_W_GROWTH,
)


def g_grad_vanished(record: Record, baseline: Mapping[str, float],
                    profile: LossProfile) -> bool | None:
    """G's gradient has collapsed (or, for minimax, is saturated by D(G(z)) ~ 0)."""
    if profile.saturating and _saturated(record):
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


def _median(window: Sequence[Record], key: str) -> float | None:
    xs = [v for r in window if (v := value(r, key)) is not None and math.isfinite(v)]
    return statistics.median(xs) if xs else None


def _d_ahead(record: Record) -> bool | None:
    ra, fa = value(record, "d_real_acc"), value(record, "d_fake_acc")
    return None if ra is None or fa is None else ra >= D_AHEAD_ACC and fa >= D_AHEAD_ACC


def _g_losing(window: Sequence[Record], profile: LossProfile, active: bool) -> list[str]:
    """Evidence that G is losing over the window (and, unless held, still in its latest
    half): the median G loss above the losing level, the median D(G(z)) at ~0, or G's
    samples nearly one image (pixel spread below PIXEL_SPREAD_MIN, or most of its batch
    near-duplicates in D's features, sustained). The last two are what D dominance looks
    like before G's loss climbs: on the failure benchmark's
    D-dominated image runs G's loss and D(G(z)) sat at healthy levels for 300-600 steps
    while G drew one image, and the run was first named a collapse, the consequence,
    with the remedies for it (benchmarks/RESULTS.md, session 13)."""
    parts = [window] if active else [window, window[len(window) // 2:]]
    ev = []
    if profile.g_loss_high is not None:
        meds = [_median(w, "g_loss") for w in parts]
        if all(m is not None and m > profile.g_loss_high for m in meds):
            ev.append(f"median g_loss {fmt(meds[0])} over the window"
                      + (f", {fmt(meds[1])} over its latest half" if len(meds) > 1 else "")
                      + f" > {profile.g_loss_high:g}")
    if profile.probabilistic:
        meds = [_median(w, "d_fake_prob") for w in parts]
        if all(m is not None and m <= D_CONFIDENT_PROB for m in meds):
            ev.append(f"median D(G(z)) {fmt(meds[0])} over the window"
                      + (f", {fmt(meds[1])} over its latest half" if len(meds) > 1 else "")
                      + f" <= {D_CONFIDENT_PROB:g}: D rejects almost every fake")
    ok, where = sustained(window, _spread_collapsed, active)
    if ok:
        ev.append(f"pixel_spread={fmt(value(window[-1], 'pixel_spread'))} < "
                  f"{PIXEL_SPREAD_MIN:g} {where}: G offers D nearly one image")
    ok, where = sustained(window, _duplicates, active)
    if ok:
        ev.append(f"dup_frac={fmt(value(window[-1], 'dup_frac'))} ({fmt(excess_dup(window[-1]))}"
                  f" above the real batch's) > {DUP_FRAC_MAX:g} {where}: G offers D "
                  "near-duplicates in D's own features")
    return ev


def _duplicates(r: Record) -> bool | None:
    """G's batch mostly near-duplicates in D's features, beyond the real batch's share."""
    x = excess_dup(r)
    return None if x is None else x > DUP_FRAC_MAX


def _spread_collapsed(r: Record) -> bool | None:
    """The training generator's samples nearly alike in pixel space (images only)."""
    spread = value(r, "pixel_spread")
    return None if spread is None else spread < PIXEL_SPREAD_MIN


def _nothing_recognized(window: Sequence[Record], active: bool) -> list[str]:
    """Evidence that G has learned nothing the live classifier recognizes: sure of at most
    NOTHING_CONFIDENT of its samples in NOTHING_MIN_RECORDS records (half that to hold a
    verdict), the latest among them. Absent without the class signal."""
    conf = [v for r in window if (v := value(r, "class_confident")) is not None]
    hits = sum(v <= NOTHING_CONFIDENT for v in conf)
    need = NOTHING_MIN_RECORDS // 2 if active else NOTHING_MIN_RECORDS
    if not conf or hits < need or conf[-1] > NOTHING_CONFIDENT:
        return []
    return [f"class_confident <= {NOTHING_CONFIDENT:g} in {hits}/{len(conf)} records: "
            "jaxgan's classifier recognizes almost none of G's samples (G has learned "
            "nothing it can name while D is ahead)"]


def samples_look_real(window: Sequence[Record]) -> bool:
    """Whether G's samples look like the data over the window, which contradicts "G is
    losing" read off its loss: the raw G's pixel spread (window median) near the real
    images', where the live classifier runs some of them recognized, and the batch not
    mostly near-duplicates in D's features (beyond the real batch's share). D ahead with G's
    loss high is then a strong D, not a stalled G (the shipped dcgan_mnist's whole second
    half: D 0.89-1.0 accurate, G loss 3-5, samples at real-data FD). False without the
    pixel-spread signal (toys, streamed data): there the loss levels decide alone."""
    spread = _median(window, "pixel_spread")
    lo, hi = LOOKS_REAL_SPREAD
    if spread is None or not lo <= spread <= hi:
        return False
    confident = _median(window, "class_confident")
    if confident is not None and confident < LOOKS_REAL_CONFIDENT:
        return False
    dups = [x for r in window if (x := excess_dup(r)) is not None]
    return not (dups and statistics.median(dups) > DUP_FRAC_MAX)  # alike in D's features


def _g_starved(window: Sequence[Record], baseline: Mapping[str, float],
               profile: LossProfile) -> bool:
    """G's gradient has collapsed in much of the window: a vanishing gradient instead."""
    vanished, n = count(window, lambda r: g_grad_vanished(r, baseline, profile))
    return bool(n) and vanished >= HOLD_FRAC * n


def _losing_over_time(window: Sequence[Record], baseline: Mapping[str, float],
                      profile: LossProfile, active: bool) -> Finding | None:
    """D ahead (both accuracies >= D_AHEAD_ACC, sustained) while G loses over the window."""
    if not (profile.accuracy_meaningful and (profile.g_loss_high is not None
                                             or profile.probabilistic)):
        return None
    ok, where = sustained(window, _d_ahead, active)
    if not ok or not (losing := _g_losing(window, profile, active)
                      or _nothing_recognized(window, active)):
        return None
    if _g_starved(window, baseline, profile) or samples_look_real(window):
        return None
    last = next(r for r in reversed(window) if _d_ahead(r))  # the evidence: D ahead there
    return Finding("convergence_failure", [
        f"D ahead: d_real_acc={fmt(value(last, 'd_real_acc'))}, d_fake_acc="
        f"{fmt(value(last, 'd_fake_acc'))} >= {D_AHEAD_ACC:g} {where}", *losing,
        f"g_loss {fmt(_median(window, 'g_loss'))} (window median) vs early median "
        f"{fmt(baseline.get('g_loss'))}"])


def detect_convergence_failure(window: Sequence[Record], baseline: Mapping[str, float],
                               profile: LossProfile, active: bool = False) -> Finding | None:
    """D wins and G is losing, sustained: either D wins outright (loss ~0, ~100 % accuracy
    on both) while G's loss climbs, or D is ahead while G's loss stays at a losing level /
    D(G(z)) stays at ~0 over the window (medians: what separates a failing run from a
    healthy one whose D is also ~95 % accurate).

    If G's gradient has also collapsed the run is reported as `vanishing_gradient` instead:
    the difference between the two is whether G still gets a signal to learn from, and the
    remedies differ (fix the loss vs. weaken D).
    """
    if profile.name == "wasserstein":
        return _wgan_convergence_failure(window, active)
    found = [f for f in (_d_wins_outright(window, baseline, profile, active),
                         _losing_over_time(window, baseline, profile, active)) if f]
    if not found:
        return None
    return Finding("convergence_failure", [e for f in found for e in f.evidence])


def _d_wins_outright(window: Sequence[Record], baseline: Mapping[str, float],
                     profile: LossProfile, active: bool) -> Finding | None:
    ok, where = sustained(window, lambda r: _d_dominates(r, profile), active)
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
    if not (climbed or high or losing) or _g_starved(window, baseline, profile) or \
            samples_look_real(window):
        return None
    last = won[-1]  # the latest record that shows it (a held verdict's latest may not)
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

    ok, where = sustained(window, cond, active)
    if not ok:
        return None
    last = window[-1]
    g = value(last, "g_grad_norm")
    ratio = f" ({fmt(100 * g / base)}% of early median {fmt(base)})" if g and base else ""
    if g is not None and g <= G_DEAD_NORM:
        ratio = " (G receives no gradient at all: dead units or a saturated output)"
    if profile.saturating and _saturated(last):
        ev = [_saturation_evidence(last, where), f"g_grad_norm={fmt(g)}{ratio}"]
    else:
        ev = [f"g_grad_norm={fmt(g)}{ratio} {where}"]
        if d_confident(last, profile):
            key = "d_fake_prob" if profile.probabilistic else "d_fake_acc"
            ev.append(f"{key}={fmt(value(last, key))} (D confident)")
    if (layer := layer_extreme(last, baseline, "g_grad_norm", largest=False)) is not None:
        ev.append(f"smallest: {layer}")
    return Finding("vanishing_gradient", ev)


def early_dominance(records: Sequence[Record], baseline: Mapping[str, float],
                    profile: LossProfile) -> Finding | None:
    """The over-time rule (D ahead while G loses) on records that include the warm-up's: it
    reads absolute levels (D's accuracies, G's loss or D(G(z)) medians), not the baseline,
    so a D ahead from the first records need not wait for a post-warm-up window to fill."""
    from jaxgan.diagnostics.thresholds import MIN_EVIDENCE_RECORDS

    if len(records) < MIN_EVIDENCE_RECORDS:
        return None
    return _losing_over_time(records, baseline, profile, False)


def early_saturation(records: Sequence[Record], profile: LossProfile,
                     active: bool = False) -> Finding | None:
    """The minimax G saturated (mean D(G(z)) <= SATURATED_PROB, sustained) on records that
    include the warm-up's: an absolute level, so it is judged from the third record on, the
    warm-up included. A D that saturates G from the start is the vanishing gradient itself
    (Goodfellow et al. 2014), and waiting for a post-warm-up window misses it when G
    recovers for a while: the failure benchmark's toy_ring minimax runs (half A) sat at
    D(G(z)) 0.001-0.004 at steps 200-400, recovered to 0.1-0.4 at 500-900, and saturated
    again, named only at 1,700-1,800, after 7 of 10 post-warm-up records."""
    from jaxgan.diagnostics.thresholds import MIN_EVIDENCE_RECORDS

    if not profile.saturating or len(records) < MIN_EVIDENCE_RECORDS:
        return None
    ok, where = sustained(records, _saturated, active)
    if not ok:
        return None
    return Finding("vanishing_gradient",
                   [_saturation_evidence(records[-1], f"{where}, from the first records")])


def _saturated(r: Record) -> bool | None:
    """Mean D(G(z)) at or below SATURATED_PROB: the minimax G's gradient is starved."""
    p = value(r, "d_fake_prob")
    return None if p is None else p <= SATURATED_PROB


def _saturation_evidence(r: Record, where: str) -> str:
    """The one wording of a saturated minimax G, for the post- and the in-warm-up rule."""
    p = value(r, "d_fake_prob") or 0.0
    return (f"d_fake_prob={fmt(p)} <= {SATURATED_PROB:g} {where}: the minimax G gradient "
            f"scales with D(G(z)), {fmt(0.5 / max(p, 1e-12))}x weaker than in a balanced game")
