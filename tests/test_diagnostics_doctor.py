"""`jaxgan doctor` on synthetic run directories written by the tests."""

import argparse
import json
import math

import numpy as np
import pytest

from jaxgan.cli.doctor import add_doctor_parser, run_doctor
from jaxgan.diagnostics import (
    DiagnosticsError,
    diagnose,
    format_timeline,
    write_report,
)
from jaxgan.diagnostics import detectors as det

EVERY = 50
ONSET = 20
LAG = math.ceil(det.FIRE_FRAC * 10) - 1  # default window 10


def record(i, rng, failing=False):
    e = lambda s: float(rng.normal(0.0, s))
    r = {
        "step": i * EVERY, "loss_name": "non_saturating",
        "d_loss": 1.2 + e(0.05), "g_loss": 1.5 + e(0.1),
        "d_loss_real": 0.6 + e(0.03), "d_loss_fake": 0.6 + e(0.03),
        "d_real_acc": 0.76 + e(0.02), "d_fake_acc": 0.72 + e(0.02),
        "d_real_prob": 0.6, "d_fake_prob": 0.4,
        "g_grad_norm": 1.0 + e(0.05), "d_grad_norm": 2.0 + e(0.1),
        "g_grad_norm/Dense_0": 0.5, "d_grad_norm/Conv_0": 1.5,
        "diversity_ratio": 0.85 + e(0.03), "dup_frac": 0.0, "real_dup_frac": 0.0,
        "nonfinite": 0.0, "steps_per_s": 20.0,
    }
    if failing:  # the discriminator wins outright
        r.update(d_loss=0.03, d_loss_real=0.015, d_loss_fake=0.015, g_loss=6.0,
                 d_real_acc=0.99, d_fake_acc=0.99, d_fake_prob=0.02)
    return r


def make_run(tmp_path, n=50, onset=ONSET, extra_lines=(), tail=""):
    rng = np.random.default_rng(0)
    workdir = tmp_path / "run"
    workdir.mkdir()
    lines = [json.dumps(record(i, rng, failing=i >= onset)) for i in range(n)]
    lines[10:10] = list(extra_lines)
    (workdir / "metrics.jsonl").write_text("\n".join(lines) + "\n" + tail)
    return workdir


def test_diagnose_timeline(tmp_path):
    rep = diagnose(make_run(tmp_path))
    assert [(s.start_step, s.end_step, s.verdict) for s in rep.timeline] == [
        (0, (ONSET + LAG - 1) * EVERY, "healthy"),
        ((ONSET + LAG) * EVERY, 49 * EVERY, "convergence_failure"),
    ]
    assert rep.final.name == "convergence_failure"
    assert rep.final.since_step == (ONSET + LAG) * EVERY
    assert rep.num_records == 50 and rep.loss_name == "non_saturating"
    assert rep.failures == ["convergence_failure"]
    assert "d_fake_acc" in " ".join(rep.timeline[1].evidence)
    assert not rep.truncated_last_line and rep.skipped_lines == 0


def test_truncated_last_line_and_junk_lines(tmp_path):
    run = make_run(tmp_path, extra_lines=["{not json", '{"step": 1, "fid": 30.0}', "[]"],
                   tail='{"step": 2500, "d_loss": 0.0')
    rep = diagnose(run)
    assert rep.truncated_last_line
    assert rep.skipped_lines == 2  # the broken line and the non-object; the eval line is fine
    assert rep.num_records == 50 and rep.last_step == 49 * EVERY
    assert "incomplete" in format_timeline(rep)


