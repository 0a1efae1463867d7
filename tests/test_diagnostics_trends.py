"""Issue 12's detector rules on synthetic and measured log traces: D ahead while G loses over
the window (not single-record cut-offs), the absolute sanity bounds, the live toy mode count
and the `at_risk` warning below a verdict.

The measured trace is a real run: `jaxgan train --config dcgan_digits` (seed 0, 2,000 steps,
log every 50; 2026-12-01), whose samples are recognizable digits of every class: healthy,
with D 0.8-1.0 accurate, the very range a failing digits run sits in too.
"""

import math

import numpy as np
import pytest
from test_diagnostics_detectors import EVERY, ONSET, WARMUP, W, edit, healthy, names, replay

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics import dominance
from jaxgan.diagnostics.monitor import HealthMonitor
from jaxgan.diagnostics.risks import RISK_NAMES
from jaxgan.diagnostics.toy_modes import mode_count

# d_real_acc, d_fake_acc, d_loss_real, d_loss_fake, g_loss, d_fake_prob, g_grad_norm,
# d_grad_norm, diversity_ratio: dcgan_digits seed 0, steps 50, 100, ..., 2000
DCGAN_DIGITS = [
    (0.982, 0.891, 0.141, 0.357, 1.84, 0.281, 16.3, 6.74, 0.993),
    (0.983, 0.994, 0.168, 0.206, 2.08, 0.181, 14.5, 7.32, 0.883),
    (0.983, 0.973, 0.227, 0.264, 1.76, 0.222, 10.4, 15.9, 0.936),
    (0.97, 0.976, 0.272, 0.293, 1.6, 0.245, 8.86, 20.1, 0.99),
    (0.953, 0.954, 0.293, 0.305, 1.57, 0.251, 11.7, 20.5, 1.01),
    (0.919, 0.916, 0.374, 0.368, 1.54, 0.282, 13.8, 26.5, 1.01),
    (0.998, 0.999, 0.23, 0.239, 1.72, 0.208, 19.8, 14.9, 1.03),
    (0.933, 0.936, 0.306, 0.308, 1.77, 0.238, 23.1, 32.3, 1.02),
    (1, 1, 0.187, 0.192, 1.94, 0.171, 29.3, 13.8, 1.03),
    (0.943, 0.944, 0.268, 0.275, 1.91, 0.215, 29, 31.2, 1.03),
    (0.999, 1, 0.163, 0.168, 2.08, 0.152, 49.6, 15.9, 1.03),
    (0.942, 0.943, 0.313, 0.29, 1.89, 0.221, 33.6, 34, 1.02),
    (0.999, 1, 0.166, 0.171, 2.06, 0.154, 56.7, 14.8, 1.02),
    (0.956, 0.977, 0.322, 0.19, 2.3, 0.157, 81, 38.4, 1.01),
    (0.896, 0.889, 0.401, 0.447, 1.34, 0.322, 15.1, 21.9, 1.01),
    (0.999, 0.998, 0.184, 0.194, 1.98, 0.172, 56.2, 19, 1.01),
    (0.874, 0.876, 0.517, 0.434, 1.64, 0.309, 29.2, 44.2, 1.01),
    (0.999, 0.998, 0.198, 0.207, 1.89, 0.183, 37, 16.6, 1.01),
    (0.999, 1, 0.156, 0.159, 2.16, 0.143, 96.7, 21.6, 1.01),
    (0.884, 0.884, 0.497, 0.402, 1.64, 0.297, 23.9, 45.8, 1.01),
    (0.998, 0.998, 0.165, 0.172, 2.11, 0.154, 115, 19.5, 1),
    (0.89, 0.911, 0.357, 0.284, 2.16, 0.208, 127, 50.2, 0.999),
    (0.969, 0.966, 0.294, 0.311, 1.6, 0.256, 17.8, 26.3, 1),
    (0.998, 0.998, 0.144, 0.152, 2.27, 0.137, 111, 22.3, 1),
    (0.999, 1, 0.117, 0.124, 2.49, 0.113, 180, 23.1, 1),
    (0.999, 1, 0.11, 0.114, 2.56, 0.105, 208, 23.1, 1.01),
    (0.904, 0.909, 0.358, 0.408, 2, 0.248, 87.6, 52, 0.998),
    (0.998, 0.999, 0.166, 0.175, 2.11, 0.156, 71.7, 19.9, 1),
    (1, 1, 0.11, 0.112, 2.56, 0.103, 231, 18.9, 1),
    (0.899, 0.909, 0.248, 0.281, 2.42, 0.173, 214, 46.2, 0.997),
    (0.941, 0.937, 0.325, 0.336, 1.56, 0.271, 20.9, 31.3, 0.993),
    (0.975, 0.975, 0.198, 0.208, 2.09, 0.177, 46.4, 40.6, 0.998),
    (0.997, 0.995, 0.132, 0.139, 2.41, 0.125, 149, 26.8, 0.996),
    (1, 1, 0.0889, 0.0926, 2.81, 0.0864, 303, 21.1, 1),
    (1, 1, 0.0843, 0.0875, 2.89, 0.0816, 303, 21.6, 1.01),
    (1, 1, 0.0673, 0.0696, 3.08, 0.0661, 409, 15.5, 1),
    (0.899, 0.897, 0.331, 0.401, 1.86, 0.25, 50, 58.3, 0.988),
    (0.799, 0.808, 0.682, 0.547, 1.83, 0.314, 36.1, 64.7, 0.989),
    (0.98, 0.975, 0.239, 0.255, 1.81, 0.215, 32.8, 26.4, 1),
    (0.999, 0.995, 0.14, 0.145, 2.34, 0.13, 78.8, 28.8, 0.998),
]
KEYS = ("d_real_acc", "d_fake_acc", "d_loss_real", "d_loss_fake", "g_loss", "d_fake_prob",
        "g_grad_norm", "d_grad_norm", "diversity_ratio")


