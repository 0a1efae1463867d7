"""One verdict everywhere (issue 12): the doctor reads every record the trainer writes (its
NaN record included) and replays them to the verdicts the trainer wrote, record by record;
`at_risk` reaches metrics.jsonl, the progress bar and TensorBoard. The records go through
the trainer's own `_log` and `MetricsWriter`; the zoo tests check the same on real runs.
"""

import json
import types

import pytest
from test_diagnostics_detectors import EVERY, ONSET, W, d_wins, edit, g_starves, healthy

from jaxgan.diagnostics import diagnose
from jaxgan.diagnostics.monitor import HealthMonitor
from jaxgan.trainer import _log, _postfix
from jaxgan.writers import MetricsWriter


def live_run(tmp_path, records, nan_at=None, tensorboard=False):
    """Feed `records` through the trainer's `_log` (monitor, metrics.jsonl) like a run of
    `health.on_failure=warn`; records with `"kind": "eval"` are written as the trainer writes
    evaluations, `"kind": "nan"` and `nan_at` (at the end) as the trainer writes its NaN
    record. Returns the workdir and the live verdicts/at_risk as written."""
    wd = tmp_path / "run"
    wd.mkdir()
    writer = MetricsWriter(wd, tensorboard=tensorboard)
    monitor = HealthMonitor(window=W)
    cfg = types.SimpleNamespace(health=types.SimpleNamespace(on_failure="warn"))
    result = types.SimpleNamespace(records=[], last_record=None, stopped_early=None)
    flag = types.SimpleNamespace(requested=False)
    for r in records:
        if r.get("kind") == "eval":
            writer.write(r)
        elif r.get("kind") == "nan":  # as the trainer writes it, past the monitor
            writer.write({k: v for k, v in r.items() if k != "kind"} | {"verdict": "diverged"})
        else:
            _log({**r, "steps_per_s": 10.0}, cfg, monitor, writer, None, result, flag)
    if nan_at is not None:
        writer.write({**nan_at, "verdict": "diverged"})
    writer.close()
    return wd, [(r["step"], r["verdict"], r["at_risk"]) for r in result.records]


def doctor_says(wd):
    rep = diagnose(wd)
    return rep, [(r["step"], v.name, v.at_risk) for r, v in zip(rep.records, rep.verdicts,
                                                               strict=True)]


def test_doctor_reads_the_trainers_nan_record_and_says_diverged(tmp_path):
    # G starved for a while (the doctor used to end on vanishing_gradient because it dropped
    # the NaN record, which has no d_loss), then the trainer's own NaN record
    recs = g_starves(healthy(40), ONSET)
    nan = {"step": 40 * EVERY, "nonfinite": 1.0, "wall_time": 12.5, "images_seen": 51200}
    wd, live = live_run(tmp_path, recs, nan_at=nan)
    assert live[-1][1] == "vanishing_gradient"
    last = json.loads((wd / "metrics.jsonl").read_text().splitlines()[-1])
    assert last == {**nan, "verdict": "diverged"}
    rep, doc = doctor_says(wd)
    assert rep.num_records == 41 and rep.final.name == "diverged"
    assert rep.final.since_step == 40 * EVERY and "nonfinite" in rep.final.evidence[0]
    assert doc[:-1] == live  # and every earlier record as the trainer judged it


def test_nan_record_with_the_intervals_values_as_strings(tmp_path):
    # the NaN flag seen at a log step: the record carries the interval's means, NaN ones
    # written as "nan" (JSON has none): read back as floats, named in the evidence
    nan = {**healthy(41)[40], "d_loss": float("nan"), "g_grad_norm": float("inf"),
           "nonfinite": 1.0}
    wd, _ = live_run(tmp_path, healthy(40), nan_at=nan)
    assert '"d_loss": "nan"' in (wd / "metrics.jsonl").read_text()
    rep, _ = doctor_says(wd)
    assert rep.final.name == "diverged"
    assert "d_loss" in rep.final.evidence[0] and "g_grad_norm" in rep.final.evidence[0]


