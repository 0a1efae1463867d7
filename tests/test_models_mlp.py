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
