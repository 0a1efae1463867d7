"""`jaxgan.load_run`: a trained run back in a notebook, read-only."""

import numpy as np
import pytest
from _reliability import assert_trees_equal, load_checkpoint

import jaxgan
from jaxgan import config as config_lib
from jaxgan.checkpoint import CheckpointError
from jaxgan.cli import main

TOY = ["model.latent_dim=8", "model.mlp.hidden=16", "model.mlp.depth=1",
       "train.batch_size=16", "train.steps_per_call=1", "train.progress=false",
       "train.sample_every=100000", "train.log_every=2", "train.checkpoint_every=2",
       "train.steps=4"]


def listing(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_load_run_restores_the_newest_checkpoint_and_samples(tmp_path):
    wd = tmp_path / "run"
    cfg = config_lib.resolve("toy_ring_vanilla", TOY)
    trained = jaxgan.train(cfg, wd)
    before = listing(wd / "checkpoints")

    run = jaxgan.load_run(wd)
    assert isinstance(run, jaxgan.LoadedRun)
    assert run.step == int(run.state.step) == 4
    assert run.config.to_dict() == cfg.to_dict()
    assert isinstance(run.models, jaxgan.GANModels)
    # the state is the checkpoint's (as plain orbax reads it) and the trainer's
    raw = load_checkpoint(wd, 4)
    assert assert_trees_equal(raw["g_params"], run.state.g_params) > 0
    assert assert_trees_equal(jax_host(trained.state.d_params), run.state.d_params) > 0

    samples = run.sample(50)
    assert samples.shape == (50, 2) and np.isfinite(samples).all() and samples.std() > 0
    same = jaxgan.generate(run.models, run.state, 50, cfg.seed + 1, use_ema=False)
    np.testing.assert_array_equal(samples, same)
    # `jaxgan sample` goes through the same function: the same numbers
    assert main(["sample", str(wd), "--num", "50", "--out", str(tmp_path / "s.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "s.npz")["samples"], samples)

    older = jaxgan.load_run(wd, step=2)
    assert older.step == int(older.state.step) == 2
    assert not np.array_equal(older.sample(50), samples)
    assert listing(wd / "checkpoints") == before  # a reader creates and moves nothing

    with pytest.raises(CheckpointError, match="no complete checkpoint of step 3"):
        jaxgan.load_run(wd, step=3)


def jax_host(tree):
    import jax

    return jax.device_get(tree)


def test_load_run_of_an_untrained_workdir_is_one_line(tmp_path):
    cfg = config_lib.resolve("toy_ring_vanilla", TOY)
    (tmp_path / "config.json").write_text(cfg.to_json())
    with pytest.raises(CheckpointError, match="holds no checkpoint yet; train first"):
        jaxgan.load_run(tmp_path)
