"""The failure-mode detectors on synthetic log traces: each failure, healthy noise, borderlines.

Traces are lists of metrics.jsonl records, one per log step (every 50 steps). Expected
`since_step`s are derived from the rule constants, so the tests state the rules, not magic
numbers: a sustained failure starting at record k fires at record k + ceil(FIRE_FRAC * W) - 1
once the window is full.
"""

import math

import numpy as np
import pytest

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics import monitor as mon
from jaxgan.diagnostics.monitor import HealthMonitor, Verdict

EVERY = 50
W, WARMUP = 10, 5
ONSET = 20  # failures start at this record: the window is full of healthy records by then
LAG = math.ceil(det.FIRE_FRAC * W) - 1  # records between onset and a sustained verdict

# Healthy levels per loss: (d_loss, g_loss, d_loss_real, d_loss_fake)
LEVELS = {
    "non_saturating": (1.2, 1.5, 0.6, 0.6),
    "minimax": (1.2, -0.6, 0.6, 0.6),
    "hinge": (1.4, 0.6, 0.7, 0.7),
    "least_squares": (0.3, 0.15, 0.15, 0.15),
    "wasserstein": (-2.0, 1.0, -5.0, 3.0),
}


def healthy(n, loss="non_saturating", seed=0):
    """A stable run with realistic per-log-interval noise (means over 50 steps)."""
    rng = np.random.default_rng(seed)
    d, g, dr, df = LEVELS[loss]
    recs = []
    for i in range(n):
        e = lambda s: float(rng.normal(0.0, s))
        recs.append({
            "step": i * EVERY, "loss_name": loss,
            "d_loss": d + e(0.06 * abs(d)), "g_loss": g + e(0.08 * abs(g)),
            "d_loss_real": dr + e(0.03), "d_loss_fake": df + e(0.03),
            "d_real_acc": 0.76 + e(0.025), "d_fake_acc": 0.72 + e(0.025),
            "d_real_prob": 0.6 + e(0.02), "d_fake_prob": 0.4 + e(0.02),
            "g_grad_norm": 1.0 * math.exp(e(0.15)), "d_grad_norm": 2.0 * math.exp(e(0.15)),
            "g_grad_norm/Dense_0": 0.5 * math.exp(e(0.15)),
            "g_grad_norm/Dense_1": 0.8 * math.exp(e(0.15)),
            "g_update_ratio": 1e-3, "d_update_ratio": 1e-3,
            "g_param_norm": 30.0 + 0.01 * i, "d_param_norm": 40.0 + 0.01 * i,
            "real_diversity": 10.0 + e(0.3), "fake_diversity": 8.0 + e(0.4),
            "dup_frac": abs(e(0.01)), "real_dup_frac": 0.0, "nonfinite": 0.0,
            "steps_per_s": 25.0,
        })
        recs[-1]["diversity_ratio"] = recs[-1]["fake_diversity"] / recs[-1]["real_diversity"]
    return recs


def edit(recs, start, stop=None, **values):
    """Set signals from record `start` (to `stop`); callables get (record, index)."""
    for i in range(start, len(recs) if stop is None else stop):
        for k, v in values.items():
            recs[i][k] = v(recs[i], i) if callable(v) else v
    return recs


def replay(recs, window=W, warmup=WARMUP) -> list[Verdict]:
    m = HealthMonitor(window=window, warmup=warmup)
    return [m.update(r) for r in recs]


def first(verdicts, name):
    return next((v for v in verdicts if v.name == name), None)


def names(verdicts):
    return {v.name for v in verdicts}


# --- healthy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", list(LEVELS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_noise_raises_nothing(loss, seed):
    verdicts = replay(healthy(120, loss, seed))
    assert names(verdicts) == {"healthy"}
    assert verdicts[-1].since_step == 0 and verdicts[-1].remedies == []
    assert all(v.warming_up for v in verdicts[:WARMUP])
    assert not any(v.warming_up for v in verdicts[WARMUP:])


