"""Model shapes, gradients, the DCGAN layout, and the fast up-convolution's exactness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import Config
from jaxgan.models import build_models
from jaxgan.models.layers import UpConv


@pytest.mark.parametrize("res", [8, 16, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_every_resolution(res, channels):
    cfg = Config()
    cfg.data.resolution, cfg.data.channels = res, channels
    cfg.model.g_width = cfg.model.d_width = 4
    g, d = build_models(cfg)
    z = jnp.zeros((2, cfg.model.latent_dim))
    g_vars = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), z, None, train=False))
    out = jax.eval_shape(lambda v: g.apply(v, z, None, train=False), g_vars)
    assert out.shape == (2, res, res, channels)
    x = jnp.zeros((2, res, res, channels))
    d_vars = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), x, None, train=False))
    logits = jax.eval_shape(lambda v: d.apply(v, x, None, train=False), d_vars)
    assert logits.shape == (2,)


def test_dcgan64_matches_pytorch_reference_layout():
    """pytorch/examples DCGAN at 64x64: G 100->512->256->128->64->3, D 3->64->128->256->512->1."""
    cfg = Config()
    cfg.data.resolution, cfg.data.channels = 64, 3
    g, d = build_models(cfg)
    gv = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((1, 100)), None,
                                       train=False))
    dv = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), jnp.zeros((1, 64, 64, 3)), None,
                                       train=False))
    gp = gv["params"]
    assert gp["Dense_0"]["kernel"].shape == (100, 4 * 4 * 512)
    assert [gp[f"up{i}"]["kernel"].shape[-1] for i in range(3)] == [256, 128, 64]
    assert gp["to_image"]["kernel"].shape == (4, 4, 64, 3)
    dp = dv["params"]
    assert [dp[f"down{i}"]["kernel"].shape[-1] for i in range(4)] == [64, 128, 256, 512]
    assert dp["logit"]["kernel"].shape == (4, 4, 512, 1)
    n_g = sum(np.prod(x.shape) for x in jax.tree.leaves(gp))
    n_d = sum(np.prod(x.shape) for x in jax.tree.leaves(dp))
    # PyTorch reference counts (BN affine included): G 3,576,704, D 2,765,568.
    assert (n_g, n_d) == (3576704, 2765568)


def test_up_conv_subpixel_equals_transpose_and_pytorch_formula():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 3))
    plain, fast = UpConv(4, "transpose"), UpConv(4, "subpixel")
    params = plain.init(jax.random.PRNGKey(1), x)
    y_plain, y_fast = plain.apply(params, x), fast.apply(params, x)
    assert y_fast.shape == (2, 10, 12, 4)
    np.testing.assert_allclose(y_fast, y_plain, atol=1e-6)
    # PyTorch ConvTranspose2d(k=4, s=2, p=1): out[2i+ki-1, 2j+kj-1] += x[i, j] W[ki, kj]
    w, xn = np.asarray(params["params"]["kernel"]), np.asarray(x)
    ref = np.zeros((2, 10, 12, 4))
    for i in range(5):
        for j in range(6):
            for ki in range(4):
                for kj in range(4):
                    o1, o2 = 2 * i + ki - 1, 2 * j + kj - 1
                    if 0 <= o1 < 10 and 0 <= o2 < 12:
                        ref[:, o1, o2] += xn[:, i, j] @ w[3 - ki, 3 - kj]
    np.testing.assert_allclose(y_plain, ref, atol=1e-5)
    # gradients agree too, so training is the same whichever program runs
    def loss(p, m):
        return jnp.sum(jnp.sin(m.apply(p, x)))
    g_plain, g_fast = jax.grad(loss)(params, plain), jax.grad(loss)(params, fast)
    np.testing.assert_allclose(g_fast["params"]["kernel"], g_plain["params"]["kernel"],
                               atol=1e-5)


@pytest.mark.parametrize("name", ["dcgan", "mlp"])
def test_gradients_flow_to_every_parameter(name):
    cfg = Config()
    cfg.model.generator = cfg.model.discriminator = name
    cfg.data.resolution, cfg.model.g_width, cfg.model.d_width = 8, 8, 8
    g, d = build_models(cfg)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, cfg.model.latent_dim))
    gv = g.init(jax.random.PRNGKey(1), z, None, train=False)
    x = g.apply(gv, z, None, train=False)
    dv = d.init(jax.random.PRNGKey(2), x, None, train=False)

    def loss(gp, dp):
        fake, _ = g.apply({**gv, "params": gp}, z, None, train=True, mutable=["batch_stats"])
        logits, _ = d.apply({**dv, "params": dp}, fake, None, train=True,
                            mutable=["batch_stats", "intermediates"])
        return jnp.mean(logits ** 2)

    grads = jax.grad(loss, argnums=(0, 1))(gv["params"], dv["params"])
    for leaf in jax.tree.leaves(grads):
        assert np.all(np.isfinite(leaf))
        assert np.abs(leaf).sum() > 0
    if name == "dcgan":
        assert float(jnp.max(jnp.abs(x))) <= 1.0  # tanh output