def test_live_verdicts_equal_the_doctors_at_every_record(tmp_path):
    """A run that warns, fails, recovers, collapses, is evaluated (eval records carry mode
    counts the live monitor never sees), hits a NaN and rolls back: identical record by
    record, the rollback's replaced records dropped on both sides."""
    recs = d_wins(healthy(50), ONSET, stop=ONSET + 12)
    edit(recs, 30, diversity_ratio=0.3)
    out = []
    for i, r in enumerate(recs):
        out.append(r)
        if i % 7 == 3:
            out.append({"step": r["step"], "kind": "eval", "modes_captured": 1,
                        "num_modes": 8, "fid": 30.0})
    out.append({"step": 50 * EVERY, "nonfinite": 1.0, "kind": "nan"})
    out += healthy(70, seed=9)[41:70]  # rolled back to step 40 * EVERY: logs from 41 on
    wd, live = live_run(tmp_path, out)
    rep, doc = doctor_says(wd)
    steps = [s for s, _, _ in doc]
    assert steps == [i * EVERY for i in range(70)]  # 41-49 and the NaN record replaced
    live_by_step = {s: (v, a) for s, v, a in live}  # the latest record of each step
    assert [(s, *live_by_step[s]) for s in steps] == doc
    assert {v for _, v, _ in doc} == {"healthy", "convergence_failure", "mode_collapse"}
    # the collapse outlives the rollback while its records fill half the window
    assert max(s for s, v, _ in doc if v == "mode_collapse") == 45 * EVERY
    assert {a for _, _, a in doc} >= {"", "d_dominating"}  # the warnings replay too
    assert rep.final.name == live[-1][1] == "healthy"
    assert any("went back to step 2050" in w for w in rep.warnings)


def test_at_risk_in_metrics_jsonl_progress_bar_and_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    tf = pytest.importorskip("tensorflow")
    from tensorflow.python.summary.summary_iterator import summary_iterator

    wd, live = live_run(tmp_path, d_wins(healthy(30), ONSET), tensorboard=True)
    written = [json.loads(x) for x in (wd / "metrics.jsonl").read_text().splitlines()]
    risky = [r for r in written if r["at_risk"]]
    assert [r["step"] for r in risky] == [(ONSET + 4) * EVERY, (ONSET + 5) * EVERY]
    assert [r["verdict"] for r in risky] == ["healthy", "healthy"]
    assert "in 5/10 records" in risky[0]["at_risk_evidence"]
    assert "in 6/10 records" in risky[1]["at_risk_evidence"]
    assert all(r["at_risk"] == "" and "at_risk_evidence" not in r for r in written
               if r not in risky)
    assert _postfix(risky[0])["at_risk"] == "d_dominating"
    assert _postfix(risky[0])["health"] == "healthy"
    assert "at_risk" not in _postfix(written[0])
    texts = {}
    for path in (wd / "tensorboard").glob("events.out.tfevents*"):
        for event in summary_iterator(str(path)):
            for v in event.summary.value:
                if v.tag.startswith("health/at_risk"):
                    texts[event.step] = tf.make_ndarray(v.tensor).item().decode()
    assert sorted(texts) == [r["step"] for r in risky]
    assert texts[risky[0]["step"]].startswith("at_risk: d_dominating: ")


def test_real_run_with_a_nan_rollback_replays_to_the_same_verdicts(tmp_path, monkeypatch):
    """`train.on_nan=rollback` on a tiny toy run: the trainer's NaN record at step 10, the
    rollback to step 8 and the re-run steps: the doctor's verdict of every record it keeps
    is the one the trainer wrote for it, and its final verdict the trainer's last."""
    from test_reliability_nan import TOY, poison_after

    from jaxgan import config as config_lib
    from jaxgan import trainer
    from jaxgan.writers import read_jsonl

    poison_after(monkeypatch, 9, times=1)
    cfg = config_lib.resolve("toy_ring_vanilla", [*TOY, "train.steps=16",
                                                  "train.checkpoint_every=4",
                                                  "train.on_nan=rollback"])
    trainer.train(cfg, tmp_path)
    written = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in written] == list(range(1, 11)) + list(range(9, 17))
    assert written[9]["verdict"] == "diverged" and written[9]["nonfinite"] > 0
    rep, doc = doctor_says(tmp_path)
    assert [s for s, _, _ in doc] == list(range(1, 17))
    assert doc == [(r["step"], r["verdict"], r["at_risk"]) for r in written[:8] + written[10:]]
    assert rep.final.name == written[-1]["verdict"]
    assert any("non-finite values at step 10" in w for w in rep.warnings)