def test_startup_transient_during_warmup_is_ignored():
    recs = edit(healthy(40), 0, WARMUP, d_loss=0.05, g_loss=5.0, d_real_acc=1.0,
                d_fake_acc=1.0, d_fake_prob=0.01, diversity_ratio=0.1)
    assert names(replay(recs)) == {"healthy"}


def test_d_ahead_from_the_start_is_named_at_the_first_record_after_the_warmup():
    """The over-time rule reads absolute levels, so the warm-up's records count for it: a D
    ahead from record 0 is named at record WARMUP (the first judged), not MIN_EVIDENCE
    records later; the same records ending one record before that stay healthy."""
    ahead = dict(d_real_acc=0.97, d_fake_acc=0.97, d_fake_prob=0.02, g_loss=4.0)
    verdicts = replay(edit(healthy(40), 0, 40, **ahead))
    first = next(i for i, v in enumerate(verdicts) if v.name != "healthy")
    assert first == WARMUP and verdicts[first].name == "convergence_failure"
    assert names(replay(edit(healthy(40), 0, WARMUP, **ahead))) == {"healthy"}


# --- diverged ---------------------------------------------------------------------------------

def test_nan_is_diverged_on_the_same_record_even_in_warmup():
    recs = edit(healthy(30), 3, g_loss=float("nan"), nonfinite=1.0)
    v = replay(recs)
    assert v[2].name == "healthy" and v[3].name == "diverged"
    assert v[-1].since_step == 3 * EVERY
    assert "g_loss" in v[3].evidence[0] and "nonfinite" in v[3].evidence[0]
    assert any("learning rate" in r for r in v[3].remedies)


def test_nonfinite_flag_alone_is_diverged():
    recs = edit(healthy(30), 25, nonfinite=1.0)
    assert replay(recs)[25].name == "diverged"


def test_inf_in_per_layer_norm_is_diverged_but_inf_throughput_is_not():
    recs = edit(healthy(30), 25, **{"g_grad_norm/Dense_0": float("inf")})
    assert replay(recs)[25].name == "diverged"
    recs = edit(healthy(30), 25, steps_per_s=float("inf"))
    assert names(replay(recs)) == {"healthy"}


@pytest.mark.parametrize("factor,expected", [(1.2, "diverged"), (0.8, "healthy")])
def test_exploding_grad_norm_borderline(factor, expected):
    big = factor * det.EXPLODE_FACTOR * 2.0  # d_grad_norm's early median is ~2
    recs = edit(healthy(40), ONSET, d_grad_norm=big,
                **{"g_grad_norm/Dense_1": 0.8 * 1000.0})
    v = replay(recs)
    assert v[-1].name == expected
    if expected == "diverged":
        assert v[-1].since_step == (ONSET + det.EXPLODE_RECORDS - 1) * EVERY
        assert "d_grad_norm" in v[-1].evidence[0]


def test_slow_grad_norm_drift_is_not_divergence():
    # Up 2x per 10 records, to ~2**7 = 128x the early median: drift, not explosion.
    recs = edit(healthy(90), 20, d_grad_norm=lambda r, i: 2.0 * 2 ** ((i - 20) / 10))
    m = HealthMonitor(window=W, warmup=WARMUP)
    verdicts = [m.update(r) for r in recs]
    assert recs[-2]["d_grad_norm"] > det.EXPLODE_FACTOR * m.baseline["d_grad_norm"]
    assert names(verdicts) == {"healthy"}


def test_single_grad_spike_is_not_divergence():
    recs = edit(healthy(40), ONSET, ONSET + 1, g_grad_norm=1e4)
    assert names(replay(recs)) == {"healthy"}


# --- convergence failure ------------------------------------------------------------------------

def d_wins(recs, start, d_loss=0.03, acc=0.99, g_loss=6.0, stop=None, fake_prob=0.03):
    return edit(recs, start, stop, d_loss=d_loss, g_loss=g_loss, d_real_acc=acc,
                d_fake_acc=acc, d_real_prob=0.98, d_fake_prob=fake_prob,
                d_loss_real=d_loss / 2, d_loss_fake=d_loss / 2)