def digits_run(rows=DCGAN_DIGITS):
    recs = []
    for i, row in enumerate(rows):
        r = {"step": (i + 1) * EVERY, "loss_name": "non_saturating", "nonfinite": 0.0,
             "dup_frac": 0.0, "real_dup_frac": 0.0, **dict(zip(KEYS, row, strict=True))}
        r["d_loss"] = r["d_loss_real"] + r["d_loss_fake"]
        recs.append(r)
    return recs


def digits_shaped(n, seed):
    """Synthetic records shaped like the healthy run: D accuracy 0.93-1.0, g_loss 1.6-2.7 flat
    around 2.1, D(G(z)) 0.1-0.25, the fake term 0.1-0.3."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        acc, g = rng.uniform(0.93, 1.0), rng.uniform(1.6, 2.7)
        rows.append((acc, acc, 0.2, rng.uniform(0.1, 0.3), g, math.exp(-g) * 1.3,
                     rng.uniform(10, 300), rng.uniform(10, 60), 1.0))
    return digits_run(rows)


# --- D ahead while G loses over time ----------------------------------------------------------

def test_healthy_dcgan_digits_run_is_never_flagged():
    verdicts = replay(digits_run())
    assert names(verdicts) == {"healthy"}
    # ...but by its end D is 100 % accurate with G's loss up from 1.76 to ~2.7 among the
    # records where D wins outright: a warning, not a verdict
    risky = [v.step for v in verdicts if v.at_risk]
    assert risky == [1750, 1800, 1850, 1900, 2000]
    assert {v.at_risk for v in verdicts} == {"", "d_dominating"}


@pytest.mark.parametrize("seed", range(5))
def test_window_shaped_like_healthy_dcgan_digits_is_not_flagged(seed):
    verdicts = replay(digits_shaped(60, seed))
    assert names(verdicts) == {"healthy"}


def d_ahead_g_losing(start=10, n=40):
    """The digits failure of the issue: D ahead in every record (accuracies 0.90-1.00), its
    loss down to 0.001, while G's loss climbs from 3.5 to 9 and D(G(z)) falls to ~1e-4; but
    every third record D is only 0.92 accurate with a fake term of 0.2, so the single-record
    cut-offs (both accuracies >= 0.95 and the fake term < 0.15 in 70 % of the window) miss."""
    recs = digits_run()[:start] + digits_shaped(n - start, 7)
    for k, r in enumerate(recs[start:]):
        g = 3.5 + 5.5 * k / (n - start - 1)
        near = k % 3 == 2
        r.update(step=(start + k + 1) * EVERY, g_loss=g, d_fake_prob=math.exp(-g),
                 d_real_acc=0.92 if near else 1.0, d_fake_acc=0.92 if near else 0.999,
                 d_loss_fake=0.2 if near else 0.001, d_loss_real=0.001)
        r["d_loss"] = r["d_loss_real"] + r["d_loss_fake"]
    return recs


def test_d_ahead_while_g_loses_over_time_is_convergence_failure():
    recs = d_ahead_g_losing()
    m = HealthMonitor(window=W, warmup=WARMUP)
    verdicts = [m.update(r) for r in recs]
    profile = det.profile_for("non_saturating")
    window = recs[-W:]
    assert dominance._d_wins_outright(window, m.baseline, profile, False) is None  # missed
    # G's loss above 3 in the 6th failing record makes the window's median > 3 (4 healthy
    # records at ~2 below it); its latest half is above 3 since the 3rd
    first = next(i for i, v in enumerate(verdicts) if not v.healthy)
    assert verdicts[first].name == "convergence_failure" and first == 10 + 5
    assert verdicts[first].since_step == (first + 1) * EVERY
    assert {v.name for v in verdicts[first:]} == {"convergence_failure"}
    text = " ".join(verdicts[-1].evidence)
    assert "D ahead" in text and "median g_loss" in text and "median D(G(z))" in text
    assert any("spectral norm" in r for r in verdicts[-1].remedies)


@pytest.mark.parametrize("g_loss,expected", [(3.2, "convergence_failure"), (2.8, "healthy")])
def test_g_losing_level_borderline(g_loss, expected):
    # D ahead at 0.92 (never "winning outright"), G's loss flat at g_loss, D(G(z)) at 0.1
    recs = edit(digits_shaped(40, 3), ONSET, d_real_acc=0.92, d_fake_acc=0.92, g_loss=g_loss,
                d_fake_prob=0.1, d_loss_fake=0.2)
    assert replay(recs)[-1].name == expected


@pytest.mark.parametrize("acc,expected", [(det.D_AHEAD_ACC + 0.01, "convergence_failure"),
                                          (det.D_AHEAD_ACC - 0.01, "healthy")])
def test_d_ahead_accuracy_borderline(acc, expected):
    recs = edit(digits_shaped(40, 4), ONSET, d_real_acc=acc, d_fake_acc=acc, g_loss=4.0,
                d_fake_prob=0.03, d_loss_fake=0.2)
    assert replay(recs)[-1].name == expected


def test_d_of_g_z_at_zero_alone_is_g_losing():
    # g_loss itself not logged (a custom loss that still has probabilities): D(G(z)) decides
    recs = edit(digits_shaped(40, 5), ONSET, d_fake_prob=0.01, d_loss_fake=0.2)
    for r in recs:
        r.pop("g_loss")
    v = replay(recs)
    assert v[-1].name == "convergence_failure"
    assert any("median D(G(z))" in e for e in v[-1].evidence)


def _with_confident(recs, confident):
    for i, r in enumerate(recs):
        r["class_confident"] = confident(i)
    return recs


@pytest.mark.parametrize("seed", range(3))
def test_d_ahead_while_the_classifier_recognizes_nothing_is_convergence_failure(seed):
    """The healthy digits shape (D 0.93-1.0 accurate, G's loss ~2.1, D(G(z)) 0.1-0.25: no
    losing level) while jaxgan's classifier is sure of no sample: G learns nothing."""
    verdicts = replay(_with_confident(digits_shaped(40, seed), lambda i: 0.0))
    first = next(i for i, v in enumerate(verdicts) if not v.healthy)
    assert verdicts[first].name == "convergence_failure"
    assert first == WARMUP + dominance.NOTHING_MIN_RECORDS - 1  # the 8th judged record
    assert any("class_confident" in e for e in verdicts[first].evidence)
    assert {v.name for v in verdicts[first:]} == {"convergence_failure"}


