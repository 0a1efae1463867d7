"""The tricks registry: every `tricks.*` field belongs to one registered trick, the
registry builds the same program the keyword tricks always built, and a trick registered
by a user reaches the run's step with no other change."""

from __future__ import annotations

from dataclasses import fields
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import regularizers as R
from jaxgan import tricks
from jaxgan.config import Config
from jaxgan.losses import get_loss
from jaxgan.parts import Term, TrickParts
from jaxgan.schema import TricksConfig
from jaxgan.state import init_state, make_models
from jaxgan.step import make_train_step


@pytest.fixture
def restore_tricks():
    saved = dict(tricks.TRICKS)
    yield
    tricks.TRICKS.clear()
    tricks.TRICKS.update(saved)


def _mlp_cfg() -> Config:
    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.hidden = 4, 8
    return cfg


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(tree))]


def test_every_tricks_field_is_owned_by_one_registered_trick():
    owned = [k for t in tricks.TRICKS.values() for k in t.keys]
    assert sorted(owned) == sorted(f.name for f in fields(TricksConfig))


def test_registry_builds_the_step_the_keyword_tricks_built():
    """Every built-in trick on at once (R1 and WGAN-GP summed as one penalty, drift, label
    smoothing and flips, instance noise, DiffAugment-free since the toys are 2-D): the
    registry's parts and the older keyword form give bit-identical states and metrics."""
    cfg = _mlp_cfg()
    t = cfg.tricks
    t.label_smoothing, t.label_flip, t.instance_noise, t.instance_noise_anneal_steps = \
        0.1, 0.2, 0.1, 8
    t.gp_weight, t.r1_gamma, t.drift_penalty, t.weight_clip = 10.0, 1.0, 1e-3, 0.05
    models = make_models(cfg)
    parts, clipped = tricks.step_parts(cfg, models)
    assert [len(parts.d_terms), len(parts.g_terms)] == [2, 0]  # drift, then the penalty
    keywords = dict(real_target=0.9, label_flip=0.2,
                    input_noise=R.make_instance_noise(0.1, 8), drift=1e-3,
                    d_penalty=R.combine_penalties(partial(R.gradient_penalty, weight=10.0),
                                                  partial(R.r1_penalty, gamma=1.0)))
    old_models = models._replace(tx_d=R.clip_params_after(models.tx_d, 0.05))
    state = init_state(models, 0, (2,))
    batch = {"image": jnp.asarray(np.random.default_rng(0).normal(size=(1, 6, 2)),
                                  jnp.float32)}
    new = jax.jit(make_train_step(clipped, get_loss("wasserstein"), parts, ema_decay=0.0))
    old = jax.jit(make_train_step(old_models, get_loss("wasserstein"), ema_decay=0.0,
                                  **keywords))
    (s1, m1), (s2, m2) = new(state, batch), old(state, batch)
    assert set(m1) == set(m2) and {"gp", "r1", "drift"} <= set(m1)
    for a, b in zip(_leaves((s1, m1)), _leaves((s2, m2)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_registered_trick_reaches_the_runs_step(restore_tricks):
    from jaxgan.data.toys import toy_ring
    from jaxgan.run import step_factory

    def fake_sq(cfg):
        if cfg.tricks.r1_gamma <= 0:  # rides on an existing switch: no schema change here
            return None
        return TrickParts(d_terms=(Term(lambda a: (jnp.mean(a.fake_logits ** 2),
                                                   {"fake_sq": jnp.mean(a.fake_logits)})),))

    tricks.register_trick("fake_sq", fake_sq)
    cfg = _mlp_cfg()
    models = make_models(cfg)
    state = init_state(models, 0, (2,))
    batch = {"image": jnp.zeros((1, 6, 1))}
    make = step_factory(cfg, models, get_loss("hinge"), toy_ring(0), None)
    assert "fake_sq" not in jax.eval_shape(make(), state, batch)[1]
    cfg.tricks.r1_gamma = 1.0
    parts, _ = tricks.step_parts(cfg, models)
    assert len(parts.d_terms) == 2  # the new term, then the (R1) penalty, last
    make = step_factory(cfg, models, get_loss("hinge"), toy_ring(0), None)
    _, metrics = jax.eval_shape(make(health=False), state, batch)
    assert {"fake_sq", "r1"} <= set(metrics)


def test_two_tricks_in_one_slot_are_refused(restore_tricks):
    tricks.register_trick("second_smoothing", lambda cfg: TrickParts(real_target=0.8))
    cfg = _mlp_cfg()
    cfg.tricks.label_smoothing = 0.1
    with pytest.raises(ValueError, match="'label_smoothing' and 'second_smoothing' both set"):
        tricks.step_parts(cfg, make_models(cfg))
