"""dcgan_fc: InfoGAN's MNIST networks without codes, the default job's model."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import ConfigError, resolve
from jaxgan.models import build_models
from jaxgan.models.infogan import InfoGANDiscriminator, InfoGANGenerator


def _cfg(*overrides: str):
    return resolve("dcgan_digits", list(overrides), 1)


@pytest.mark.parametrize("res", [8, 16, 32])
def test_shapes_and_the_missing_q_head(res):
    g, d = build_models(_cfg(f"data.resolution={res}"))
    z = jax.random.normal(jax.random.PRNGKey(0), (3, 64))
    gv = g.init(jax.random.PRNGKey(1), z, train=False)
    x = g.apply(gv, z, train=False)
    assert x.shape == (3, res, res, 1)
    assert float(jnp.abs(x).max()) <= 1.0  # tanh output
    dv = d.init(jax.random.PRNGKey(2), x, train=False)
    logits, inter = d.apply(dv, x, train=False, mutable=["intermediates"])
    assert logits.shape == (3,) and logits.dtype == jnp.float32
    assert "q" not in inter["intermediates"]  # no codes, no recognition network
    assert inter["intermediates"]["features"][0].shape == (3, 1024)
    assert not any("q_" in k for k in dv["params"])


def test_same_networks_as_infogan_with_its_codes_removed():
    """Same parameter tree as InfoGAN's modules built with zero codes, and the same map."""
    g, d = build_models(_cfg())
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 64))
    ref_g, ref_d = InfoGANGenerator(8, 1, 32, 0, 0), InfoGANDiscriminator(8, 32, 0, 0)
    gv = g.init(jax.random.PRNGKey(1), z, train=False)
    assert jax.tree.structure(gv) == jax.tree.structure(
        ref_g.init(jax.random.PRNGKey(1), z, train=False))
    np.testing.assert_array_equal(g.apply(gv, z, train=False),
                                  ref_g.apply(gv, z, train=False))
    x = g.apply(gv, z, train=False)
    dv = d.init(jax.random.PRNGKey(2), x, train=False)
    np.testing.assert_array_equal(d.apply(dv, x, train=False), ref_d.apply(dv, x, train=False))


def test_config_refuses_what_the_family_cannot_do():
    with pytest.raises(ConfigError, match="spectral_norm"):
        _cfg("model.spectral_norm=true")
    with pytest.raises(ConfigError, match="pack"):
        _cfg("model.pack=2")
