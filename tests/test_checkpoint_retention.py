"""Which checkpoints a run keeps: the newest `train.keep_checkpoints`, every
`train.keep_every`-th step forever and the best by `train.keep_best`, by orbax's
preservation policies; a resume with other settings never deletes kept ones silently."""

import json

from _reliability import TOY, load_checkpoint, run

from jaxgan.writers import read_jsonl

ARGS = [*TOY, "train.checkpoint_every=1", "train.keep_checkpoints=2"]


def on_disk(wd):
    return sorted(int(p.name) for p in (wd / "checkpoints").iterdir() if p.name.isdigit())


def test_keep_every_keeps_those_steps_and_a_resume_may_not_drop_them(tmp_path):
    wd = tmp_path / "run"
    r = run("train", "--workdir", str(wd), *ARGS, "train.keep_every=4", "train.steps=10")
    assert r.returncode == 0, r.stderr[-2000:]
    assert on_disk(wd) == [4, 8, 9, 10]
    assert all(int(load_checkpoint(wd, s)["step"]) == s for s in on_disk(wd))
    r = run("eval", str(wd), "--step", "4", "--json", "eval.num_samples=100")  # history
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["step"] == 4 and on_disk(wd) == [4, 8, 9, 10]

    r = run("train", "--workdir", str(wd), *ARGS, "train.keep_every=4", "train.steps=13")
    assert r.returncode == 0, r.stderr[-2000:]
    assert on_disk(wd) == [4, 8, 12, 13]

    config = (wd / "config.json").read_bytes()
    r = run("train", "--workdir", str(wd), *ARGS, "train.steps=14")  # keep_every forgotten
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.strip() == (
        f"jaxgan: resuming {wd} with these settings would delete the kept checkpoints 4, 8, "
        "12 (the run has train.keep_every=4); pass the same settings again, or --force to "
        "delete them")
    assert on_disk(wd) == [4, 8, 12, 13] and (wd / "config.json").read_bytes() == config

    r = run("train", "--workdir", str(wd), *ARGS, "train.keep_every=8", "train.steps=16")
    assert r.returncode == 2 and "kept checkpoints 4, 12 " in r.stderr, r.stderr

    r = run("train", "--workdir", str(wd), *ARGS, "train.steps=14", "--force")
    assert r.returncode == 0, r.stderr[-2000:]
    assert on_disk(wd) == [13, 14]


def test_keep_best_keeps_the_best_evaluated_step(tmp_path):
    """The toy ring's share of high-quality samples, and the step where it was LOWEST
    kept (mode min), so that the best is an early step the newest-2 rule would delete."""
    wd = tmp_path / "run"
    r = run("train", "--workdir", str(wd), "--config", "toy_ring_vanilla", "train.progress=false",
            "train.steps=600", "train.checkpoint_every=200", "train.keep_checkpoints=2",
            "eval.every=100", "eval.num_samples=500", "train.keep_best=high_quality_frac",
            "train.keep_best_mode=min")
    assert r.returncode == 0, r.stderr[-2000:]
    evals = [rec for rec in read_jsonl(wd / "metrics.jsonl") if rec.get("kind") == "eval"]
    assert [e["step"] for e in evals] == [100, 200, 300, 400, 500, 600]
    low = min(e["high_quality_frac"] for e in evals)
    best = max(e["step"] for e in evals if e["high_quality_frac"] == low)  # ties: the newest
    # every evaluated step is saved (with its metrics); the newest two and the best stay
    assert on_disk(wd) == sorted({500, 600, best})
    print("kept", on_disk(wd), [e["high_quality_frac"] for e in evals])
    stored = json.loads((wd / "checkpoints" / str(best) / "metrics" / "metrics").read_text())
    (rec,) = [e for e in evals if e["step"] == best]
    assert stored == {k: v for k, v in rec.items() if k not in ("step", "kind")
                      and isinstance(v, int | float)}
    assert int(load_checkpoint(wd, best)["step"]) == best


def test_keep_best_of_a_metric_the_evals_lack_is_one_line(tmp_path):
    r = run("train", "--workdir", str(tmp_path / "run"), *ARGS, "train.steps=4",
            "eval.every=2", "eval.num_samples=100", "train.keep_best=fid")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) >= 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("jaxgan: train.keep_best=fid is not a metric of the eval records "
                           "(they have eval_samples, high_quality_frac, modes_captured, ")
    r = run("train", "--workdir", str(tmp_path / "run2"), *ARGS, "train.keep_best=fid")
    assert r.returncode == 2 and r.stderr.strip() == (
        "jaxgan: train.keep_best=fid needs eval.every > 0 (the metric comes from the "
        "evaluations made while training)")
