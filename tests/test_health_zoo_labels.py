"""The failure benchmark's ground truth (`benchmarks/health_zoo.py`): its labels come from
the judge's evidence and the raw traces by fixed rules, never from the detectors. These
tests pin the rules on hand-made evidence, so a change to them shows in review."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import health_zoo as hz  # noqa: E402

RING = hz.Case("mode_collapse", "test", "A", "ring", ())
DIGITS = hz.Case("convergence_failure", "test", "A", "digits", ())


def trace(n=20, **late):
    """n records; the second half gets `late` values (callables get the index)."""
    recs = []
    for i in range(n):
        r = {"step": 100 * (i + 1), "d_loss": 1.3, "g_loss": 0.8, "d_real_acc": 0.6,
             "d_fake_acc": 0.6, "d_fake_prob": 0.45, "g_grad_norm": 1.0, "d_grad_norm": 1.0,
             "nonfinite": 0.0}
        if i >= n // 2:
            r.update({k: v(i) if callable(v) else v for k, v in late.items()})
        recs.append(r)
    return {"records": recs}


def toy(modes, hq, **late):
    return {"judge": {"finite": True, "modes": modes, "num_modes": 8, "high_quality": hq},
            "trace": trace(**late)}


def test_a_good_toy_run_is_not_a_failure():
    assert hz.label(RING, toy(8, 0.9))[0] is None


def test_nonfinite_or_huge_losses_are_divergence_before_anything_else():
    assert hz.label(RING, toy(1, 0.9, nonfinite=1.0))[0] == "diverged"
    assert hz.label(RING, toy(8, 0.9, g_loss=2e3))[0] == "diverged"
    wgan = hz.Case("diverged", "t", "A", "ring", ("loss.name=wasserstein",))
    assert hz.label(wgan, toy(8, 0.0, g_loss=2e3))[0] == "failed"  # WGAN's bound is 1e4
    assert hz.label(wgan, toy(8, 0.0, g_loss=2e4))[0] == "diverged"
    assert hz.label(RING, {"judge": None, "trace": trace()})[0] == "diverged"


def test_few_modes_are_a_collapse_unless_d_is_winning():
    assert hz.label(RING, toy(2, 0.5))[0] == "mode_collapse"
    assert hz.label(RING, toy(2, 0.01))[0] == "mode_collapse"  # a thin curve off the modes
    won = dict(d_real_acc=0.99, d_fake_acc=0.99, d_fake_prob=0.02, g_loss=4.0)
    assert hz.label(RING, toy(2, 0.01, **won))[0] == "convergence_failure"


def test_vanishing_needs_the_minimax_loss_and_a_saturated_d():
    won = dict(d_real_acc=0.99, d_fake_acc=0.99, d_fake_prob=0.02)
    minimax = hz.Case("vanishing_gradient", "t", "A", "ring", ("loss.name=minimax",))
    assert hz.label(minimax, toy(8, 0.01, **won))[0] == "vanishing_gradient"
    assert hz.label(minimax, toy(8, 0.01, **{**won, "d_fake_prob": 0.1}))[0] == \
        "convergence_failure"


@pytest.mark.parametrize("amplitude,expected", [(0.3, "oscillation"), (0.1, "failed")])
def test_oscillation_needs_swings_across_the_median(amplitude, expected):
    swing = dict(d_fake_acc=lambda i: 0.6 + (amplitude if i % 2 else -amplitude))
    assert hz.label(RING, toy(8, 0.01, **swing))[0] == expected


def test_a_swinging_d_with_lost_coverage_is_an_oscillation_not_a_collapse():
    """A G flung around by the swings covers few modes at the end; the swings are the
    evidence (Adam b1 0.99 on the ring: 0/8 modes, late D fake accuracy 0.0-0.99)."""
    swing = dict(d_fake_acc=lambda i: 0.5 + (0.4 if i % 2 else -0.4))
    assert hz.label(RING, toy(0, 0.0, **swing))[0] == "oscillation"
    assert hz.label(RING, toy(0, 0.0))[0] == "mode_collapse"  # no swings: G on a thin set
    assert hz.label(RING, toy(2, 0.5, **swing))[0] == "mode_collapse"  # good samples, 2 modes


def test_image_rules_read_class_coverage_and_confidence():
    def img(classes, confident, **late):
        return {"judge": {"finite": True, "classes_3pct": classes, "confident": confident},
                "trace": trace(**late)}

    assert hz.label(DIGITS, img(10, 0.8))[0] is None
    assert hz.label(DIGITS, img(4, 0.8))[0] == "mode_collapse"
    assert hz.label(DIGITS, img(10, 0.1, d_real_acc=0.95, d_fake_acc=0.95,
                                g_loss=3.5))[0] == "convergence_failure"


def test_image_samples_far_from_the_data_are_not_good_however_confident():
    """The judge's MLP is sure of gray noise too: good samples must also lie near the data
    (nn_ratio), and every z giving one image (spread ~0) loses coverage."""
    def img(classes, confident, nn, spread, **late):
        return {"judge": {"finite": True, "classes_3pct": classes, "confident": confident,
                          "nn_ratio": nn, "spread_ratio": spread}, "trace": trace(**late)}

    won = dict(d_real_acc=0.95, d_fake_acc=0.95, g_loss=3.5)
    assert hz.label(DIGITS, img(10, 0.85, 0.9, 0.95))[0] is None
    assert hz.label(DIGITS, img(1, 1.0, 0.9, 0.9))[0] == "mode_collapse"  # near, one class
    assert hz.label(DIGITS, img(1, 1.0, 2.6, 0.0, **won))[0] == "convergence_failure"
    assert hz.label(DIGITS, img(10, 0.85, 0.9, 0.01))[0] == "mode_collapse"  # one image
    assert hz.label(DIGITS, img(10, 0.85, 1.6, 0.9, **won))[0] == "convergence_failure"


def test_the_kept_dcgan_mnist_controls_are_healthy_by_the_judge_and_replayed(tmp_path):
    """The kept traces count as controls: labelled from the judge's scores (10 classes,
    76-80 % confident), replayed through the current monitor like every other run, and a
    summary counts them among the controls."""
    rows = hz.score_kept(tmp_path)
    assert [r.seed for r in rows] == [0, 1, 2, 3, 4]
    assert all(r.truth == "healthy" and "10 classes" in r.why for r in rows)
    assert all(r.verdicts[0] == (100, "healthy") for r in rows)
    controls = hz.summarize(rows)["controls"]
    assert controls["runs"] == controls["valid"] == 5
    assert controls["flagged"] == 0 == controls["at_risk"]  # the false alarm of session 18