@pytest.mark.parametrize("blank", [4, dominance.NOTHING_MIN_RECORDS - 1 + WARMUP])
def test_a_g_that_starts_drawing_recognizable_samples_is_not_flagged(blank):
    """Healthy runs show nothing recognizable only in their first records (the controls: at
    most 4), and the latest record must show it: a G that has started is not judged."""
    recs = _with_confident(digits_shaped(40, 1), lambda i: 0.0 if i < blank else 0.6)
    assert names(replay(recs)) == {"healthy"}


# --- absolute sanity bounds ----------------------------------------------------------------

def test_huge_finite_losses_in_the_first_interval_are_diverged_at_once():
    # toy_ring, SGD at a huge learning rate: 6e5 -> 4e17 within the first log interval,
    # gradient norms 1e3 -> 1e9, non-finite only later; the warm-up median is exploded too
    recs = healthy(30)
    for i, (loss, grad) in enumerate(zip(np.geomspace(6e5, 4e17, 6), np.geomspace(1e3, 1e9, 6),
                                         strict=True)):
        recs[i].update(d_loss=float(loss), g_loss=float(loss), g_grad_norm=float(grad),
                       d_grad_norm=float(grad))
    v = replay(recs)
    assert v[0].name == "diverged" and v[0].warming_up and v[0].since_step == 0
    assert "absolute bounds" in v[0].evidence[0] and "d_loss=6e+05" in v[0].evidence[0]
    assert all(x.name == "diverged" for x in v[:6])
    m = HealthMonitor(window=W, warmup=WARMUP)
    for r in recs:
        m.update(r)
    assert m.baseline["g_grad_norm"] < 2.0  # exploded records never enter the baseline


