"""The rule about D memorizing the training set: `d_overfitting`, from ADA's signals.

StyleGAN2-ADA's heuristic (`jaxgan.augment_ada`) raises the augmentation probability p
while r_t = E[sign D(real)] stays above its target (0.6): r_t measures how sure D is of the
real images it trains on, which grows as D memorizes them. While p has room, ADA holds r_t
near the target and the run is healthy, however high p is. The failure is p pinned near
its useful maximum (`ADA_P_PINNED`) with r_t still above the target: D overfits despite
(nearly) full augmentation, and what helps then is more data, a weaker D or a stronger R1.
The rule reads the log records' ``ada_p``, ``ada_rt`` and ``ada_target`` (every run with
``tricks.ada`` logs them; ``ada_target`` 0 keeps p fixed and gives the rule no target);
runs without ADA never fire it. Thresholds: `thresholds.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jaxgan.diagnostics.records import Finding, LossProfile, Record, fmt, sustained, value
from jaxgan.diagnostics.thresholds import ADA_P_PINNED, ADA_RT_MARGIN


def _overfit(r: Record) -> bool | None:
    p, rt, target = value(r, "ada_p"), value(r, "ada_rt"), value(r, "ada_target")
    if p is None or rt is None or not target:
        return None
    return p >= ADA_P_PINNED and rt > target + ADA_RT_MARGIN


def detect_d_overfitting(window: Sequence[Record], baseline: Mapping[str, float],
                         profile: LossProfile, active: bool = False) -> Finding | None:
    """ADA's p at or above ADA_P_PINNED while r_t exceeds its target by ADA_RT_MARGIN,
    sustained (the hold form is the `overfitting` warning)."""
    del baseline, profile  # ADA's signals mean the same under any loss
    ok, where = sustained(window, _overfit, active)
    if not ok:
        return None
    last = window[-1]
    return Finding("d_overfitting", [
        f"ADA's p={fmt(value(last, 'ada_p'))} >= {ADA_P_PINNED:g} while "
        f"r_t={fmt(value(last, 'ada_rt'))} > its target {fmt(value(last, 'ada_target'))} + "
        f"{ADA_RT_MARGIN:g} {where}: D overfits the training set despite "
        "(nearly) full augmentation"])


__all__ = ["detect_d_overfitting"]