def d_wins_climbing(recs, start, **kw):
    """D wins outright while G's loss has climbed (2.8 vs 1.5 early) without reaching the
    losing level (3) and D(G(z)) stays at 0.1: only the outright rule can fire."""
    return d_wins(recs, start, g_loss=2.8, fake_prob=0.1, **kw)


def test_convergence_failure_since_step_and_evidence():
    v = replay(d_wins(healthy(50), ONSET))
    assert v[ONSET + LAG - 1].name == "healthy"
    assert v[ONSET + LAG].name == "convergence_failure"
    assert v[-1].name == "convergence_failure"
    assert v[-1].since_step == (ONSET + LAG) * EVERY
    text = " ".join(v[-1].evidence)
    assert "d_loss" in text and "d_fake_acc" in text and "g_loss climbing" in text
    assert any("spectral norm" in r for r in v[-1].remedies)


@pytest.mark.parametrize("scale,expected", [(0.9, "convergence_failure"), (1.1, "healthy")])
def test_convergence_failure_d_loss_floor_borderline(scale, expected):
    # Sigmoid losses: the fake term against the floor (the real side is judged by accuracy).
    floor = det.D_LOSS_FLOOR["non_saturating"]
    recs = edit(d_wins_climbing(healthy(50), ONSET), ONSET, d_loss_fake=scale * floor)
    assert replay(recs)[-1].name == expected


@pytest.mark.parametrize("scale,expected", [(0.9, "convergence_failure"), (1.1, "healthy")])
def test_hinge_d_loss_floor_borderline(scale, expected):
    # Other losses: real + fake terms against the floor.
    floor = det.D_LOSS_FLOOR["hinge"]
    recs = d_wins(healthy(50, "hinge"), ONSET, g_loss=3.0)
    edit(recs, ONSET, d_loss_real=0.5 * scale * floor, d_loss_fake=0.5 * scale * floor)
    assert replay(recs)[-1].name == expected


def test_minimax_with_a_confident_d_is_a_vanishing_gradient():
    # Seen on toy_ring (minimax, D lr 1e-2, n_critic=5): D(G(z)) ~0.045, the minimax G loss
    # only at -0.08 and G's gradient norm still large: G's signal is D(G(z)), ~10x too weak.
    recs = edit(healthy(50, "minimax"), 0, ONSET, g_loss=-0.34)  # the run's early median
    d_wins(recs, ONSET, g_loss=-0.08)
    edit(recs, ONSET, d_loss_fake=0.093, d_fake_prob=0.045, d_fake_acc=0.96, g_grad_norm=5.0)
    v = replay(recs)
    assert v[-1].name == "vanishing_gradient"
    assert v[-1].since_step == (ONSET + LAG) * EVERY
    assert any("scales with D(G(z))" in e for e in v[-1].evidence)
    edit(recs, ONSET, d_fake_prob=det.SATURATED_PROB + 0.02)
    assert replay(recs)[-1].name == "healthy"  # D wins, but G's loss has not climbed


@pytest.mark.parametrize("acc,expected", [(det.D_WIN_ACC + 0.01, "convergence_failure"),
                                          (det.D_WIN_ACC - 0.01, "healthy")])
def test_convergence_failure_accuracy_borderline(acc, expected):
    assert replay(d_wins_climbing(healthy(50), ONSET, acc=acc))[-1].name == expected


def test_convergence_failure_needs_the_g_loss_to_climb():
    recs = edit(d_wins(healthy(50), ONSET, g_loss=1.5), ONSET, d_fake_prob=0.2)
    assert replay(recs)[-1].name == "healthy"


@pytest.mark.parametrize("hits,expected", [(math.ceil(det.FIRE_FRAC * W), "convergence_failure"),
                                           (math.ceil(det.FIRE_FRAC * W) - 1, "healthy")])
