"""The MLP discriminator's first-layer bias init (`model.mlp.bias_init`, issue 13)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import Config
from jaxgan.models import build_models


def _d_params(bias_init: float, sn: bool = False) -> dict:
    cfg = Config()
    cfg.data.source = "toy_grid"
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.mlp.hidden, cfg.model.mlp.depth, cfg.model.pack = 512, 2, 4
    cfg.model.mlp.bias_init, cfg.model.spectral_norm = bias_init, sn
    _, d = build_models(cfg)
    return d.init(jax.random.PRNGKey(0), jnp.zeros((8, 2)), train=False)["params"]["inner"]


@pytest.mark.parametrize("sn", [False, True])
def test_first_layer_biases_are_drawn_with_the_configured_std(sn):
    p = _d_params(2.0, sn)
    b0 = np.asarray(p["Dense_0"]["bias"])
    assert b0.shape == (512,) and abs(b0.std() - 2.0) < 0.2 and abs(b0.mean()) < 0.3
    assert not np.any(np.asarray(p["Dense_1"]["bias"]))  # deeper layers keep zeros
    assert not np.any(np.asarray(p["Dense_2"]["bias"]))
    kernel = np.asarray(p["Dense_0"]["kernel"])  # the kernel init is unchanged
    np.testing.assert_array_equal(kernel, np.asarray(_d_params(0.0, sn)["Dense_0"]["kernel"]))


def test_default_keeps_zero_biases_and_a_homogeneous_first_layer():
    """Zero biases: every first-layer ReLU kink passes through the origin, so the first
    layer's output scales exactly with the input (h(2x) = 2 h(x)); random biases break it."""
    for s, homogeneous in ((0.0, True), (2.0, False)):
        p = _d_params(s)
        assert bool(np.any(np.asarray(p["Dense_0"]["bias"]))) == (s > 0)
        x = jax.random.normal(jax.random.PRNGKey(1), (16, 8)) * 3
        w, b = p["Dense_0"]["kernel"], p["Dense_0"]["bias"]
        h = lambda v, w=w, b=b: jax.nn.relu(v @ w + b)  # noqa: E731
        assert np.allclose(h(2 * x), 2 * h(x), atol=1e-5) == homogeneous


def _g(categories: int, latent: int = 16):
    cfg = Config()
    cfg.data.source = "toy_grid"
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.latent_categories = latent, categories
    g, _ = build_models(cfg)
    return g, g.init(jax.random.PRNGKey(0), jnp.zeros((2, latent)))


def test_latent_categories_make_g_read_a_one_hot_code_of_the_first_k_entries():
    """`model.mlp.latent_categories=K`: with the Gaussian entries past K held fixed, 1,000
    latents give at most K distinct outputs (one per argmax of the first K entries), and
    changing those K entries without changing their argmax changes nothing; off (0), the
    same 1,000 latents give 1,000 distinct outputs."""
    k = 5
    z = jax.random.normal(jax.random.PRNGKey(1), (1000, 16))
    z_fixed_rest = z.at[:, k:].set(0.3)
    g, params = _g(k)
    out = np.asarray(g.apply(params, z_fixed_rest))
    assert len(np.unique(out.round(6), axis=0)) == k
    code = jax.nn.one_hot(jnp.argmax(z[:, :k], -1), k)
    same_argmax = z.at[:, :k].set(code * 10.0 - 1.0)  # other values, same argmax
    np.testing.assert_array_equal(out, np.asarray(g.apply(params, same_argmax.at[:, k:]
                                                          .set(0.3))))
    g0, params0 = _g(0)
    assert len(np.unique(np.asarray(g0.apply(params0, z_fixed_rest)).round(6), axis=0)) == 1000
    # the parameters have the same shapes either way (a one-hot replaces K Gaussian inputs)
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, params0)


@pytest.mark.parametrize("k", [-1, 1, 17])
def test_latent_categories_outside_2_to_latent_dim_is_refused(k):
    from jaxgan.config import validate
    from jaxgan.errors import ConfigError

    cfg = Config()
    cfg.data.source = "toy_grid"
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.latent_categories = 16, k
    with pytest.raises(ConfigError, match="model.mlp.latent_categories"):
        validate(cfg)
