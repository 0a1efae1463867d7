"""The fast DCGAN layer formulations compute the plain layers' functions exactly.

`UpConv(mode="phase" | "col2im" | "fast")` and `DownConv(mode="s2d")` exist only for
speed (and are the defaults); every mode must give the same DCGAN. Each is compared with
the textbook formulation (`lax.conv_transpose` / strided `lax.conv`) on the same
parameters: values and gradients with respect to both input and kernel, to float32
rounding (relative to the output scale).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import Config
from jaxgan.models import build_models
from jaxgan.models.layers import DownConv, UpConv

RTOL = 2e-5  # max abs error / max abs value; float32 sums of up to 16 * 64 terms


def _rel(a: jax.Array, b: jax.Array) -> float:
    return float(jnp.max(jnp.abs(a - b)) / jnp.maximum(jnp.max(jnp.abs(b)), 1e-30))


def _value_and_grads(module, params, x, probe):
    def f(p, x):
        y = module.apply(p, x)
        return jnp.sum(y * probe), y

    (_, y), grads = jax.value_and_grad(f, argnums=(0, 1), has_aux=True)(params, x)
    return y, grads


@pytest.mark.parametrize("shape,cout,mode", [((3, 4, 4, 8), 5, "phase"),
                                             ((2, 5, 3, 4), 3, "phase"),
                                             ((3, 4, 4, 8), 5, "col2im"),
                                             ((2, 5, 3, 4), 3, "col2im"),
                                             ((2, 8, 6, 4), 16, "fast"),  # phase path
                                             ((2, 4, 4, 4), 3, "fast"),  # col2im path
                                             ((2, 4, 4, 4), 3, "subpixel")])
def test_upconv_modes_equal_transpose(shape, cout, mode):
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    ref = UpConv(cout, "transpose")
    params = ref.init(jax.random.PRNGKey(1), x)
    params = jax.tree.map(lambda w: w * 50.0, params)  # O(1) weights: errors are visible
    probe = jax.random.normal(jax.random.PRNGKey(2), (shape[0], 2 * shape[1], 2 * shape[2],
                                                       cout))
    y_ref, (gp_ref, gx_ref) = _value_and_grads(ref, params, x, probe)
    y, (gp, gx) = _value_and_grads(UpConv(cout, mode), params, x, probe)
    assert y.shape == y_ref.shape
    assert _rel(y, y_ref) < RTOL
    assert _rel(gx, gx_ref) < RTOL
    assert _rel(gp["params"]["kernel"], gp_ref["params"]["kernel"]) < RTOL


@pytest.mark.parametrize("shape,cout", [((3, 8, 8, 3), 4), ((2, 4, 6, 5), 2)])
def test_downconv_s2d_equals_strided_conv(shape, cout):
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    ref = DownConv(cout, "conv")
    params = jax.tree.map(lambda w: w * 50.0, ref.init(jax.random.PRNGKey(1), x))
    probe = jax.random.normal(jax.random.PRNGKey(2), (shape[0], shape[1] // 2,
                                                       shape[2] // 2, cout))
    y_ref, (gp_ref, gx_ref) = _value_and_grads(ref, params, x, probe)
    y, (gp, gx) = _value_and_grads(DownConv(cout, "s2d"), params, x, probe)
    assert _rel(y, y_ref) < RTOL
    assert _rel(gx, gx_ref) < RTOL
    assert _rel(gp["params"]["kernel"], gp_ref["params"]["kernel"]) < RTOL


def test_downconv_conv_mode_equals_flax_conv():
    """DownConv("conv") is nn.Conv(4, stride 2, pad 1, no bias): same params, same output."""
    from flax import linen as nn

    x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 3))
    conv = nn.Conv(4, (4, 4), (2, 2), padding=((1, 1), (1, 1)), use_bias=False)
    params = conv.init(jax.random.PRNGKey(1), x)
    np.testing.assert_allclose(DownConv(4, "conv").apply(params, x), conv.apply(params, x),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("up", ["phase", "fast"])
def test_dcgan_fast_modes_same_model(up):
    """A whole DCGAN with the fast modes has the same parameter tree and the same outputs."""
    plain, fast = Config(), Config()
    for c in (plain, fast):
        c.data.resolution, c.data.channels = 16, 3
        c.model.g_width = c.model.d_width = 8
    plain.model.upsample, plain.model.downsample = "transpose", "conv"
    fast.model.upsample, fast.model.downsample = up, "s2d"
    (g0, d0), (g1, d1) = build_models(plain), build_models(fast)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 100))
    gv = g0.init(jax.random.PRNGKey(1), z, train=False)
    assert jax.tree.structure(gv) == jax.tree.structure(g1.init(jax.random.PRNGKey(1), z,
                                                               train=False))
    x0, _ = g0.apply(gv, z, mutable=["batch_stats"])
    x1, _ = g1.apply(gv, z, mutable=["batch_stats"])
    assert _rel(x1, x0) < 1e-4
    dv = d0.init(jax.random.PRNGKey(2), x0, train=False)
    assert jax.tree.structure(dv) == jax.tree.structure(d1.init(jax.random.PRNGKey(2), x0,
                                                               train=False))

    def d_loss(d, params, x):
        out, _ = d.apply({**dv, "params": params}, x, mutable=["batch_stats", "intermediates"])
        return jnp.mean(jax.nn.softplus(-out))

    l0, g_0 = jax.value_and_grad(lambda p: d_loss(d0, p, x0))(dv["params"])
    l1, g_1 = jax.value_and_grad(lambda p: d_loss(d1, p, x0))(dv["params"])
    assert abs(float(l0 - l1)) < 1e-5
    for a, b in zip(jax.tree.leaves(g_1), jax.tree.leaves(g_0), strict=True):
        assert _rel(a, b) < 1e-4