def test_sustain_fraction_borderline(hits, expected):
    # The failure holds in `hits` of the last W records, the latest included.
    recs = healthy(40)
    for i in range(40 - hits, 40):
        d_wins(recs, i, stop=i + 1)
    assert replay(recs)[-1].name == expected


def test_hysteresis_keeps_the_verdict_through_a_short_recovery():
    recs = d_wins(healthy(60), ONSET, stop=ONSET + 15)
    edit(recs, ONSET + 12, ONSET + 14, d_loss=1.2, g_loss=1.5, d_real_acc=0.75,
         d_fake_acc=0.72)  # two healthy records inside the failure
    v = replay(recs)
    run = [x.name for x in v[ONSET + LAG:ONSET + 15]]
    assert run == ["convergence_failure"] * len(run)
    assert v[ONSET + 14].since_step == (ONSET + LAG) * EVERY
    assert v[-1].name == "healthy"  # recovers once the failure has left most of the window


def test_convergence_failure_with_one_sided_label_smoothing():
    # Real target 0.9: the real BCE term cannot go below H(0.9) = 0.33, so neither can d_loss.
    recs = d_wins(healthy(50), ONSET)
    edit(recs, ONSET, d_loss_real=0.33, d_loss=lambda r, i: 0.33 + r["d_loss_fake"])
    v = replay(recs)
    assert v[-1].name == "convergence_failure"
    assert v[-1].since_step == (ONSET + LAG) * EVERY


def test_least_squares_convergence_failure_ignores_logit_sign_accuracy():
    recs = edit(healthy(50, "least_squares"), ONSET, d_loss=0.02, g_loss=0.45,
                d_loss_real=0.01, d_loss_fake=0.01,
                d_real_acc=1.0, d_fake_acc=0.5)  # fakes sit at ~0: half have logit < 0
    v = replay(recs)
    assert v[-1].name == "convergence_failure"
    assert v[-1].since_step == (ONSET + LAG) * EVERY


def test_wasserstein_failure_is_the_critic_estimate_exploding_not_accuracy():
    recs = edit(healthy(50, "wasserstein"), ONSET, d_real_acc=1.0, d_fake_acc=1.0)
    assert names(replay(recs)) == {"healthy"}
    recs = edit(healthy(50, "wasserstein"), ONSET,
                d_loss_real=lambda r, i: -2.0 * 1.4 ** (i - ONSET), d_loss_fake=0.0)
    v = replay(recs)
    assert v[-1].name == "convergence_failure" and "Wasserstein" in v[-1].evidence[0]


# --- vanishing gradient -----------------------------------------------------------------------

def g_starves(recs, start, ratio=0.02, fake_prob=0.02):
    return edit(recs, start, g_grad_norm=ratio * 1.0, d_fake_prob=fake_prob, d_fake_acc=0.99,
                **{"g_grad_norm/Dense_0": ratio * 0.05})


def test_vanishing_gradient_since_step_and_layer():
    v = replay(g_starves(healthy(50), ONSET))
    assert v[ONSET + LAG - 1].name == "healthy"
    assert v[-1].name == "vanishing_gradient"
    assert v[-1].since_step == (ONSET + LAG) * EVERY
    assert "g_grad_norm" in v[-1].evidence[0] and "Dense_0" in v[-1].evidence[-1]


@pytest.mark.parametrize("ratio,expected", [(0.9 * det.VANISH_FRAC, "vanishing_gradient"),
                                            (1.1 * det.VANISH_FRAC, "healthy")])
def test_vanishing_gradient_ratio_borderline(ratio, expected):
    assert replay(g_starves(healthy(50), ONSET, ratio=ratio))[-1].name == expected


@pytest.mark.parametrize("prob,expected", [(det.D_CONFIDENT_PROB - 0.01, "vanishing_gradient"),
                                           (det.D_CONFIDENT_PROB + 0.01, "healthy")])