@pytest.mark.parametrize("scale,expected", [(1.0, "diverged"), (0.9, "healthy")])
def test_loss_bound_borderline(scale, expected):
    recs = edit(healthy(30), ONSET, ONSET + 1, g_loss=scale * det.LOSS_ABS_MAX)
    assert replay(recs)[ONSET].name == expected


@pytest.mark.parametrize("scale,expected", [(1.0, "diverged"), (0.9, "healthy")])
def test_gradient_norm_bound_borderline_even_in_warmup(scale, expected):
    recs = edit(healthy(30), 0, 6, g_grad_norm=scale * det.GRAD_ABS_MAX)  # the warm-up too
    assert replay(recs)[0].name == expected


def test_wasserstein_bounds_only_the_estimate():
    # the critic's offset is arbitrary: a large g_loss alone is not divergence
    recs = edit(healthy(30, "wasserstein"), 0, g_loss=2e5, d_loss_real=-2e5)
    assert names(replay(recs)) == {"healthy"}
    recs = edit(healthy(30, "wasserstein"), ONSET, ONSET + 1, d_loss=-2e5)
    assert replay(recs)[ONSET].name == "diverged"


# --- the live toy mode count ---------------------------------------------------------------

GRID = np.array([(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0,
                                                                         4.0)])


