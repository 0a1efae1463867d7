"""The trainer end to end: files written, exact resume, tfds input, toy convergence."""

import json

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxgan import config as config_lib
from jaxgan.trainer import train
from jaxgan.writers import read_jsonl

TINY = ["data.resolution=8", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
        "train.batch_size=8", "train.progress=false", "train.num_samples=16"]


def tiny_cfg(*extra):
    return config_lib.resolve("dcgan_digits", [*TINY, *extra])


def _leaves(state):
    return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def test_resume_continues_exactly(tmp_path):
    """6 steps straight == 3 steps, stop, resume to 6: every leaf of the state bit-equal."""
    common = ["train.log_every=1", "train.checkpoint_every=3", "train.sample_every=100"]
    straight = train(tiny_cfg("train.steps=6", *common), tmp_path / "a")
    first = train(tiny_cfg("train.steps=3", *common), tmp_path / "b")
    assert int(first.state.step) == 3
    resumed = train(tiny_cfg("train.steps=6", *common), tmp_path / "b")
    assert int(resumed.state.step) == 6
    for x, y in zip(_leaves(straight.state), _leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(x, y)
    a = read_jsonl(tmp_path / "a" / "metrics.jsonl")
    b = read_jsonl(tmp_path / "b" / "metrics.jsonl")
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5, 6]
    for ra, rb in zip(a, b, strict=True):
        assert ra["d_loss"] == rb["d_loss"] and ra["g_loss"] == rb["g_loss"]


def test_resume_drops_log_records_past_the_checkpoint(tmp_path):
    cfg = tiny_cfg("train.steps=4", "train.log_every=1", "train.checkpoint_every=2",
                   "train.sample_every=100")
    train(cfg, tmp_path)
    # simulate a crash after step 4's log but with only the step-2 checkpoint complete
    import shutil

    shutil.rmtree(tmp_path / "checkpoints" / "4")
    again = train(cfg, tmp_path)
    steps = [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")]
    assert steps == [1, 2, 3, 4]
    assert int(again.state.step) == 4


def test_tfds_catalog_dataset_under_mock_data(tmp_path):
    cfg = config_lib.resolve("dcgan_mnist", [*TINY, "train.steps=2", "train.log_every=1",
                                             "train.sample_every=2", "train.checkpoint_every=2"])
    with tfds.testing.mock_data(num_examples=32):
        result = train(cfg, tmp_path)
    assert int(result.state.step) == 2
    rec = read_jsonl(tmp_path / "metrics.jsonl")[-1]
    assert np.isfinite(rec["d_loss"]) and 0.0 <= rec["d_real_acc"] <= 1.0
    assert (tmp_path / "samples" / "step_0000002.png").is_file()


def test_toy_ring_samples_land_near_the_modes(tmp_path):
    """A few thousand steps of the MLP GAN put most samples near the 8 ring modes.

    Before training the generator's samples sit near the origin, 2.0 from every mode; a
    broken step or loss leaves them there.
    """
    from jaxgan.data import make_source
    from jaxgan.sampling import generate
    from jaxgan.state import make_models

    cfg = config_lib.resolve("toy_ring_vanilla", ["train.steps=2500", "train.progress=false",
                                          "train.log_every=500", "train.sample_every=2500",
                                          "train.checkpoint_every=2500"])
    result = train(cfg, tmp_path)
    source = make_source(cfg.data, cfg.seed)
    samples = generate(make_models(cfg), result.state, 2000, seed=1, use_ema=False)
    d = np.linalg.norm(samples[:, None, :] - source.centers[None], axis=-1)
    nearest = d.min(axis=1)
    assert np.median(nearest) < 0.25, np.median(nearest)
    owners = np.bincount(d.argmin(axis=1)[nearest < 0.25], minlength=8)
    assert (owners > 0).sum() >= 4, owners  # at least half the modes are covered
    assert (tmp_path / "samples" / "latest.png").is_file()


def test_config_json_is_resolved_and_reloadable(tmp_path):
    cfg = tiny_cfg("train.steps=1", "train.log_every=1", "seed=7")
    train(cfg, tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["seed"] == 7 and saved["train"]["steps"] == 1
    assert config_lib.from_dict(saved).to_dict() == cfg.to_dict()
    with pytest.raises(config_lib.ConfigError, match="different run"):
        train(tiny_cfg("train.steps=1", "seed=8"), tmp_path)


def test_costly_health_signals_are_sampled_at_the_end_of_each_log_interval(tmp_path,
                                                                           monkeypatch):
    """One iteration per call: the trainer calls the full step for the call that ends a log
    interval (or the run) and the light one inside it; a record's cheap signals are the
    mean over every iteration of its interval, its costly ones the full call's own values
    (compared here with the values each call returned, summed by hand)."""
    from dataclasses import replace

    import jaxgan.trainer as trainer_mod
    from jaxgan.diagnostics.signals import is_sampled

    calls: list[tuple[int, str, dict]] = []
    real_setup = trainer_mod.setup_run

    def setup(cfg):
        run = real_setup(cfg)
        assert run.light_fn is not None and run.light_fn is not run.step_fn

        def wrap(fn, kind):
            def call(state, batch):
                state, m = fn(state, batch)
                calls.append((int(jax.device_get(state.step)), kind, jax.device_get(m)))
                return state, m
            return call
        return replace(run, step_fn=wrap(run.step_fn, "full"),
                       light_fn=wrap(run.light_fn, "light"))
    monkeypatch.setattr(trainer_mod, "setup_run", setup)
    cfg = tiny_cfg("train.steps=10", "train.log_every=4", "train.checkpoint_every=10",
                   "train.sample_every=10")
    train(cfg, tmp_path / "run")
    assert [(s, k) for s, k, _ in calls] == [
        (1, "light"), (2, "light"), (3, "light"), (4, "full"), (5, "light"), (6, "light"),
        (7, "light"), (8, "full"), (9, "light"), (10, "full")]
    assert not [k for _, kind, m in calls if kind == "light" for k in m if is_sampled(k)]
    recs = [r for r in read_jsonl(tmp_path / "run" / "metrics.jsonl") if "d_loss" in r]
    assert [r["step"] for r in recs] == [4, 8, 10]
    for rec, (lo, hi) in zip(recs, [(0, 4), (4, 8), (8, 10)], strict=True):
        interval = [m for _, _, m in calls[lo:hi]]
        full = interval[-1]
        assert rec["d_loss"] == pytest.approx(np.mean([m["d_loss"] for m in interval]),
                                              rel=1e-6)
        assert rec["d_real_acc"] == pytest.approx(
            np.mean([m["d_real_acc"] for m in interval]), rel=1e-6, abs=1e-7)
        costly = [k for k in full if is_sampled(k)]
        assert "diversity_ratio" in costly and any("/" in k for k in costly)
        for k in costly:
            assert rec[k] == pytest.approx(float(full[k]), rel=1e-6), k
        assert "health_samples" not in rec
