"""The StyleGAN2 + ADA family as a whole, on a tiny stylegan2_digits: one compiled step
for the metrics (ADA's p and r_t, lazy R1 and path length on schedule), resume from a
checkpoint mid-run bit-exact with everything the family keeps in the state (ADA's p,
w_avg, pl_mean, the EMA generator) and sampling truncated in W; slow-marked: the real
trainer and `jaxgan sample`'s reader, and 1 device vs 8 forced host devices."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxgan import config as C
from jaxgan import xla_cpu

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _one_vs_eight import one_vs_eight  # noqa: E402

# the preset at a few channels, with every lazy schedule short enough to fire in 4 steps
TINY = ["model.g_width=4", "model.d_width=4", "model.latent_dim=8",
        "model.stylegan.w_dim=8", "model.stylegan.mapping_layers=2", "train.batch_size=8",
        "tricks.r1_every=2", "model.stylegan.pl_every=2", "tricks.ada_interval=1",
        "tricks.ada_kimg=0.1", "tricks.ada_p=0.5", "train.progress=false"]


def _cheap(options):
    """The run's XLA options plus the cheap CPU pipeline (half the compile time here; the
    tests compare a compiled step with itself, so its code generation does not matter)."""
    def cheap(cfg, platform=None):
        return {**options(cfg, platform), "xla_backend_optimization_level": 0,
                "xla_llvm_disable_expensive_passes": True}
    return cheap


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One compiled step of the tiny preset: 4 steps straight, and 2 steps, an orbax
    checkpoint, a restore into the run's abstract state and 2 more."""
    from jaxgan import run as run_lib
    from jaxgan.checkpoint import Checkpointer
    from jaxgan.parallel import create_replicated, host_to_global
    from jaxgan.state import init_state

    cfg = C.resolve("stylegan2_digits", [*TINY, "health.enabled=false"])
    with pytest.MonkeyPatch.context() as mp:  # compile-bound: XLA:CPU's cheap pipeline
        mp.setattr(xla_cpu, "compiler_options", _cheap(xla_cpu.compiler_options))
        run = run_lib.setup_run(cfg)
    metrics = []

    def steps(state, start, stop):
        for s0 in range(start, stop):
            batch = host_to_global(run_lib.host_batch(cfg, run.source, s0), run.mesh, 2)
            state, m = run.step_fn(state, batch)
            metrics.append(jax.device_get(m))
        return state

    def fresh():
        return create_replicated(lambda: init_state(run.models, cfg.seed, run.sample_shape),
                                 run.mesh)

    straight = jax.device_get(steps(fresh(), 0, 4))
    ckpt = Checkpointer(tmp_path_factory.mktemp("ckpt"), async_save=False)
    ckpt.save(2, steps(fresh(), 0, 2))
    ckpt.manager.wait_until_finished()
    step, restored = run_lib.restore_latest(run, ckpt)
    resumed = jax.device_get(steps(restored, 2, 4))
    return run, straight, step, resumed, metrics[:4]


def test_the_step_logs_ada_r1_and_path_length_and_fires_the_lazy_ones_on_schedule(tiny_run):
    metrics = tiny_run[4]
    assert {"ada_p", "ada_rt", "r1", "pl_penalty", "pl_mean", "d_loss", "g_loss"} <= \
        set(metrics[0])
    assert [float(np.ravel(m["r1"])[0]) > 0 for m in metrics] == [True, False, True, False]
    assert [float(np.ravel(m["pl_penalty"])[0]) > 0 for m in metrics] == \
        [True, False, True, False]
    p = [float(np.ravel(m["ada_p"])[0]) for m in metrics]
    np.testing.assert_allclose(np.abs(np.diff([0.5, *p])), 0.08, rtol=1e-5)  # every step
    pl = [float(np.ravel(m["pl_mean"])[0]) for m in metrics]
    assert pl[1] == pl[0] and pl[2] != pl[1]  # held between lazy steps