def test_mode_count_is_reported_when_only_10_percent_are_near_a_mode():
    rng = np.random.default_rng(0)
    on = GRID[rng.integers(0, 20, 250)] + 0.05 * rng.normal(size=(250, 2))  # 20 of 25 modes
    off = rng.uniform(6.0, 9.0, size=(2250, 2))  # far from every mode
    out = mode_count(np.concatenate([on, off]), GRID)
    assert out["modes_captured"] == 20 and out["num_modes"] == 25
    assert out["toy_off_mode"] == pytest.approx(0.9) and out["toy_near_samples"] == 250


def test_mode_count_is_never_suppressed():
    out = mode_count(np.full((2500, 2), 7.0), GRID)  # nothing near any mode
    assert out["modes_captured"] == 0 and out["toy_off_mode"] == 1.0
    out = mode_count(np.full((2500, 2), np.nan), GRID)  # a diverged generator
    assert out["modes_captured"] == 0 and out["toy_off_mode"] == 1.0


def test_thin_curve_spanning_the_grid_counts_only_the_modes_it_crosses():
    # the collapse the D-feature diversity misses: a curve as spread out as the data
    t = np.linspace(-4.5, 4.5, 2500)
    out = mode_count(np.stack([t, 0.05 * np.sin(20 * t)], axis=1), GRID)
    assert out["modes_captured"] == 5 and out["toy_off_mode"] == pytest.approx(4 / 9, abs=0.01)
    one_stray = np.concatenate([np.stack([t, 0.0 * t], 1), [[2.0, 2.0]]])
    assert mode_count(one_stray, GRID)["modes_captured"] == 5  # one sample is not a mode


def probe_of(samples, decay=0.0, start=0, centers=GRID):
    """A CoverageProbe of a toy run whose generators draw `samples[use_ema]`."""
    import types

    from jaxgan.coverage_probe import CoverageProbe

    run = types.SimpleNamespace(
        source=types.SimpleNamespace(centers=centers, is_toy=True), models=None,
        cfg=types.SimpleNamespace(seed=0, train=types.SimpleNamespace(ema_decay=decay,
                                                                     ema_start=start)))
    probe = CoverageProbe(run)
    calls = []

    def draw(state, use_ema):
        calls.append(use_ema)
        return np.stack([samples[e] for e in use_ema])
    probe.samples = draw
    return probe, calls


def test_toy_mode_signals_counts_at_every_record():
    rng = np.random.default_rng(1)
    x = np.concatenate([GRID[rng.integers(0, 11, 100)], np.full((2400, 2), 8.0)])
    out = probe_of({False: x})[0](None, 100)
    assert out["modes_captured"] == 11 and out["toy_off_mode"] == pytest.approx(0.96)


def test_mode_collapse_from_the_live_count_with_off_mode_share_in_the_evidence():
    recs = edit(healthy(50), 0, num_modes=25, modes_captured=25, toy_off_mode=0.8)
    edit(recs, ONSET, modes_captured=11, toy_off_mode=0.9)  # 11/25 < half
    v = replay(recs)
    assert v[-1].name == "mode_collapse" and v[-1].since_step == (ONSET + 6) * EVERY
    assert "modes_captured=11/25" in v[-1].evidence[0] and "90% of the samples" in \
        v[-1].evidence[0]
    edit(recs, ONSET, modes_captured=13)  # 13/25 >= half
    assert names(replay(recs)) == {"healthy"}