def test_resumed_run_relogging_steps_keeps_the_latest(tmp_path):
    rng = np.random.default_rng(1)
    run = tmp_path / "run"
    run.mkdir()
    recs = [record(i, rng) for i in range(30)] + [record(i, rng) for i in range(20, 40)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    rep = diagnose(run)
    assert rep.num_records == 40
    steps = [r["step"] for r in rep.records]
    assert steps == sorted(steps) and len(set(steps)) == 40
    assert rep.warnings == ["the run went back to step 1000 (rollback or resume); the "
                            "replaced records up to step 1450 are not in the timeline"]


def test_rollback_after_nan_is_noted(tmp_path):
    rng = np.random.default_rng(2)
    run = tmp_path / "run"
    run.mkdir()
    nan = {**record(30, rng), "d_loss": float("nan"), "nonfinite": 1.0, "verdict": "diverged"}
    recs = [record(i, rng) for i in range(30)] + [nan] + [record(i, rng) for i in range(21, 40)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    rep = diagnose(run)
    assert rep.final.name == "healthy"
    assert rep.warnings[0].startswith("non-finite values at step 1500; the run went back to "
                                      "step 1050")
    assert "non-finite values at step 1500" in format_timeline(rep)


def test_window_from_config_json(tmp_path):
    run = make_run(tmp_path)
    (run / "config.json").write_text(json.dumps({"health": {"window": 20, "on_failure": "warn"}}))
    rep = diagnose(run)
    assert rep.window == 20
    lag20 = math.ceil(det.FIRE_FRAC * 20) - 1
    assert rep.final.since_step == (ONSET + lag20) * EVERY
    (run / "config.json").write_text("{broken")
    rep = diagnose(run)
    assert rep.window == 10 and rep.warnings


def test_errors_are_one_line(tmp_path):
    cases = [tmp_path / "nope"]
    (tmp_path / "empty_dir").mkdir()
    cases.append(tmp_path / "empty_dir")
    (tmp_path / "empty_file").mkdir()
    (tmp_path / "empty_file" / "metrics.jsonl").write_text("")
    cases.append(tmp_path / "empty_file")
    (tmp_path / "a_file").write_text("x")
    cases.append(tmp_path / "a_file")
    for path in cases:
        with pytest.raises(DiagnosticsError) as e:
            diagnose(path)
        assert "\n" not in str(e.value) and str(path) in str(e.value)
        assert isinstance(e.value, ValueError)


def test_write_report_and_pngs(tmp_path):
    run = make_run(tmp_path)
    path = write_report(run)
    assert path == run / "doctor" / "report.md"
    text = path.read_text()
    assert "convergence_failure" in text and "## Timeline" in text and "What to try" in text
    for stem in ("losses", "accuracy", "grad_norms", "diversity"):
        png = run / "doctor" / f"{stem}.png"
        assert f"]({stem}.png)" in text
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (800, 360)
        assert len(data) > 10_000


def test_report_without_diversity_skips_that_plot(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    recs = [{"step": i * 10, "d_loss": 1.2, "g_loss": 1.5, "g_grad_norm": 1.0}
            for i in range(12)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    write_report(run)
    assert (run / "doctor" / "losses.png").exists()
    assert not (run / "doctor" / "diversity.png").exists()


def test_nan_records_plot_and_report_diverged(tmp_path):
    run = make_run(tmp_path, n=30, onset=100)
    with open(run / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 1500, "d_loss": float("nan"), "g_loss": float("inf"),
                            "g_grad_norm": float("nan"), "nonfinite": 1.0}) + "\n")
    rep = diagnose(run)
    assert rep.final.name == "diverged" and rep.final.since_step == 1500
    write_report(run, rep)
    assert (run / "doctor" / "grad_norms.png").stat().st_size > 0


def _cli(argv):
    parser = argparse.ArgumentParser(prog="jaxgan")
    add_doctor_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_text_and_json(tmp_path, capsys):
    run = make_run(tmp_path)
    assert _cli(["doctor", str(run)]) == 0
    out = capsys.readouterr().out
    assert "convergence_failure" in out and "try:" in out and "report:" in out
    assert _cli(["doctor", str(run), "--json", "--no-report"]) == 0
    data = json.loads(capsys.readouterr().out)
    rep = diagnose(run)
    assert data["timeline"] == json.loads(rep.to_json())["timeline"]
    assert data["timeline"] == [
        {"start_step": s.start_step, "end_step": s.end_step, "verdict": s.verdict,
         "evidence": s.evidence} for s in rep.timeline]
    assert data["final"]["name"] == "convergence_failure" and data["report"] is None
    assert "convergence_failure" in data["remedies"]


def test_cli_error_exit_2(tmp_path, capsys):
    assert run_doctor(argparse.Namespace(workdir=str(tmp_path / "missing"), json=False)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
