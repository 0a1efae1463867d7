"""The train step: device-count invariance, determinism, n_critic, EMA."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import Config
from jaxgan.losses import get_loss
from jaxgan.state import init_state, make_models
from jaxgan.step import ema_decay_at, make_train_step, sample_latents

HERE = Path(__file__).parent


def _run(n, out, model):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    subprocess.run([sys.executable, str(HERE / "_multidevice_step.py"), str(n), str(out), model],
                   check=True, env=env, timeout=600)
    return dict(np.load(out))


@pytest.mark.parametrize("model", ["dcgan", "mlp", "dcgan_tricks"])
def test_one_device_equals_eight_devices(tmp_path, model):
    """Two scanned GAN iterations with n_critic=2 on 1 and on 8 devices, same global batch.

    `dcgan_tricks` switches on every trick that draws random numbers (DiffAugment, instance
    noise, label flips, WGAN-GP's interpolation weights): their draws are per sample, keyed
    by the sample's global index, so they too are the same on any device count.

    Tolerance: float32 reductions are summed in a different order across 8 shards, so the
    new parameters agree to ~1e-6 relative; anything structurally wrong (per-device noise,
    a missing pmean) shows up as differences of order 1e-2 or more.
    """
    one = _run(1, tmp_path / "one.npz", model)
    eight = _run(8, tmp_path / "eight.npz", model)
    assert one.keys() == eight.keys()
    compared = 0
    for k in one:
        if k.startswith("metric/") and ("diversity" in k or "dup_frac" in k):
            continue  # per-device batch diversity is averaged over shards by design
        a, b = one[k].astype(np.float64), eight[k].astype(np.float64)
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6, err_msg=k)
        compared += a.size
    assert compared > 1000
    assert int(one[".step"]) == 2


def _tiny():
    cfg = Config()
    cfg.data.resolution, cfg.model.g_width, cfg.model.d_width = 8, 8, 8
    cfg.model.latent_dim = 8
    return cfg


def test_step_is_deterministic_and_advances():
    cfg = _tiny()
    models = make_models(cfg)
    step = jax.jit(make_train_step(models, get_loss("hinge"), n_critic=3))
    state = init_state(models, 0, (8, 8, 1))
    batch = {"image": jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (3, 4, 8, 8, 1)),
                                  jnp.float32), "label": jnp.zeros((3, 4), jnp.int32)}
    s1, m1 = step(state, batch)
    s2, m2 = step(state, batch)
    for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s2), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(s1.step) == 1
    # 3 critic updates -> Adam's count is 3 for D and 1 for G
    d_count = [x for x in jax.tree.leaves(s1.d_opt_state) if x.dtype == jnp.int32]
    g_count = [x for x in jax.tree.leaves(s1.g_opt_state) if x.dtype == jnp.int32]
    assert int(d_count[0]) == 3 and int(g_count[0]) == 1
    changed = [not np.array_equal(a, b) for a, b in
               zip(jax.tree.leaves(state.g_params), jax.tree.leaves(s1.g_params), strict=True)]
    assert all(changed)
    assert m1["nonfinite"] == 0.0 and np.isfinite(m1["d_loss"])
    # the next step draws different noise (key folded with the step number)
    s3, m3 = step(s1, batch)
    assert float(m3["g_loss"]) != float(m1["g_loss"])


def test_ema_follows_warmup_rule():
    assert float(ema_decay_at(jnp.array(0), 0.999)) == pytest.approx(0.1)
    assert float(ema_decay_at(jnp.array(90), 0.999)) == pytest.approx(91 / 100)
    assert float(ema_decay_at(jnp.array(10**6), 0.999)) == pytest.approx(0.999)


def test_latents_are_device_count_invariant():
    key = jax.random.PRNGKey(5)
    z, y = sample_latents(key, 8, 4, 10)
    assert z.shape == (8, 4) and y.shape == (8,)
    assert int(y.min()) >= 0 and int(y.max()) < 10
    # sample i depends only on (key, i): the first half equals a batch of 4
    z4, _ = sample_latents(key, 4, 4, 10)
    np.testing.assert_array_equal(z[:4], z4)
    assert abs(float(z.mean())) < 1.0


def _mlp_setup():
    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.g_width, cfg.model.d_width = 4, 16, 16
    models = make_models(cfg)
    return models, get_loss("non_saturating"), init_state(models, 0, (2,))


def test_sampled_health_signals_match_the_full_step():
    """`scan_with_health`: light steps in the loop, the full step last, same training.

    The parameters after 4 scanned iterations equal those of 4 full-health iterations
    (health signals are observations, not part of any update); per-step signals come back
    summed as before; the costly ones come back as the last iteration's value, counted by
    ``health_samples``, so a record reports that value (`signals.interval_means`).
    """
    from jaxgan.diagnostics.signals import interval_means
    from jaxgan.multistep import scan_steps, scan_with_health

    models, loss, state = _mlp_setup()

    def make(health):
        return make_train_step(models, loss, health=health)

    batch = {"image": jnp.asarray(np.random.default_rng(1).normal(size=(4, 1, 32, 2)),
                                  jnp.float32)}
    sampled = jax.jit(scan_with_health(make, True, 4))
    full = jax.jit(scan_steps(make(True)))
    s_a, m_a = sampled(state, batch)
    s_b, m_b = full(state, batch)
    for a, b in zip(jax.tree.leaves(s_a), jax.tree.leaves(s_b), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert m_a.keys() == m_b.keys()
    np.testing.assert_allclose(m_a["d_loss"], m_b["d_loss"], rtol=1e-6)
    np.testing.assert_allclose(m_a["g_grad_norm"], m_b["g_grad_norm"], rtol=1e-6)
    assert (float(m_a["health_samples"]), float(m_b["health_samples"])) == (1.0, 4.0)
    # the last iteration alone, run as a full step from the state after three
    s3, _ = jax.jit(scan_steps(make(True)))(state, jax.tree.map(lambda x: x[:3], batch))
    _, m_last = jax.jit(make(True))(s3, jax.tree.map(lambda x: x[3], batch))
    rec = interval_means(jax.device_get(m_a), 4)
    per_layer = [k for k in m_a if k.startswith("g_grad_norm/")]
    assert per_layer and "health_samples" not in rec
    for k in ("diversity_ratio", "dup_frac", "g_update_ratio", per_layer[0]):
        np.testing.assert_allclose(rec[k], m_last[k], rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(rec["d_loss"], m_b["d_loss"] / 4, rtol=1e-6)
    assert float(m_a["g_update_ratio"]) != pytest.approx(float(m_b["g_update_ratio"]))


def test_per_sample_draws_do_not_depend_on_how_the_batch_is_split():
    """`per_sample` (the tricks' augmentation and noise) on 8 samples at once equals the
    same on 4 shards of 2 (shards simulated by a named vmap axis, as shard_map's)."""
    from jaxgan.regularizers import make_diffaugment, make_instance_noise
    from jaxgan.step import per_sample

    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 3)), jnp.float32)
    key = jax.random.PRNGKey(5)
    aug, noise = make_diffaugment("color,translation,cutout"), make_instance_noise(0.3)
    for fn in (aug, lambda k, xx: noise(k, jnp.asarray(0), xx)):
        whole = per_sample(fn, key, x, None)
        split = jax.vmap(lambda xs, fn=fn: per_sample(fn, key, xs, "data"),
                         axis_name="data")(x.reshape(4, 2, 8, 8, 3)).reshape(x.shape)
        np.testing.assert_array_equal(np.asarray(split), np.asarray(whole))
        assert float(jnp.abs(whole - x).max()) > 0.1  # something was drawn