def test_vanishing_gradient_needs_a_confident_d(prob, expected):
    assert replay(g_starves(healthy(50), ONSET, fake_prob=prob))[-1].name == expected


def test_minimax_saturation_is_vanishing_gradient_not_convergence_failure():
    # D wins and the minimax G loss climbs to ~0, but G gets (almost) no gradient:
    # the diagnosis that leads to the right remedy is the vanishing gradient.
    recs = d_wins(healthy(50, "minimax"), ONSET, g_loss=-0.005)
    edit(recs, ONSET, d_fake_prob=0.005, g_grad_norm=0.4)
    v = replay(recs)
    assert v[-1].name == "vanishing_gradient"
    assert v[-1].remedies[0].startswith("the non-saturating loss")
    # D winning while D(G(z)) stays above saturation, G's loss climbing: convergence failure.
    recs = d_wins(healthy(50, "minimax"), ONSET, g_loss=-0.05)
    edit(recs, ONSET, d_fake_prob=0.09, d_loss_fake=0.12)
    assert replay(recs)[-1].name == "convergence_failure"


def test_dead_generator_is_vanishing_gradient_whatever_d_says():
    # Seen on toy_ring after Adam at lr 1: losses ~1e5 for a log interval, then G's gradient
    # exactly 0 with D(G(z)) ~0.33 and the generated batch a single point.
    recs = edit(healthy(40), 0, 1, d_loss=2.8e5, g_loss=6.3e5, g_grad_norm=1.4e5)
    edit(recs, 1, g_grad_norm=0.0, d_fake_prob=0.33, d_fake_acc=1.0, diversity_ratio=0.0)
    v = replay(recs)
    assert v[-1].name == "vanishing_gradient" and "no gradient at all" in v[-1].evidence[0]
    first_judged = WARMUP + det.MIN_EVIDENCE_RECORDS - 1  # a trend needs 3 judged records
    assert v[first_judged - 1].name == "healthy"
    assert v[first_judged].name == "vanishing_gradient"
    assert v[-1].since_step == first_judged * EVERY


def test_vanishing_gradient_without_confidence_signal_needs_deep_collapse():
    recs = edit(healthy(50, "wasserstein"), ONSET, g_grad_norm=0.05)
    assert names(replay(recs)) == {"healthy"}
    recs = edit(healthy(50, "wasserstein"), ONSET, g_grad_norm=0.005)
    assert replay(recs)[-1].name == "vanishing_gradient"


# --- mode collapse ------------------------------------------------------------------------------

@pytest.mark.parametrize("ratio,expected", [(0.9 * det.DIVERSITY_RATIO_MIN, "mode_collapse"),
                                            (1.1 * det.DIVERSITY_RATIO_MIN, "healthy")])
def test_mode_collapse_diversity_borderline(ratio, expected):
    v = replay(edit(healthy(50), ONSET, diversity_ratio=ratio))
    assert v[-1].name == expected
    if expected == "mode_collapse":
        assert v[-1].since_step == (ONSET + LAG) * EVERY
        assert "diversity_ratio" in v[-1].evidence[0]


@pytest.mark.parametrize("dup,real_dup,expected", [
    (det.DUP_FRAC_MAX + 0.05, 0.0, "mode_collapse"),
    (det.DUP_FRAC_MAX - 0.05, 0.0, "healthy"),
    (0.9, 0.8, "healthy"),  # tight real clusters (the toys): not collapse
])
def test_mode_collapse_duplicates_borderline(dup, real_dup, expected):
    v = replay(edit(healthy(50), ONSET, dup_frac=dup, real_dup_frac=real_dup))
    assert v[-1].name == expected


@pytest.mark.parametrize("captured,expected", [(3, "mode_collapse"), (4, "healthy")])
def test_toy_modes_captured_borderline(captured, expected):
    recs = edit(healthy(50), 0, num_modes=8, modes_captured=8)
    edit(recs, ONSET, modes_captured=captured)
    assert replay(recs)[-1].name == expected


