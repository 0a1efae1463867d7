"""StyleGAN2's modules: shapes and widths, w_avg tracking, style mixing, truncation in W
(also through `jaxgan sample`'s path), the path-length penalty against numpy on a linear
synthesis (value, running mean and gradient), lazy regularization under lax.cond, the
family's rules and presets. The whole family training is in test_models_stylegan2_train."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from jaxgan import config as C
from jaxgan.config import ConfigError
from jaxgan.models.stylegan2 import (
    W_AVG_BETA,
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    channels_at,
    lazy_optim,
    num_ws,
)
from jaxgan.models.stylegan2_reg import PL_DECAY, path_length_parts
from jaxgan.parts import GRegInputs, Term, TermInputs, lazy_term


def _tiny_g(res: int = 8, **kw) -> StyleGAN2Generator:
    return StyleGAN2Generator(res, 1, width=8, w_dim=6, mapping_layers=2, **kw)


def _init(g, z):
    """Variables of G's shapes filled by numpy (faster than running init's ops here)."""
    rng = np.random.default_rng(1)
    v = jax.eval_shape(lambda z: g.init(jax.random.PRNGKey(1), z, None, train=False), z)
    v = jax.tree.map(lambda s: jnp.asarray(rng.normal(size=s.shape), s.dtype), v)
    return {**v, "batch_stats": jax.tree.map(jnp.zeros_like, v["batch_stats"])}


def _styles(g, v, z, train):
    return np.asarray(jax.jit(lambda v, z: g.apply(v, z, None, train, method="styles"))(v, z))


@pytest.fixture(scope="module")
def tiny():
    g = _tiny_g()
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 5))
    return g, z, _init(g, z)


@pytest.mark.parametrize("res", [8, 16])
def test_generator_and_discriminator_shapes(res):
    """Shapes only (jax.eval_shape: nothing runs)."""
    g = _tiny_g(res)
    z = jax.ShapeDtypeStruct((4, 5), jnp.float32)
    v = jax.eval_shape(lambda z: g.init(jax.random.PRNGKey(1), z, None, train=False), z)
    img = jax.eval_shape(lambda v, z: g.apply(v, z, None, train=False), v, z)
    assert img.shape == (4, res, res, 1) and num_ws(res) == 2 * int(math.log2(res)) - 2
    p = v["params"]
    assert f"b{res}_torgb" in p["synthesis_net"] and "fc1" in p["mapping_net"]
    assert set(v["batch_stats"]) == {"w_avg", "pl_mean"}
    d = StyleGAN2Discriminator(res, width=8, mbstd_group=2)
    dv = jax.eval_shape(lambda x: d.init(jax.random.PRNGKey(2), x), img)
    assert jax.eval_shape(d.apply, dv, img).shape == (4,)
    assert dv["params"]["b4_conv"]["kernel"].shape[2] == channels_at(4, 8) + 1  # + stddev
    assert [channels_at(r, 512) for r in (4, 32, 64, 256)] == [512, 512, 256, 64]


def test_w_avg_moves_towards_the_batch_mean_of_w_in_training_only(tiny):
    g, z, v = tiny
    w = _styles(g, v, z, False)[:, 0]

    @jax.jit
    def stats(v, z):
        return [g.apply(v, z, None, train=t, method="styles", update_avg=t,
                        mutable=["batch_stats"])[1]["batch_stats"]["w_avg"]
                for t in (True, False)]

    trained, inferred = stats(v, z)
    np.testing.assert_allclose(np.asarray(trained), (1 - W_AVG_BETA) * w.mean(axis=0),
                               rtol=1e-5, atol=1e-8)
    assert not np.any(np.asarray(inferred))


def test_style_mixing_switches_each_sample_to_a_second_w_at_one_layer():
    g = _tiny_g(16, mixing=1.0)
    z = jax.random.normal(jax.random.PRNGKey(3), (16, 5))
    v = _init(g, z)
    plain, mixed = _styles(g, v, z, False), _styles(g, v, z, True)
    cuts = []
    for i in range(16):
        same = np.all(np.isclose(mixed[i], plain[i]), axis=-1)
        c = int(np.argmin(same))
        assert 1 <= c < num_ws(16) and same[:c].all() and not same[c:].any()
        assert np.allclose(mixed[i, c:], mixed[i, c])  # one second w for the rest
        cuts.append(c)
    assert len(set(cuts)) > 1  # per sample
    np.testing.assert_array_equal(_styles(g.clone(mixing=0.0), v, z, True), plain)


def test_truncation_psi_pulls_w_to_w_avg_and_sampling_uses_it(tiny):
    from jaxgan.sampling import generate
    from jaxgan.state import GANModels, GANState

    g, z, v = tiny
    w_avg = jnp.linspace(-1.0, 1.0, 6)
    stats = {**v["batch_stats"], "w_avg": w_avg}
    var = {"params": v["params"], "batch_stats": stats}
    ws = _styles(g, var, z, False)
    half = _styles(g.clone(truncation_psi=0.5), var, z, False)
    np.testing.assert_allclose(half, 0.5 * (ws + np.asarray(w_avg)), rtol=1e-5, atol=1e-6)
    quiet = jax.tree_util.tree_map_with_path(  # no noise: samples differ by w alone
        lambda p, x: x * 0 if "noise_strength" in jax.tree_util.keystr(p) else x, v["params"])
    models = GANModels(g, nn.Dense(1), None, None, 5, 0)
    state = GANState(jnp.zeros((), jnp.int32), quiet, None, stats, None, None, None,
                     quiet, jnp.zeros(2, jnp.uint32))
    out = generate(models, state, 4, seed=0, truncation=1e-9)  # psi ~0: every sample w_avg
    assert np.ptp(out, axis=0).max() < 1e-4
    assert np.ptp(generate(models, state, 4, seed=0), axis=0).max() > 1e-3


class LinearStyles(nn.Module):
    """A G with StyleGAN2's protocol and a linear synthesis: img = einsum(ws, A), so
    J^T y = einsum(A, y) in closed form."""

    def setup(self):
        self.a = self.param("a", nn.initializers.normal(1.0), (2, 3, 3, 3, 1))

    def styles(self, z, y, train):
        return z.reshape(z.shape[0], 2, 3)

    def synthesize(self, ws, z):
        return jnp.einsum("nlw,lwhvc->nhvc", ws, self.a)

    def __call__(self, z, y=None, train=True):
        return self.synthesize(self.styles(z, y, train), z)


def _np_pl(a, ys, weight, every, old):
    g = np.einsum("lwhvc,nhvc->nlw", a, ys)
    lengths = np.sqrt(np.mean(np.sum(g ** 2, axis=2), axis=1))
    new = old + (lengths.mean() - old) * PL_DECAY
    return np.mean((lengths - new) ** 2) * weight * every, new


def test_path_length_penalty_value_running_mean_and_gradient_match_numpy():
    cfg = C.Config()
    cfg.model.generator = "stylegan2"
    cfg.model.stylegan.pl_weight, cfg.model.stylegan.pl_every = 2.0, 4
    cfg.model.stylegan.pl_batch_shrink = 2
    (reg,) = path_length_parts(cfg).g_regs
    g = LinearStyles()
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 6))
    params = g.init(jax.random.PRNGKey(1), z)["params"]
    keys = jax.random.split(jax.random.PRNGKey(2), 4)
    stats = {"pl_mean": jnp.asarray(0.3), "w_avg": jnp.zeros(3)}

    def run(p):
        return reg.fn(GRegInputs(g, p, stats, z, jnp.zeros(4, jnp.int32), lambda: keys,
                                 lambda x: x))

    value, (metrics, new_stats) = run(params)
    a = np.asarray(params["a"], np.float64)
    ys = np.stack([np.asarray(jax.random.normal(k, (3, 3, 1))) for k in keys[::2]]) / 3.0
    want, new = _np_pl(a, ys, 2.0, 4, 0.3)  # every 2nd sample of the batch, y / sqrt(HW)
    np.testing.assert_allclose(float(value), want, rtol=1e-4)
    np.testing.assert_allclose(float(new_stats["pl_mean"]), new, rtol=1e-5)
    assert float(metrics["pl_mean"]) == float(new_stats["pl_mean"]) and reg.every == 4
    grad = np.asarray(jax.grad(lambda p: run(p)[0])(params)["a"])
    eps, fd = 1e-5, np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = eps
        fd[i] = (_np_pl(a + e, ys, 2.0, 4, 0.3)[0] - _np_pl(a - e, ys, 2.0, 4, 0.3)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=2e-3, atol=1e-4)
    assert reg.idle(new_stats)["pl_mean"] is new_stats["pl_mean"]


def test_lazy_term_runs_every_k_updates_scaled_by_k_under_lax_cond():
    term = Term(lambda a: (jnp.sum(a.d_params ** 2), {"r1": jnp.sum(a.d_params ** 2)}))
    lazy = lazy_term(term, 4)

    @jax.jit
    def value_and_grad(p, step):
        return jax.value_and_grad(lambda q: lazy.fn(TermInputs(d_params=q, step=step))[0])(p)

    p = jnp.asarray([1.0, -2.0])
    got = [value_and_grad(p, jnp.asarray(s)) for s in (0, 1, 3, 4)]
    assert [float(v) for v, _ in got] == [20.0, 0.0, 0.0, 20.0]
    np.testing.assert_allclose(np.asarray(got[0][1]), 4 * 2 * np.asarray(p))
    assert not np.any(np.asarray(got[1][1]))
    assert lazy_term(term, 1) is term
    assert float(lazy.fn(TermInputs(d_params=p, step=jnp.asarray(8)))[1]["r1"]) == 20.0


def test_lazy_optim_is_the_reference_mb_ratio():
    c = lazy_optim(C.OptimConfig(lr=0.0025, b1=0.0, b2=0.99), 16)
    assert math.isclose(c.lr, 0.0025 * 16 / 17) and c.b1 == 0.0
    assert math.isclose(c.b2, 0.99 ** (16 / 17))


def test_family_rules_and_presets():
    from jaxgan.models import DISCRIMINATORS, FAMILIES, GENERATORS, build_models

    assert {"stylegan2"} <= set(FAMILIES) & set(GENERATORS) & set(DISCRIMINATORS)
    for name in ("stylegan2_digits", "stylegan2_cifar10", "stylegan2_ffhq256"):
        cfg = C.resolve(name)
        g, d = build_models(cfg)
        assert type(g).__name__ == "StyleGAN2Generator" and g.truncation_psi == 1.0
        assert cfg.tricks.r1_every == 16 and cfg.optim.g.b1 == 0.0
    assert C.resolve("stylegan2_ffhq256").model.stylegan.pl_weight == 2.0
    with pytest.raises(ConfigError, match="multiple of model.stylegan.mbstd_group=32"):
        C.resolve("stylegan2_cifar10", ["train.batch_size=48"])
    with pytest.raises(ConfigError, match="stylegan.mixing is a probability"):
        C.resolve("stylegan2_digits", ["model.stylegan.mixing=1.5"])
    with pytest.raises(ConfigError, match="regularizes StyleGAN2's W space"):
        C.resolve("dcgan_digits", ["model.stylegan.pl_weight=2"])
    with pytest.raises(ConfigError, match="tricks.r1_every must be a positive"):
        C.resolve("stylegan2_digits", ["tricks.r1_every=0"])