@pytest.mark.parametrize("n", [7, 8])
def test_light_signals_every_kth_iteration_keep_training_and_losses(n):
    """`scan_with_health(light_every=3)`: the light signals of iterations 3, 6, ... and
    of the last (full) one; every iteration's losses; the same training as full health.

    Compared with a plain scan of full-health iterations, whose per-iteration metrics
    give the expected sums. `health_schedule` counts the same iterations. n = 7 divides
    into groups of 3 after the last iteration, n = 8 leaves one more health-off one.
    """
    from jaxgan.diagnostics.signals import LIGHT_KEYS, LIGHT_SAMPLES, interval_means
    from jaxgan.multistep import health_schedule, scan_with_health
    from jaxgan.parts import Health

    models, loss, state = _mlp_setup()

    def make(health):
        return make_train_step(models, loss, health=health)

    batch = {"image": jnp.asarray(np.random.default_rng(2).normal(size=(n, 1, 32, 2)),
                                  jnp.float32)}
    s_a, m_a = jax.jit(scan_with_health(make, True, n, light_every=3))(state, batch)
    s_b, per_iter = jax.jit(lambda s, b: jax.lax.scan(make(True), s, b))(state, batch)
    for a, b in zip(jax.tree.leaves(s_a), jax.tree.leaves(s_b), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    sampled = [i for i in range(n) if (i + 1) % 3 == 0 and i < n - 1] + [n - 1]
    assert float(m_a[LIGHT_SAMPLES]) == len(sampled)
    counts = dict(health_schedule(True, n, 3))
    assert counts[Health.LIGHT] + counts[Health.FULL] == len(sampled)
    assert sum(counts.values()) == n
    for k in ("d_loss", "g_loss", "nonfinite"):
        np.testing.assert_allclose(m_a[k], per_iter[k].sum(), rtol=1e-5, err_msg=k)
    for k in LIGHT_KEYS:
        np.testing.assert_allclose(m_a[k], per_iter[k][np.array(sampled)].sum(), rtol=1e-5,
                                   err_msg=k)
    rec = interval_means(jax.device_get(m_a), n)
    np.testing.assert_allclose(rec["d_real_acc"], per_iter["d_real_acc"][np.array(sampled)]
                               .mean(), rtol=1e-5)
    np.testing.assert_allclose(rec["d_loss"], per_iter["d_loss"].mean(), rtol=1e-5)
    assert LIGHT_SAMPLES not in rec


def test_light_keys_are_what_the_light_step_adds_to_the_off_step():
    """`signals.LIGHT_KEYS` names exactly the signals a health-off iteration lacks and a
    light one reports, so `interval_means` divides each by the count that computed it."""
    from jaxgan.diagnostics.signals import LIGHT_KEYS, LIGHT_SAMPLES

    models, loss, state = _mlp_setup()
    batch = {"image": jnp.zeros((1, 32, 2), jnp.float32)}
    keys = {h: set(jax.eval_shape(make_train_step(models, loss, health=h), state, batch)[1])
            for h in ("off", "light")}
    assert keys["light"] - keys["off"] == LIGHT_KEYS | {LIGHT_SAMPLES}