def test_resume_from_a_checkpoint_mid_run_is_bit_exact(tiny_run):
    """Every leaf of the resumed run equals the straight run's, including ADA's p (moved
    off its start), w_avg, pl_mean and the EMA generator."""
    _, straight, step, resumed, _ = tiny_run
    assert step == 2 and int(resumed.step) == 4
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(straight),
                            jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b),
                                      err_msg=jax.tree_util.keystr(path))
    assert abs(float(resumed.extra["augment"]["p"]) - 0.5) > 0.01
    assert np.any(np.asarray(resumed.g_batch_stats["w_avg"]))
    assert float(resumed.g_batch_stats["pl_mean"]) > 0
    assert not np.array_equal(np.asarray(resumed.ema_params["synthesis_net"]["const"]),
                              np.asarray(resumed.g_params["synthesis_net"]["const"]))


def test_sampling_truncates_towards_the_tracked_w_avg(tiny_run):
    from jaxgan.sampling import generate

    run, _, _, state, _ = tiny_run
    plain = generate(run.models, state, 8, seed=0)
    cut = generate(run.models, state, 8, seed=0, truncation=0.5)
    assert plain.shape == cut.shape == (8, 8, 8, 1) and np.all(np.isfinite(cut))
    assert cut.std(axis=0).mean() < plain.std(axis=0).mean()


@pytest.mark.slow
def test_tiny_preset_through_the_trainer_and_jaxgan_sample(tmp_path):
    """The real trainer (health monitor on) for 2 steps; metrics.jsonl has ADA's p and
    r_t; `jaxgan sample --truncation`'s reader draws from the run. Slow-marked: one more
    compile of the step."""
    from jaxgan.readers import load_run
    from jaxgan.trainer import train

    cfg = C.resolve("stylegan2_digits", [*TINY, "train.steps=2", "train.log_every=1",
                                         "train.sample_every=2", "train.checkpoint_every=2"])
    train(cfg, tmp_path / "run")
    records = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text()
               .splitlines()]
    assert len([r for r in records if "ada_p" in r and "ada_rt" in r]) == 2
    run = load_run(tmp_path / "run")
    cut = run.sample(8, seed=0, truncation=0.5)
    assert cut.shape == (8, 8, 8, 1) and np.all(np.isfinite(cut))


@pytest.mark.slow
def test_one_device_equals_eight_devices(tmp_path):
    """Two scanned iterations (n_critic 2, style mixing, noise, lazy R1 and path length
    both firing at step 0 and skipping at 1, ADA adjusting p at every step) on 1 and on 8
    forced host devices. Slow-marked: two compiles in subprocesses."""
    one = one_vs_eight(tmp_path, "stylegan2", timeout=900)
    p = [k for k in one if "augment" in k and "'p'" in k]
    assert p and abs(float(one[p[0]]) - 0.5) > 0.01
    assert any("w_avg" in k for k in one) and any("pl_mean" in k for k in one)


@pytest.mark.slow
def test_jaxgan_sweep_trains_two_seeds_at_once():
    """`jaxgan sweep`'s vmap over runs (the lazy conds become selects, ADA's p one per run).
    A 1x1 convolution under that vmap once failed in XLA:CPU (stylegan_ops._conv)."""
    from jaxgan.sweep import sweep

    cfg = C.resolve("stylegan2_digits", [*TINY, "train.steps=2", "train.log_every=1",
                                         "train.sample_every=2", "train.checkpoint_every=2",
                                         "health.enabled=false"])
    rows = sweep(cfg, [0, 1], quiet=True)
    assert len(rows) == 2 and all(np.isfinite(r["d_loss"]) for r in rows)
    assert all(int(r["state"].step) == 2 for r in rows)
    assert all(abs(float(r["state"].extra["augment"]["p"]) - 0.5) > 0.01 for r in rows)
