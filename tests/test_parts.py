"""The step built from parts: an extra term is one function, the older keyword tricks are
the same program as their parts, and the health level is an enum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.losses import get_loss
from jaxgan.parts import Health, LabelPolicy, StepParts, Term, parts_from_tricks
from jaxgan.regularizers import gradient_penalty
from jaxgan.step import make_train_step


def _setup():
    from jaxgan.config import Config
    from jaxgan.state import init_state, make_models

    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.hidden = 4, 8
    models = make_models(cfg)
    state = init_state(models, 0, (2,))
    batch = {"image": jnp.asarray(np.random.default_rng(0).normal(size=(1, 6, 2)),
                                  jnp.float32)}
    return models, state, batch


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(tree))]


def test_an_extra_d_term_is_one_function():
    """A term that adds 0.25 * mean(D(fake)^2) moves D's loss by exactly that, reports
    its metric, and reads the logits the step already computed."""
    models, state, batch = _setup()
    loss = get_loss("wasserstein")

    def fake_sq(a):
        v = 0.25 * jnp.mean(jnp.square(a.fake_logits))
        return v, {"fake_sq": v}

    plain = jax.jit(make_train_step(models, loss, ema_decay=0.0))
    extra = jax.jit(make_train_step(models, loss, StepParts(d_terms=(Term(fake_sq),)),
                                    ema_decay=0.0))
    _, m0 = plain(state, batch)
    _, m1 = extra(state, batch)
    assert "fake_sq" not in m0 and float(m1["fake_sq"]) > 0
    np.testing.assert_allclose(float(m1["d_loss"]) - float(m0["d_loss"]),
                               float(m1["fake_sq"]), rtol=1e-5)


def test_keyword_tricks_and_their_parts_build_the_same_step():
    models, state, batch = _setup()
    loss = get_loss("wasserstein")

    def gp(*a):
        return gradient_penalty(*a, weight=10.0)

    kwargs = dict(d_penalty=gp, drift=1e-3, label_flip=0.25, real_target=0.9)
    by_keywords = jax.jit(make_train_step(models, loss, ema_decay=0.0, **kwargs))
    parts = parts_from_tricks(**kwargs)
    assert parts.labels == LabelPolicy(0.9, 0.25) and len(parts.d_terms) == 2
    by_parts = jax.jit(make_train_step(models, loss, parts, ema_decay=0.0))
    (s1, m1), (s2, m2) = by_keywords(state, batch), by_parts(state, batch)
    for a, b in zip(_leaves((s1, m1)), _leaves((s2, m2)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert {"drift", "gp"} <= set(m2)


@pytest.mark.parametrize("value, level, heavy", [(True, Health.FULL, True),
                                                 ("light", Health.LIGHT, False),
                                                 (False, Health.OFF, None)])
def test_health_levels(value, level, heavy):
    assert Health.of(value) is level and Health.of(level) is level
    models, state, batch = _setup()
    _, m = jax.eval_shape(make_train_step(models, get_loss("hinge"),
                                          StepParts(health=level)), state, batch)
    assert ("g_param_norm" in m) is bool(heavy) and ("d_grad_norm" in m) is (heavy is not None)
    assert "nonfinite" in m
