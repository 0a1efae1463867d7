"""The failure zoo: each preset produces its failure (and the control none) on real training.

The training runs take about a minute each on a 2-core CPU, so they are marked `slow`; the
fast tests check the presets and the scorecard arithmetic.
"""

import pytest

from jaxgan import zoo
from jaxgan.config import resolve
from jaxgan.diagnostics.monitor import VERDICTS


@pytest.mark.parametrize("entry", zoo.ZOO, ids=lambda e: e.preset)
def test_zoo_presets_resolve_and_document_themselves(entry):
    cfg = resolve(entry.preset, [], 1)
    assert cfg.name == entry.preset and cfg.data.source == "toy_ring"
    assert entry.expected in VERDICTS
    doc = __import__(f"jaxgan.configs.{entry.preset}", fromlist=["x"]).__doc__
    assert "Command:" in doc and "Expected:" in doc and "Run time:" in doc
    assert entry.expected in doc


def test_scorecard_counts():
    runs = [
        zoo.ZooRun("zoo_vanishing_gradient", 0, "vanishing_gradient",
                   {"healthy": 50, "vanishing_gradient": 400}),
        zoo.ZooRun("zoo_mode_collapse", 0, "mode_collapse",
                   {"healthy": 50, "vanishing_gradient": 900}),
        zoo.ZooRun("zoo_healthy", 0, "healthy", {"healthy": 50}),
    ]
    rows = {r["detector"]: r for r in zoo.scorecard(runs)}
    assert rows["vanishing_gradient"] == {
        "detector": "vanishing_gradient", "runs": 3, "expected": 1, "true_positives": 1,
        "false_positives": 1, "missed": 0}
    assert rows["mode_collapse"]["missed"] == 1 and rows["mode_collapse"]["true_positives"] == 0
    assert runs[0].passed(600) and not runs[0].passed(300)
    assert runs[2].passed(0) and not runs[1].passed(10_000)
    table = zoo.format_scorecard(runs)
    assert table.startswith("| detector |") and "zoo_healthy seed 0" in table


@pytest.mark.slow
@pytest.mark.parametrize("entry", zoo.ZOO, ids=lambda e: e.preset)
def test_zoo_preset_produces_its_verdict(entry, tmp_path):
    run = zoo.run_entry(entry, 0, tmp_path / entry.preset)
    assert run.passed(entry.within_steps), run.seen
    # one verdict everywhere: the doctor's replay of metrics.jsonl equals what the trainer
    # wrote at every record (verdict and at_risk), the trainer's NaN record included
    assert run.mismatches == [], run.mismatches[:5]
    assert run.doctor_final == run.live_final != ""