def test_coverage_signals_count_the_training_and_the_ema_generator():
    import types

    from jaxgan.coverage_probe import CoverageProbe

    rng = np.random.default_rng(2)
    raw = GRID[rng.integers(0, 25, 2500)]  # every mode
    ema = GRID[rng.integers(0, 3, 2500)]  # 3 of 25: the EMA averaged a hopping G into few
    probe, calls = probe_of({False: raw, True: ema}, decay=0.999)
    out = probe(None, 100)
    assert (out["modes_captured"], out["ema_modes_captured"]) == (25, 3)
    assert out["ema_toy_off_mode"] == 0.0 and calls == [(False, True)]  # one call for both
    assert "ema_num_modes" not in out  # only what differs between the generators
    # no EMA, or the EMA still a copy of G: one count, and only G is sampled
    probe, calls = probe_of({False: raw, True: ema}, decay=0.0)
    assert "ema_modes_captured" not in probe(None, 100) and calls == [(False,)]
    probe = probe_of({False: raw, True: ema}, decay=0.999, start=500)[0]
    assert "ema_modes_captured" not in probe(None, 400)
    assert "ema_modes_captured" in probe(None, 500)
    image = types.SimpleNamespace(source=types.SimpleNamespace(is_toy=False), cfg=None)
    assert CoverageProbe(image, None)(None, 100) == {}  # no classifier, no images: nothing


def test_an_ema_collapse_is_caught_while_the_training_generator_covers_the_modes():
    # the failure benchmark's toy_ring G 10x faster than D: raw G on 7/8, its EMA on 1-2
    recs = edit(healthy(50), 0, num_modes=8, modes_captured=8, toy_off_mode=0.2,
                ema_modes_captured=8, ema_toy_off_mode=0.1)
    edit(recs, ONSET, modes_captured=7, ema_modes_captured=2)
    v = replay(recs)
    assert v[-1].name == "mode_collapse" and v[-1].since_step == (ONSET + 6) * EVERY
    assert v[-1].evidence[0].startswith("modes_captured=2/8 by the EMA generator")
    edit(recs, ONSET, ema_modes_captured=4)  # 4/8 is half: not lost
    assert names(replay(recs)) == {"healthy"}
    edit(recs, ONSET, ema_modes_captured=1, ema_toy_off_mode=0.97)  # EMA off the data
    assert names(replay(recs)) == {"healthy"}


@pytest.mark.parametrize("confident,expected", [(0.6, "mode_collapse"), (0.1, "healthy")])
def test_an_ema_class_collapse_is_judged_once_its_samples_are_recognizable(confident,
                                                                            expected):
    recs = edit(healthy(50), 0, num_classes=10, classes_captured=10, class_confident=0.7,
                ema_classes_captured=10, ema_class_confident=0.8)
    edit(recs, ONSET, ema_classes_captured=3, ema_class_confident=confident)
    v = replay(recs)
    assert v[-1].name == expected
    if expected == "mode_collapse":
        assert v[-1].evidence[0].startswith("classes_captured=3/10 by the EMA generator")


@pytest.mark.parametrize("off,expected", [(0.94, "mode_collapse"), (0.96, "healthy")])
def test_mode_count_is_judged_once_5_percent_of_samples_are_near_a_mode(off, expected):
    # fewer near a mode: G is off the data (zoo_oscillation: 0-4 %), not collapsed onto part
    recs = edit(healthy(50), 0, num_modes=8, modes_captured=8, toy_off_mode=0.3)
    edit(recs, ONSET, modes_captured=1, toy_off_mode=off)
    assert replay(recs)[-1].name == expected
    assert det.MODES_MAX_OFF == 0.95


# --- at_risk ---------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["non_saturating", "minimax", "hinge", "least_squares",
                                  "wasserstein"])
def test_healthy_noise_is_never_at_risk(loss):
    for seed in range(3):
        assert {v.at_risk for v in replay(healthy(120, loss, seed))} == {""}


def test_at_risk_comes_before_the_verdict_and_the_verdict_stays_healthy_meanwhile():
    from test_diagnostics_detectors import d_wins

    v = replay(d_wins(healthy(50), ONSET))
    # the outright rule's hold form (5 of 10 records) two records before its fire form (7)
    assert [(x.name, x.at_risk) for x in v[ONSET + 3:ONSET + 7]] == [
        ("healthy", ""), ("healthy", "d_dominating"), ("healthy", "d_dominating"),
        ("convergence_failure", "")]
    assert "5/10 records" in v[ONSET + 4].at_risk_evidence[0]
    assert str(v[ONSET + 4]) == "healthy (at risk: d_dominating)"


