"""The warning level below a verdict: `at_risk`, a run turning before it has failed.

A failure verdict needs its condition in `FIRE_FRAC` (70 %) of the window, the latest record
among them. Once raised, a verdict holds while the condition is in `HOLD_FRAC` (50 %) of the
window: that relaxed form of each rule (`active=True` in `jaxgan.diagnostics.detectors`) is
the warning. A healthy run whose window satisfies a rule's hold form but not its fire form is
`at_risk` of that failure, with the rule's evidence, so a user sees D pulling ahead or the
samples bunching several log records before the verdict, and the warning releases exactly
where a raised verdict would (oscillation keeps its full amplitudes and needs one crossing
fewer: its hold form also shrinks the amplitudes, which healthy runs reach). Like the
detectors, a pure function of the window.

The warning names say what is happening rather than repeating the verdict's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.records import Finding, LossProfile, Record

RISK_NAMES: dict[str, str] = {
    "diverged": "exploding",
    "d_overfitting": "overfitting",
    "convergence_failure": "d_dominating",
    "vanishing_gradient": "g_starving",
    "mode_collapse": "collapsing",
    "oscillation": "oscillating",
}


def assess_risk(window: Sequence[Record], baseline: Mapping[str, float],
                profile: LossProfile) -> Finding | None:
    """The highest-priority failure whose hold form fits the window, renamed as a warning
    (`d_dominating`, `collapsing`, ...), or None. Call it when no verdict fired."""
    if not window:
        return None
    for name, detect in det.DETECTORS:
        if name == "oscillation":  # its hold form also shrinks the amplitudes: too eager
            found = det.detect_oscillation(window, baseline, profile, warn=True)
        else:
            found = detect(window, baseline, profile, True)
        if found is not None:
            return Finding(RISK_NAMES.get(name, name), found.evidence)
    return None
