"""A strong D is not a failed G: D ahead with G's loss high, while G's samples look like the
data (pixel spread near the real images', most of them recognized where the live classifier
runs), is healthy. The case: the shipped dcgan_mnist, which holds D at 0.89-1.0 accuracy and
G's loss at 3-5 for its whole second half while an independent judge scores its samples at
real-data FD (benchmarks/traces/dcgan_mnist_5000, five seeds). Everything else must stay as
it was: the same D-ahead window with G's samples bunched, noisy or unrecognized fails."""

import gzip
import json
from pathlib import Path

import pytest
from test_diagnostics_detectors import names, replay
from test_diagnostics_trends import d_ahead_g_losing

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics import dominance
from jaxgan.diagnostics.thresholds import LOOKS_REAL_CONFIDENT, LOOKS_REAL_SPREAD

TRACES = Path(__file__).resolve().parents[1] / "benchmarks" / "traces" / "dcgan_mnist_5000"


def _trace(seed):
    with gzip.open(TRACES / f"s{seed}.metrics.jsonl.gz", "rt") as f:
        recs = [json.loads(line) for line in f]
    return [r for r in recs if det.is_training_record(r)]


@pytest.mark.parametrize("seed", range(5))
def test_the_shipped_dcgan_mnist_is_healthy_at_every_record(seed):
    recs = _trace(seed)
    judged = json.loads((TRACES / "judge.json").read_text())
    assert len(recs) == 50 and judged  # the kept evidence: 5,000 steps, the judge's scores
    verdicts = replay(recs)
    assert names(verdicts) == {"healthy"}
    assert {v.at_risk for v in verdicts} == {""}
    # ...although D is ahead and G's loss is above the losing level in its second half,
    # which is what the rule fired on before (from step 2,600-3,100)
    late = recs[25:]
    assert sum(dominance._d_ahead(r) for r in late) >= 0.7 * len(late)
    assert dominance._median(late, "g_loss") > det.G_LOSS_HIGH["non_saturating"]
    assert dominance.samples_look_real(late)


def _d_ahead_with(spread, confident=None):
    recs = d_ahead_g_losing()
    for r in recs:
        r["pixel_spread"] = spread
        if confident is not None:
            r["class_confident"] = confident
    return replay(recs)


@pytest.mark.parametrize("spread,confident,expected", [
    (1.0, None, "healthy"),
    (LOOKS_REAL_SPREAD[0] + 0.01, None, "healthy"),
    (LOOKS_REAL_SPREAD[0] - 0.01, None, "convergence_failure"),  # bunched samples
    (LOOKS_REAL_SPREAD[1] + 0.01, None, "convergence_failure"),  # noise is farther spread
    (1.0, LOOKS_REAL_CONFIDENT + 0.01, "healthy"),
    (1.0, LOOKS_REAL_CONFIDENT - 0.01, "convergence_failure"),  # spread, but unrecognized
])
def test_d_ahead_with_g_losing_is_vetoed_only_by_samples_that_look_real(spread, confident,
                                                                        expected):
    verdicts = _d_ahead_with(spread, confident)
    assert verdicts[-1].name == expected
    if expected == "healthy":
        assert names(verdicts) == {"healthy"}


def test_without_a_spread_signal_the_loss_levels_decide_as_before():
    # toys and streamed data log no pixel_spread: the veto never applies
    assert dominance.samples_look_real(d_ahead_g_losing()) is False
    assert replay(d_ahead_g_losing())[-1].name == "convergence_failure"


def test_with_the_live_classifier_the_early_windows_stay_healthy():
    """The same seed-0 run on MNIST's IDX files (labels, so the live classifier runs; the
    records equal the unlabelled run's otherwise), its first 1,400 steps: D ahead and G's
    loss above 3 from the start, the classifier sure of 0-16 % of G's samples in the first
    records and 55 % by step 1,100. The rule fired at steps 600-700 before."""
    with gzip.open(TRACES / "s0_labelled_1400.metrics.jsonl.gz", "rt") as f:
        recs = [r for r in map(json.loads, f) if det.is_training_record(r)]
    unlabelled = _trace(0)[:len(recs)]
    assert [r["pixel_spread"] for r in recs] == [r["pixel_spread"] for r in unlabelled]
    confident = [r["class_confident"] for r in recs]
    assert confident[0] == 0.0 and max(confident) > 0.5
    said = [r["verdict"] for r in recs]  # what the monitor said live, before this rule
    assert said[5:7] == ["convergence_failure"] * 2
    assert names(replay(recs)) == {"healthy"}