@pytest.mark.parametrize("failure", ["collapse", "starve", "oscillate"])
def test_each_failure_warns_under_its_own_name_first(failure):
    recs = healthy(50)
    if failure == "collapse":
        edit(recs, ONSET, diversity_ratio=0.3)
    elif failure == "starve":
        edit(recs, ONSET, g_grad_norm=0.02, d_fake_prob=0.02, d_fake_acc=0.99)
    else:
        edit(recs, ONSET, d_fake_acc=lambda r, i: 0.65 + 0.3 * math.sin(
            2 * math.pi * (i - ONSET) / 4 + 0.5))
    v = replay(recs)
    verdict = next(x for x in v if not x.healthy)
    risk = next(x for x in v if x.at_risk)
    assert risk.step < verdict.step and RISK_NAMES[verdict.name] == risk.at_risk


def test_an_oscillating_g_covering_few_modes_is_oscillation_with_the_count_as_support():
    # zoo_oscillation, seed 2: G swung around the ring covers 1-3 of 8 modes at any record;
    # with only the live count for a collapse, the undamped swings name the failure
    recs = edit(healthy(60), 0, num_modes=8, modes_captured=8, toy_off_mode=0.3)
    edit(recs, ONSET, modes_captured=2, toy_off_mode=0.9, d_fake_acc=lambda r, i: 0.65 + 0.3
         * math.sin(2 * math.pi * (i - ONSET) / 4 + 0.5))
    v = replay(recs)
    assert v[-1].name == "oscillation"
    assert any(e.startswith("supporting: modes_captured=2/8") for e in v[-1].evidence)
    edit(recs, ONSET, diversity_ratio=0.2)  # the batch bunched up too: a collapse, hopping
    v = replay(recs)
    assert v[-1].name == "mode_collapse"
    assert any(e.startswith("supporting:") and "swings" in e for e in v[-1].evidence)


# --- a runaway: geometric growth toward Inf, still finite -------------------------------------

def test_geometric_grad_growth_is_a_runaway_divergence():
    # 1.6x per record from the onset, every record higher: diverged once the last
    # RUNAWAY_RECORDS span RUNAWAY_GROWTH and the value is RUNAWAY_FACTOR x its early median
    recs = edit(healthy(60), ONSET, g_grad_norm=lambda r, i: 1.0 * 1.6 ** (i - ONSET + 1))
    v = replay(recs)
    first = next(i for i, x in enumerate(v) if x.name == "diverged")
    grown = [1.6 ** (i - ONSET + 1) for i in range(len(recs))]
    want = next(i for i in range(ONSET + det.RUNAWAY_RECORDS, len(recs))
                if grown[i] / grown[i - det.RUNAWAY_RECORDS + 1] >= det.RUNAWAY_GROWTH
                and grown[i] >= det.RUNAWAY_FACTOR * 1.0)
    assert abs(first - want) <= 1 and "growing without bound" in v[first].evidence[0]
    assert v[first - 2].name == "healthy"


def test_spiky_growth_and_a_surge_that_falls_back_are_not_runaways():
    # the same 1.5x per record, but falling back every third record (a spiky healthy G norm)
    recs = edit(healthy(60), ONSET, g_grad_norm=lambda r, i: 1.6 ** (i - ONSET + 1) *
                (0.3 if i % 3 == 0 else 1.0))
    assert not any(x.name == "diverged" and "without bound" in " ".join(x.evidence)
                   for x in replay(recs))
    # a 7x surge over 5 records that then falls back (a collapsing toy_ring's G norm)
    recs = edit(healthy(60), ONSET, ONSET + 5, g_grad_norm=lambda r, i: 5 * 1.6 ** (i - ONSET))
    assert "diverged" not in names(replay(recs))
