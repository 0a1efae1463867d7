"""`d_overfitting` on scripted ADA traces: ADA's p pinned near its useful maximum while
r_t stays above its target is D memorizing the data; p high while ADA still holds r_t at
the target, r_t high while p still has room, a fixed p (target 0) and runs without ADA
are not. The warning (`overfitting`) comes before the verdict, at the rule's hold form."""

import math

import numpy as np
import pytest
from test_diagnostics_detectors import EVERY, LAG, ONSET, W, edit, healthy, names, replay

from jaxgan import remedies
from jaxgan.config import resolve
from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.risks import RISK_NAMES


def ada_trace(n=40, p_end=0.7, rt=0.6, target=0.6, seed=1):
    """A healthy run whose ADA raises p linearly to `p_end` over the first 15 records and
    keeps r_t within +-0.03 of `rt` (the heuristic at work)."""
    rng = np.random.default_rng(seed)
    recs = healthy(n, seed=seed)
    for i, r in enumerate(recs):
        r["ada_p"] = p_end * min(i / 15, 1.0)
        r["ada_rt"] = rt + float(rng.uniform(-0.03, 0.03))
        r["ada_target"] = target
    return recs


def test_ada_holding_r_t_at_its_target_is_healthy_at_any_p():
    for p_end in (0.3, 0.95, 1.0):  # p pinned at 1 while r_t is at the target: ADA suffices
        v = replay(ada_trace(p_end=p_end))
        assert names(v) == {"healthy"} and not any(x.at_risk for x in v)


def test_p_pinned_with_r_t_above_target_is_d_overfitting_with_a_warning_first():
    recs = edit(ada_trace(), ONSET, ada_p=1.0, ada_rt=lambda r, i: 0.75 + 0.01 * (i % 3))
    v = replay(recs)
    onset = ONSET + LAG
    assert [x.name for x in v[:onset]] == ["healthy"] * onset
    assert v[onset].name == "d_overfitting" and v[onset].since_step == onset * EVERY
    assert v[-1].name == "d_overfitting"
    assert "ADA's p=1 >= 0.8" in v[onset].evidence[0] and "target 0.6" in v[onset].evidence[0]
    warn = math.ceil(det.HOLD_FRAC * W) - 1  # records after onset the hold form needs
    assert v[ONSET + warn].at_risk == "overfitting" and v[ONSET + warn - 1].at_risk == ""
    assert v[onset].remedies[0].startswith("more training data")


@pytest.mark.parametrize("p, rt, target, expected", [
    (det.ADA_P_PINNED + 0.01, 0.6 + det.ADA_RT_MARGIN + 0.02, 0.6, "d_overfitting"),
    (det.ADA_P_PINNED - 0.01, 0.9, 0.6, "healthy"),  # p still has room: ADA will act
    (1.0, 0.6 + det.ADA_RT_MARGIN - 0.02, 0.6, "healthy"),  # within the margin
    (1.0, 0.95, 0.0, "healthy"),  # target 0: p fixed by the user, no target to miss
    (1.0, 0.55, 0.4, "d_overfitting"),  # the record's own target, not the paper's 0.6
])
def test_d_overfitting_borderlines(p, rt, target, expected):
    recs = edit(ada_trace(target=target, rt=min(target, 0.6)), ONSET, ada_p=p, ada_rt=rt)
    assert replay(recs)[-1].name == expected


def test_runs_without_ada_never_see_it():
    assert "d_overfitting" not in names(replay(healthy(40)))
    recs = healthy(40)
    assert det.detect_d_overfitting(recs[-W:], {}, det.profile_for("non_saturating")) is None


def test_registered_as_the_cause_above_convergence_failure_with_remedies():
    order = list(det.REGISTRY)
    assert order.index("d_overfitting") == order.index("convergence_failure") - 1
    assert RISK_NAMES["d_overfitting"] == "overfitting"
    cfg = resolve("stylegan2_digits", [])
    remedy, overrides = remedies.next_remedy("d_overfitting", cfg, 100)
    assert remedy.name == "stronger_r1"
    assert overrides == [f"tricks.r1_gamma={cfg.tricks.r1_gamma * 10:.6g}"]
    fixed = remedies.apply_remedy(cfg, overrides)
    assert fixed.tricks.r1_gamma == pytest.approx(10 * cfg.tricks.r1_gamma)
