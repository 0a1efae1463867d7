"""`train.precision=bf16`: bfloat16 compute, float32 state and losses, same training.

Mixed precision is only useful if it trains the same GAN: the test runs the trainer's own
compiled step for 300 iterations of toy_ring in float32 and in bf16 from the same seed and
checks that (1) parameters, EMA and optimizer state stay float32 and the losses are
float32 and finite, (2) the bf16 loss curve tracks the float32 one (per-50-step means within
0.15 absolute: the two runs diverge chaotically at the bf16 rounding level, so they agree
in distribution, not bit for bit), and (3) the generators' samples cover the ring alike.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import parallel
from jaxgan.config import resolve
from jaxgan.metrics.mode_coverage import mode_coverage
from jaxgan.sampling import generate
from jaxgan.state import init_state
from jaxgan.trainer import setup_run

STEPS, CHUNK = 300, 50
LOSS_TOL = 0.15


def _train(precision: str):
    cfg = resolve("toy_ring_vanilla", [f"train.precision={precision}",
                                       f"train.steps_per_call={CHUNK}",
                               "train.batch_size=64"])
    run = setup_run(cfg)
    state = parallel.create_replicated(
        lambda: init_state(run.models, cfg.seed, run.sample_shape), run.mesh)
    batch = parallel.host_to_global(
        {"image": np.zeros((CHUNK, 1, cfg.train.batch_size, 1), np.float32)}, run.mesh, 2)
    curve = []
    for _ in range(STEPS // CHUNK):
        state, m = run.step_fn(state, batch)
        curve.append({k: float(v) / CHUNK for k, v in jax.device_get(m).items()})
        assert m["d_loss"].dtype == jnp.float32 and m["g_loss"].dtype == jnp.float32
    samples = np.asarray(generate(run.models, state, 2000, 1, use_ema=False))
    cov = mode_coverage(samples, run.source.centers, run.source.std, num_std=10.0)
    return state, curve, cov, run


@pytest.fixture(scope="module")
def runs():
    return _train("float32"), _train("bf16")


def test_bf16_computes_in_bf16():
    cfg = resolve("toy_ring_vanilla", ["train.precision=bf16"])
    run = setup_run(cfg)
    assert run.models.generator.dtype == jnp.bfloat16
    assert run.models.discriminator.dtype == jnp.bfloat16


def test_bf16_state_stays_float32_and_finite(runs):
    (_, _, _, _), (state, curve, _, _) = runs
    for tree in (state.g_params, state.d_params, state.ema_params, state.g_opt_state,
                 state.d_opt_state):
        for leaf in jax.tree.leaves(tree):
            if jnp.issubdtype(leaf.dtype, jnp.floating):
                assert leaf.dtype == jnp.float32
                assert bool(jnp.all(jnp.isfinite(leaf)))
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in curve)
    assert all(r["nonfinite"] == 0 for r in curve)


def test_bf16_loss_curve_tracks_float32(runs):
    (_, c32, _, _), (_, c16, _, _) = runs
    for a, b in zip(c32, c16, strict=True):
        assert abs(a["d_loss"] - b["d_loss"]) < LOSS_TOL, (a["d_loss"], b["d_loss"])
        assert abs(a["g_loss"] - b["g_loss"]) < LOSS_TOL, (a["g_loss"], b["g_loss"])


def test_bf16_samples_cover_the_ring_like_float32(runs):
    (_, _, cov32, _), (_, _, cov16, _) = runs
    assert abs(cov32["modes_captured"] - cov16["modes_captured"]) <= 1
    assert abs(cov32["high_quality_frac"] - cov16["high_quality_frac"]) < 0.15
