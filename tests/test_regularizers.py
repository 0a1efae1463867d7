"""Stabilization tricks against independent references (numpy, finite differences)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import regularizers as R

B, H, W, C = 3, 4, 4, 1
RNG = np.random.default_rng(0)
W1 = RNG.normal(size=(H * W * C, 5)) * 0.5
V1 = RNG.normal(size=(5,))


def np_logits(x: np.ndarray) -> np.ndarray:
    """A smooth two-layer critic in float64 numpy: the independent reference."""
    return np.tanh(x.reshape(x.shape[0], -1) @ W1) @ V1


def jax_logits(params, x, y):
    del y
    w1, v1 = params
    return jnp.tanh(x.reshape(x.shape[0], -1) @ w1) @ v1


PARAMS = (jnp.asarray(W1, jnp.float32), jnp.asarray(V1, jnp.float32))


def fd_grad(x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central finite differences of sum_i D(x_i) w.r.t. every input coordinate."""
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    for j in range(flat.size):
        e = np.zeros_like(flat)
        e[j] = h
        g.reshape(-1)[j] = (np_logits((flat + e).reshape(x.shape)).sum()
                            - np_logits((flat - e).reshape(x.shape)).sum()) / (2 * h)
    return g


def test_gradient_penalty_matches_finite_differences():
    real = RNG.normal(size=(B, H, W, C))
    fake = RNG.normal(size=(B, H, W, C))
    keys = jax.random.split(jax.random.PRNGKey(3), B)  # one per sample, as the step gives
    pen, m = R.gradient_penalty(jax_logits, PARAMS, jnp.asarray(real, jnp.float32),
                                jnp.asarray(fake, jnp.float32), jnp.zeros(B, jnp.int32), keys,
                                weight=10.0)
    eps = np.array([float(jax.random.uniform(k, ())) for k in keys]).reshape(B, 1, 1, 1)
    x_hat = eps * real + (1 - eps) * fake
    norms = np.sqrt((fd_grad(x_hat) ** 2).reshape(B, -1).sum(-1))
    ref = 10.0 * np.mean((norms - 1.0) ** 2)
    assert ref > 0.1  # a non-trivial value
    np.testing.assert_allclose(float(pen), ref, rtol=1e-4)
    np.testing.assert_allclose(float(m["gp_grad_norm"]), norms.mean(), rtol=1e-4)


def test_r1_penalty_matches_finite_differences():
    real = RNG.normal(size=(B, H, W, C))
    pen, m = R.r1_penalty(jax_logits, PARAMS, jnp.asarray(real, jnp.float32), None,
                          jnp.zeros(B, jnp.int32), None, gamma=4.0)
    ref = 0.5 * 4.0 * np.mean((fd_grad(real) ** 2).reshape(B, -1).sum(-1))
    np.testing.assert_allclose(float(pen), ref, rtol=1e-4)
    np.testing.assert_allclose(float(m["r1"]), ref, rtol=1e-4)


def test_combined_penalty_is_the_sum():
    real = jnp.asarray(RNG.normal(size=(B, H, W, C)), jnp.float32)
    fake = jnp.asarray(RNG.normal(size=(B, H, W, C)), jnp.float32)
    y, key = jnp.zeros(B, jnp.int32), jax.random.split(jax.random.PRNGKey(0), B)
    both = R.combine_penalties(lambda *a: R.r1_penalty(*a, gamma=2.0), None)
    pen, m = both(jax_logits, PARAMS, real, fake, y, key)
    alone, _ = R.r1_penalty(jax_logits, PARAMS, real, fake, y, key, gamma=2.0)
    np.testing.assert_allclose(float(pen), float(alone), rtol=1e-6)
    assert R.combine_penalties(None, None) is None


# ----------------------------------------------------------------------------- DiffAugment

