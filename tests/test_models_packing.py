"""PacGAN packing (`model.pack`): D judges groups of consecutive samples jointly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import Config, ConfigError, validate
from jaxgan.models import build_models
from jaxgan.models.mlp import MLPDiscriminator
from jaxgan.models.packing import Packed, pack_inputs


def test_pack_inputs_puts_group_members_side_by_side_in_the_last_axis():
    x = np.arange(6 * 3 * 3 * 2, dtype=np.float32).reshape(6, 3, 3, 2)
    got = np.asarray(pack_inputs(jnp.asarray(x), 3))
    want = np.stack([np.concatenate([x[3 * i + j] for j in range(3)], axis=-1)
                     for i in range(2)])
    np.testing.assert_array_equal(got, want)
    v = np.arange(8 * 2, dtype=np.float32).reshape(8, 2)
    np.testing.assert_array_equal(np.asarray(pack_inputs(jnp.asarray(v), 4)),
                                  v.reshape(2, 8))


def test_packed_logit_is_the_inner_logit_of_the_group_repeated():
    inner = MLPDiscriminator(hidden=16, depth=2)
    packed = Packed(MLPDiscriminator(hidden=16, depth=2), 4)
    x = jax.random.normal(jax.random.PRNGKey(0), (8, 2))
    params = packed.init(jax.random.PRNGKey(1), x[:2], train=False)  # init with batch 2
    out = np.asarray(packed.apply(params, x, train=False))
    ref = np.asarray(inner.apply({"params": params["params"]["inner"]}, x.reshape(2, 8),
                                 train=False))
    assert out.shape == (8,)
    np.testing.assert_allclose(out, np.repeat(ref, 4), rtol=1e-6)
    # a group's logit depends on every member: change one sample, its 3 partners move too
    x2 = x.at[5].add(1.0)
    out2 = np.asarray(packed.apply(params, x2, train=False))
    np.testing.assert_array_equal(out2[:4], out[:4])
    assert np.all(out2[4:] != out[4:])


def test_build_models_wraps_the_dcgan_discriminator():
    cfg = Config()
    cfg.data.resolution, cfg.model.d_width, cfg.model.g_width = 16, 8, 8
    cfg.model.pack = 2
    _, d = build_models(cfg)
    x = jnp.zeros((4, 16, 16, 1))
    variables = d.init(jax.random.PRNGKey(0), x, train=False)
    first = variables["params"]["inner"]
    kernel = jax.tree.leaves(first)[0]
    assert isinstance(d, Packed)
    # the first convolution reads pack * channels = 2 input channels
    assert any(np.ndim(k) == 4 and k.shape[2] == 2 for k in jax.tree.leaves(first)), kernel
    assert d.apply(variables, x, train=False).shape == (4,)


@pytest.mark.parametrize("changes, message", [
    ({"pack": 0}, "model.pack must be a positive integer"),
    ({"pack": 2, "num_classes": 10}, "model.pack=2 works with unconditional"),
])
def test_bad_pack_is_refused(changes, message):
    cfg = Config()
    for k, v in changes.items():
        setattr(cfg.model, k, v)
    with pytest.raises(ConfigError, match=message):
        validate(cfg, 1)


def test_pack_must_divide_the_per_device_batch():
    cfg = Config()
    cfg.model.pack, cfg.train.batch_size = 4, 24
    with pytest.raises(ConfigError, match="per-device batch"):
        validate(cfg, 4)  # 6 samples per device
    validate(cfg, 2)  # 12 per device