def test_sparse_mode_counts_are_carried_between_evaluations():
    recs = healthy(50)
    for i in range(0, 50, 5):  # an evaluation every 5th log step
        recs[i].update(num_modes=8, modes_captured=8 if i < ONSET else 2)
    v = replay(recs)
    assert v[-1].name == "mode_collapse" and "modes_captured=2/8" in v[-1].evidence[0]
    assert v[-1].since_step == (ONSET + LAG) * EVERY


def test_mode_collapse_notes_oscillating_losses():
    recs = edit(healthy(50), ONSET, diversity_ratio=0.1,
                d_fake_acc=lambda r, i: 0.9 if i % 2 else 0.4,
                g_loss=lambda r, i: 4.0 if i % 2 else 0.8,
                d_loss=lambda r, i: 0.4 if i % 2 else 1.4)
    v = replay(recs)
    assert v[-1].name == "mode_collapse"
    assert any(e.startswith("supporting:") and "swings" in e for e in v[-1].evidence)


# --- oscillation --------------------------------------------------------------------------------

def swing(recs, start, amp, period=4, key="d_fake_acc"):
    return edit(recs, start, **{key: lambda r, i: 0.65 + amp / 2 * math.sin(
        2 * math.pi * (i - start) / period + 0.5)})


@pytest.mark.parametrize("amp,expected", [(1.15 * det.OSC_ACC_AMPLITUDE, "oscillation"),
                                          (0.85 * det.OSC_ACC_AMPLITUDE, "healthy")])
def test_oscillation_amplitude_borderline(amp, expected):
    v = replay(swing(healthy(50), ONSET, amp))
    assert v[-1].name == expected


def test_oscillation_since_step():
    v = replay(swing(healthy(50), ONSET, 0.6))
    assert v[-1].name == "oscillation" and "d_fake_acc" in v[-1].evidence[0]
    since = v[-1].since_step // EVERY
    assert ONSET + det.OSC_MIN_CROSSINGS - 1 <= since <= ONSET + W - 1
    assert all(x.name == "oscillation" for x in v[since:])


def test_damped_swings_settle_and_are_not_oscillation():
    recs = edit(healthy(50), ONSET, d_fake_acc=lambda r, i: 0.72 + 0.4 * 0.6 ** (i - ONSET)
                * (1 if i % 2 else -1))
    assert "oscillation" not in names(replay(recs)[ONSET + W:])


def test_single_excursion_is_not_oscillation():
    recs = edit(healthy(50), ONSET, ONSET + 2, d_fake_acc=0.2)
    assert names(replay(recs)) == {"healthy"}


def test_slow_trend_is_not_oscillation():
    recs = edit(healthy(50), ONSET, d_fake_acc=lambda r, i: 0.5 + 0.02 * (i - ONSET))
    assert "oscillation" not in names(replay(recs))


def test_oscillating_loss_gap_for_hinge():
    recs = edit(healthy(50, "hinge"), ONSET, g_loss=lambda r, i: 2.0 if i % 3 == 0 else 0.2)
    assert replay(recs)[-1].name == "oscillation"


# --- priority and the monitor ---------------------------------------------------------------------

def test_priority_when_several_fire():
    recs = d_wins(healthy(50), ONSET)
    edit(recs, ONSET, diversity_ratio=0.05)
    assert replay(recs)[-1].name == "convergence_failure"
    edit(recs, 45, g_loss=float("nan"))
    assert replay(recs)[45].name == "diverged"
    assert [n for n, _ in det.DETECTORS] == ["diverged", "d_overfitting",
                                             "convergence_failure", "vanishing_gradient",
                                             "mode_collapse", "oscillation"]


def test_verdict_to_dict_and_str():
    v = replay(d_wins(healthy(50), ONSET))[-1]
    d = v.to_dict()
    assert d["name"] == "convergence_failure" and d["step"] == 49 * EVERY
    assert set(d) == {"name", "since_step", "evidence", "remedies", "step", "warming_up",
                      "at_risk", "at_risk_evidence", "evidence_from"}
    assert d["at_risk"] == "" and d["at_risk_evidence"] == []
    assert str(v) == f"convergence_failure since step {(ONSET + LAG) * EVERY}"
    assert set(mon.REMEDIES) == set(mon.VERDICTS)