def test_translation_moves_a_pixel_by_the_drawn_shift():
    h = w = 16
    x = jnp.zeros((4, h, w, 1)).at[:, 8, 8, 0].set(1.0)
    key = jax.random.PRNGKey(1)
    out = R.DIFFAUGMENT_OPS["translation"](key, x)
    t = np.asarray(R.translation_params(key, 4, h, w))
    assert np.abs(t).max() <= 2 and len({tuple(r) for r in t}) > 1  # per-sample shifts
    for i in range(4):
        pos = np.argwhere(np.asarray(out[i, :, :, 0]) == 1.0)
        np.testing.assert_array_equal(pos[0], [8 - t[i, 0], 8 - t[i, 1]])


def test_cutout_zeroes_a_half_size_square():
    x = jnp.ones((64, 16, 16, 1))
    out = np.asarray(R.DIFFAUGMENT_OPS["cutout"](jax.random.PRNGKey(2), x))
    frac = 1.0 - out.reshape(64, -1).mean(-1)
    assert frac.max() == pytest.approx(0.25)  # an 8x8 hole fully inside
    assert frac.min() > 0.0 and frac.min() < 0.25  # some clipped at the border


def test_color_ranges_follow_the_reference():
    x = jnp.asarray(RNG.uniform(-1, 1, size=(256, 4, 4, 3)), jnp.float32)
    k1 = jax.random.PRNGKey(5)
    shift = np.asarray(R._brightness(k1, x) - x)[:, 0, 0, 0]
    assert -0.5 <= shift.min() < -0.4 and 0.4 < shift.max() <= 0.5
    c = R._contrast(k1, x)  # contrast keeps each image's mean
    np.testing.assert_allclose(np.asarray(c.mean((1, 2, 3))), np.asarray(x.mean((1, 2, 3))),
                               atol=1e-5)


def test_diffaugment_same_policy_and_key_give_the_same_transform_on_real_and_fake():
    """The step applies one augment function to both batches; the function's random
    parameters depend only on the key, not on the images, and are per sample."""
    aug = R.make_diffaugment("color,translation,cutout")
    real = jnp.asarray(RNG.uniform(-1, 1, size=(8, 16, 16, 3)), jnp.float32)
    fake = jnp.asarray(RNG.uniform(-1, 1, size=(8, 16, 16, 3)), jnp.float32)
    key = jax.random.PRNGKey(7)
    # Affine in the images for a fixed key: aug(a) - aug(0) is the same linear map.
    zero = aug(key, jnp.zeros_like(real))
    lin_real, lin_fake = aug(key, real) - zero, aug(key, fake) - zero
    np.testing.assert_allclose(np.asarray(aug(key, real + fake) - zero),
                               np.asarray(lin_real + lin_fake), atol=1e-5)
    # a different key: a different draw
    assert not np.allclose(np.asarray(aug(jax.random.PRNGKey(8), real)),
                           np.asarray(aug(key, real)))


def test_diffaugment_is_differentiable_wrt_the_images():
    aug = R.make_diffaugment("color,translation,cutout")
    key = jax.random.PRNGKey(11)
    x = jnp.asarray(RNG.uniform(-1, 1, size=(4, 8, 8, 3)), jnp.float32)
    dx = jnp.asarray(RNG.normal(size=x.shape), jnp.float32)
    c = jnp.asarray(RNG.normal(size=x.shape), jnp.float32)
    g = jax.grad(lambda xx: jnp.sum(c * aug(key, xx)))(x)
    # exact directional derivative of an affine map
    ref = jnp.sum(c * (aug(key, x + dx) - aug(key, x)))
    np.testing.assert_allclose(float(jnp.sum(g * dx)), float(ref), rtol=1e-3)
    assert float(jnp.abs(g).sum()) > 0


def test_policy_parsing():
    assert R.make_diffaugment("") is None
    with pytest.raises(ValueError, match="unknown DiffAugment op 'flip'"):
        R.parse_policy("color,flip")


# ----------------------------------------------------------------------------- noise etc.