def test_monitor_validates_arguments_and_unknown_loss_uses_accuracy():
    with pytest.raises(ValueError, match="window"):
        HealthMonitor(window=1)
    recs = d_wins(healthy(50), ONSET)
    for r in recs:
        r["loss_name"] = "my_research_loss"
    assert replay(recs)[-1].name == "convergence_failure"


def test_rollback_rewinds_the_window_like_the_doctor():
    recs = d_wins(healthy(40), ONSET)
    m = HealthMonitor(window=W, warmup=WARMUP)
    assert [m.update(r) for r in recs][-1].name == "convergence_failure"
    # The run goes back to before the failure and continues healthy: the monitor ends in
    # the state of a fresh one fed the kept records and the new ones (what the doctor does).
    new = healthy(60, seed=5)[ONSET - 2:]
    again = [m.update(r) for r in new]
    assert names(again) == {"healthy"}
    fresh = replay(recs[:ONSET - 2] + new)
    assert [v.to_dict() for v in fresh[ONSET - 2:]] == [v.to_dict() for v in again]
    assert again[-1].since_step == 0


def test_missing_signals_do_not_crash_or_fire():
    recs = [{"step": i * EVERY, "d_loss": 1.2, "g_loss": 1.5} for i in range(30)]
    assert names(replay(recs)) == {"healthy"}


def test_detectors_importable_from_detectors_module():
    assert det.HealthMonitor is HealthMonitor


@pytest.mark.parametrize("loss,expected", [("minimax", "vanishing_gradient"),
                                           ("non_saturating", "healthy")])
def test_a_minimax_g_saturated_from_the_start_is_named_during_the_warm_up(loss, expected):
    """D(G(z)) <= 0.05 from record 1 (the failure benchmark's toy_ring minimax runs, D lr
    20x G: 0.001-0.004 at steps 200-400) is the minimax vanishing gradient by its level
    alone, named at the third record although the warm-up has not ended; the same levels
    under the non-saturating loss (whose G gradient does not scale with D(G(z))) are not.
    Once G recovers, the verdict is healthy again."""
    recs = edit(healthy(30, loss), 1, 8, d_fake_prob=0.003, d_fake_acc=1.0, d_real_acc=1.0)
    v = replay(recs)
    assert WARMUP >= 4 and [x.name for x in v[:3]] == ["healthy"] * 3
    assert v[3].name == expected and v[3].warming_up
    if expected == "vanishing_gradient":
        assert "from the first records" in v[3].evidence[0]
    assert v[-1].name == "healthy"


@pytest.mark.parametrize("later,expected", [(1.0, "healthy"), (1000.0, "diverged")])
def test_a_saturated_warm_up_is_no_reference_for_explosions(later, expected):
    """D certain of real and fake in most warm-up records starves both gradients (the
    benchmark's minimax toy_ring run with D 20x faster: G's norm 0.003-0.04 against 1.8 at
    the first record); G's recovery to its first level is not a 100x explosion, a jump of
    1000x that level still is."""
    recs = edit(healthy(40, "minimax"), 1, WARMUP + 1, d_fake_prob=0.003, d_real_prob=0.998,
                d_fake_acc=1.0, d_real_acc=1.0, g_grad_norm=0.003, d_grad_norm=0.005)
    edit(recs, ONSET, g_grad_norm=lambda r, i: later * r["g_grad_norm"])
    m = HealthMonitor(window=W, warmup=WARMUP)
    v = [m.update(r) for r in recs]
    assert m.baseline["g_grad_norm"] <= 0.01  # the plain median: saturated records
    assert "diverged" not in {x.name for x in v[:ONSET]}
    assert v[-1].name == expected and (expected == "diverged") == ("diverged" in names(v))