def test_instance_noise_anneals_linearly_to_zero():
    f = R.make_instance_noise(0.5, anneal_steps=100)
    x = jnp.zeros((64, 8, 8, 1))
    key = jax.random.PRNGKey(0)
    for step, std in ((0, 0.5), (50, 0.25), (100, 0.0), (400, 0.0)):
        s = float(jnp.std(f(key, jnp.asarray(step), x)))
        assert s == pytest.approx(std, rel=0.03, abs=1e-6)
    const = R.make_instance_noise(0.2, 0)
    assert float(jnp.std(const(key, jnp.asarray(10_000), x))) == pytest.approx(0.2, rel=0.03)


def test_weight_clipping_keeps_d_params_in_range_and_state_shape():
    inner = optax.sgd(1.0)
    tx = R.clip_params_after(inner, 0.01)
    params = {"w": jnp.array([0.005, -0.2, 0.3])}
    state = tx.init(params)
    assert jax.tree.structure(state) == jax.tree.structure(inner.init(params))
    updates, _ = tx.update({"w": jnp.array([-1.0, 0.0, 0.001])}, state, params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(np.asarray(new["w"]), [0.01, -0.01, 0.01], atol=1e-7)


def test_tricks_contribute_nothing_when_off():
    from jaxgan.config import Config
    from jaxgan.parts import StepParts
    from jaxgan.state import make_models
    from jaxgan.tricks import step_parts

    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    models = make_models(cfg)
    parts, same = step_parts(cfg, models)
    assert parts == StepParts() and same is models
    cfg.tricks.label_smoothing, cfg.tricks.gp_weight, cfg.tricks.weight_clip = 0.1, 10.0, 0.01
    cfg.tricks.diffaugment, cfg.tricks.instance_noise, cfg.tricks.label_flip = "cutout", 0.1, 0.1
    parts, m2 = step_parts(cfg, models)
    assert parts.labels.real_target == pytest.approx(0.9) and parts.labels.flip == 0.1
    assert parts.augment is not None and parts.d_input is not None
    assert len(parts.d_terms) == 1 and parts.g_terms == ()  # the penalty
    assert m2.tx_d is not models.tx_d


# ----------------------------------------------------------------------------- in the step

def _mlp_setup():
    from jaxgan.config import Config
    from jaxgan.state import init_state, make_models

    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.hidden = 4, 8
    models = make_models(cfg)
    state = init_state(models, 0, (2,))
    batch = {"image": jnp.asarray(RNG.normal(size=(1, 6, 2)), jnp.float32)}
    return models, state, batch


def test_step_augments_and_noises_real_and_fake_alike():
    from jaxgan.losses import get_loss
    from jaxgan.step import make_train_step

    models, state, batch = _mlp_setup()
    seen = []

    def augment(key, x):
        seen.append(("augment", x.shape))
        return x

    def noise(key, step, x):
        seen.append(("noise", x.shape))
        return x + 0.0 * step

    step = make_train_step(models, get_loss("non_saturating"), augment=augment,
                           input_noise=noise)
    jax.eval_shape(step, state, batch)
    # D round: real and fake; G pass: fake -- every D input goes through both, each sample
    # alone (a batch of one under vmap, keyed by its global index: device-count invariant)
    assert seen == [("augment", (1, 2)), ("augment", (1, 2)), ("noise", (1, 2)),
                    ("noise", (1, 2)), ("augment", (1, 2)), ("noise", (1, 2))]


def test_label_flip_scores_real_samples_as_fake():
    from jaxgan.losses import get_loss
    from jaxgan.step import make_train_step

    models, state, batch = _mlp_setup()
    loss = get_loss("non_saturating")
    logits = models.discriminator.apply({"params": state.d_params}, batch["image"][0])
    out = {}
    for p in (0.0, 1.0):
        _, m = jax.jit(make_train_step(models, loss, label_flip=p, ema_decay=0.0))(state, batch)
        out[p] = float(m["d_loss_real"])
    np.testing.assert_allclose(out[0.0], float(jnp.mean(jax.nn.softplus(-logits))), rtol=1e-5)
    np.testing.assert_allclose(out[1.0], float(jnp.mean(jax.nn.softplus(logits))), rtol=1e-5)


def test_drift_penalty_adds_epsilon_times_mean_squared_real_logit():
    """ProGAN's drift term against a float64 numpy forward pass of the MLP critic: the
    D loss with drift 1e-3 minus the loss without is 1e-3 * mean(D(real)^2), and the
    critic's update differs by the drift term's gradient (plain SGD makes that exact)."""
    from jaxgan.losses import get_loss
    from jaxgan.step import make_train_step

    models, state, batch = _mlp_setup()
    models = models._replace(tx_d=optax.sgd(1.0))
    state = state.replace(d_opt_state=models.tx_d.init(state.d_params))
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), state.d_params)
    h = np.asarray(batch["image"][0], np.float64)
    for i in range(2):  # MLP critic: depth 2 ReLU layers, then one logit
        h = np.maximum(h @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"], 0.0)
    logits = (h @ p["Dense_2"]["kernel"] + p["Dense_2"]["bias"])[:, 0]
    expected = 1e-3 * np.mean(logits ** 2)
    loss = get_loss("wasserstein")
    out = {e: jax.jit(make_train_step(models, loss, drift=e, ema_decay=0.0))(state, batch)
           for e in (0.0, 1e-3)}
    (s0, m0), (s1, m1) = out[0.0], out[1e-3]
    assert "drift" not in m0
    np.testing.assert_allclose(float(m1["drift"]), expected, rtol=1e-5)
    np.testing.assert_allclose(float(m1["d_loss"]) - float(m0["d_loss"]), expected,
                               rtol=1e-4, atol=1e-9)
    # SGD(lr 1): the bias of the logit moves by -d/db [1e-3 mean(D^2)] = -2e-3 mean(D)
    # (atol: both biases are O(1) float32 numbers, their difference is good to ~1e-7)
    db = float(s1.d_params["Dense_2"]["bias"][0] - s0.d_params["Dense_2"]["bias"][0])
    np.testing.assert_allclose(db, -2e-3 * np.mean(logits), rtol=1e-4, atol=2e-7)
    assert expected > 1e-6  # the check above is not vacuous


def test_drift_penalty_is_a_config_switch_on_for_progan():
    from jaxgan import config as C
    from jaxgan.state import make_models

    cfg = C.load_preset("progan_celeba")
    assert cfg.tricks.drift_penalty == 0.001
    cfg.model.generator = cfg.model.discriminator = "mlp"
    from jaxgan.parts import TermInputs
    from jaxgan.tricks import step_parts

    parts, _ = step_parts(cfg, make_models(cfg))
    drift, _ = parts.d_terms  # then WGAN-GP's penalty, as the step always summed them
    value, metrics = drift.fn(TermInputs(real_logits=jnp.array([1.0, 3.0])))
    assert float(value) == pytest.approx(0.001 * 5.0) and set(metrics) == {"drift"}


def test_zoo_config_errors_name_the_field():
    from jaxgan import config as C

    cases = [(["tricks.diffaugment=color,flip"], "tricks.diffaugment has 'flip'"),
             (["tricks.label_smoothing=0.7"], "tricks.label_smoothing must be in [0, 0.5)"),
             (["tricks.gp_weight=-1"], "tricks.gp_weight must be >= 0"),
             (["model.generator=infogan"], "must both be 'infogan'"),
             (["model.generator=progan", "model.discriminator=progan",
               "model.progan.stage_steps=0"], "model.progan.stage_steps must be a positive"),
             (["model.generator=infogan", "model.discriminator=infogan",
               "model.infogan.categorical=10", "model.spectral_norm=true"],
              "model.spectral_norm is not available for model.discriminator=infogan")]
    for overrides, message in cases:
        with pytest.raises(C.ConfigError, match=message.replace("[", r"\[").replace(
                "(", r"\(").replace(")", r"\)")):
            C.resolve("dcgan_digits", overrides)
