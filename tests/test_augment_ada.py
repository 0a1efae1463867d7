"""ADA: the pipeline is the identity at p = 0 and keeps images in range; flips, quarter
turns and the colour transforms are what their formulas say (numpy in the test); the
bilinear warp against a numpy warp, values and gradients; the heuristic moves p as the
paper's rule on a scripted sequence of D outputs; the trick's state starts in
GANState.extra and the config rules."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import augment_ada as A
from jaxgan import config as C
from jaxgan.config import ConfigError

RNG = np.random.default_rng(0)
_aug = jax.jit(A.augment, static_argnums=3)


def _images(c, lo=-1.0, hi=1.0, n=6, size=8):
    return jnp.asarray(RNG.uniform(lo, hi, (n, size, size, c)), jnp.float32)


@pytest.mark.parametrize("c", [1, 3])
def test_identity_at_p_zero_and_in_range_at_p_one(c):
    x = _images(c)
    np.testing.assert_array_equal(np.asarray(_aug(jax.random.PRNGKey(0), x, 0.0, A.OPS)),
                                  np.asarray(x))
    y = np.asarray(_aug(jax.random.PRNGKey(1), x, 1.0, A.OPS))
    assert y.shape == x.shape and -1.0 <= y.min() and y.max() <= 1.0
    assert np.mean(np.abs(y - np.asarray(x))) > 0.1
    geo = np.asarray(_aug(jax.random.PRNGKey(2), x, 1.0, A.GEOMETRIC))  # convex combinations
    assert geo.min() >= float(x.min()) - 1e-6 and geo.max() <= float(x.max()) + 1e-6


def test_flips_and_quarter_turns_permute_pixels_exactly():
    x = np.asarray(_images(1, n=16))
    flips = np.asarray(_aug(jax.random.PRNGKey(3), jnp.asarray(x), 1.0, ("xflip",)))
    kinds = []
    for a, b in zip(x, flips, strict=True):
        kinds.append(0 if np.array_equal(a, b) else 1)
        assert kinds[-1] == 0 or np.allclose(b, a[:, ::-1], atol=1e-6)
    assert set(kinds) == {0, 1}  # applied, then a flip half of the time
    turns = np.asarray(_aug(jax.random.PRNGKey(4), jnp.asarray(x), 1.0, ("rotate90",)))
    for a, b in zip(x, turns, strict=True):
        assert any(np.allclose(b, np.rot90(a, k, axes=(0, 1)), atol=1e-5) for k in range(4))


def _deviation(x):
    """Split RGB into the luma-axis part (mean over channels) and the rest."""
    gray = x.mean(axis=-1, keepdims=True)
    return gray, x - gray


def test_colour_transforms_are_their_formulas():
    x = np.asarray(_images(3, -0.2, 0.2, n=12))
    key = jax.random.PRNGKey(5)

    def run(op):
        return np.asarray(_aug(key, jnp.asarray(x), 1.0, (op,)))

    for a, b in zip(x, run("brightness"), strict=True):  # one offset on every value
        d = b - a
        assert np.allclose(d, d.flat[0], atol=1e-5) or np.any(np.abs(b) >= 1.0)
    for a, b in zip(x, run("contrast"), strict=True):  # one factor on every value
        assert np.allclose(b, a * (b.flat[0] / a.flat[0]), atol=1e-4) or np.any(np.abs(b) >= 1)
    for a, b in zip(x, run("saturation"), strict=True):  # gray kept, the rest scaled
        (ga, da), (gb, db) = _deviation(a), _deviation(b)
        if np.all(np.abs(b) < 1):
            np.testing.assert_allclose(gb, ga, atol=1e-5)
            s = np.linalg.norm(db) / np.linalg.norm(da)
            np.testing.assert_allclose(db, da * s, atol=1e-4)
    for a, b in zip(x, run("hue"), strict=True):  # a rotation about the luma axis
        (ga, da), (gb, db) = _deviation(a), _deviation(b)
        np.testing.assert_allclose(gb, ga, atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(db, axis=-1), np.linalg.norm(da, axis=-1),
                                   rtol=1e-4, atol=1e-6)
    for a, b in zip(x, run("lumaflip"), strict=True):  # x - 2 v v^T x, or x
        (ga, da), (gb, db) = _deviation(a), _deviation(b)
        np.testing.assert_allclose(db, da, atol=1e-5)
        assert np.allclose(gb, ga, atol=1e-5) or np.allclose(gb, -ga, atol=1e-5)


def _np_warp(img, g):
    """Bilinear sampling at g @ (centred output pixel) with reflection, numpy."""
    h, w, _ = img.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.zeros_like(img)

    def refl(c, n):
        c = np.mod(c, 2 * (n - 1))
        return 2 * (n - 1) - c if c > n - 1 else c

    for i in range(h):
        for j in range(w):
            sx, sy, _ = g @ np.array([j - cx, i - cy, 1.0])
            sx, sy = refl(sx + cx, w), refl(sy + cy, h)
            x0, y0 = int(np.floor(sx)), int(np.floor(sy))
            fx, fy = sx - x0, sy - y0
            x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
            out[i, j] = ((img[y0, x0] * (1 - fx) + img[y0, x1] * fx) * (1 - fy)
                         + (img[y1, x0] * (1 - fx) + img[y1, x1] * fx) * fy)
    return out


def test_warp_matches_numpy_values_and_gradients():
    th, s = 0.4, 1.3
    g = np.array([[s * math.cos(th), -s * math.sin(th), 0.7],
                  [s * math.sin(th), s * math.cos(th), -1.2], [0, 0, 1.0]])
    img = RNG.uniform(-1, 1, (5, 5, 2))
    warp = jax.jit(A._warp)
    got = np.asarray(warp(jnp.asarray(img, jnp.float32), jnp.asarray(g, jnp.float32)))
    np.testing.assert_allclose(got, _np_warp(img, g), atol=1e-5)
    r = RNG.normal(size=img.shape)
    grad = jax.grad(lambda a: jnp.sum(warp(a, jnp.asarray(g, jnp.float32)) * r))(
        jnp.asarray(img, jnp.float32))
    fd = np.zeros_like(img)
    for i in np.ndindex(img.shape):  # linear in the image: central differences are exact
        e = np.zeros_like(img)
        e[i] = 0.5
        fd[i] = np.sum((_np_warp(img + e, g) - _np_warp(img - e, g)) * r)
    np.testing.assert_allclose(np.asarray(grad), fd, atol=1e-4)


def test_heuristic_follows_the_paper_rule_on_scripted_d_outputs():
    """4 steps of D(real) > 0 everywhere (r_t = 1 > 0.6: p up by images * 4 / (kimg *
    1000)), 4 steps at r_t = 0 (down), then 8 steps at -1 from p near 0 (clipped at 0);
    between adjustments p and the reported r_t hold."""
    kimg, interval, images = 0.1, 4, 10  # step size 10 * 4 / 100 = 0.4
    update = jax.jit(lambda s, logits, step: A.update_state(
        s, logits, step, images, lambda x: x, 0.6, kimg, interval))
    s = A.init_state(0.0)
    script = [np.ones((1, 10))] * 4 + [np.r_[np.ones(5), -np.ones(5)][None]] * 4 + \
        [-np.ones((1, 10))] * 8
    ps, rts = [], []
    for step, logits in enumerate(script):
        s, m = update(s, jnp.asarray(logits, jnp.float32), jnp.asarray(step))
        ps.append(float(m["ada_p"]))
        rts.append(float(m["ada_rt"]))
    np.testing.assert_allclose(ps, [0, 0, 0, 0.4] * 1 + [0.4] * 3 + [0.0] + [0.0] * 8,
                               atol=1e-6)
    assert rts[3] == 1.0 and rts[7] == 0.0
    assert rts[4:7] == [1.0] * 3 and rts[-1] == -1.0
    fixed, fm = A.update_state(A.init_state(0.3), jnp.ones((1, 4)), jnp.asarray(3), 10,
                               lambda x: x, 0.0, kimg, interval)  # target 0: p stays
    assert float(fixed["p"]) == pytest.approx(0.3)
    # ...and r_t is still measured (a health signal), against the target the metrics carry
    assert float(fixed["rt"]) == 1.0 and float(fm["ada_rt"]) == 1.0
    assert float(fm["ada_target"]) == 0.0 and float(m["ada_target"]) == pytest.approx(0.6)


def test_the_trick_puts_p_in_the_state_and_refuses_bad_configs():
    from jaxgan.state import make_models
    from jaxgan.tricks import step_parts

    cfg = C.resolve("dcgan_digits", ["tricks.ada=xflip,hue", "tricks.ada_p=0.25"])
    parts, models = step_parts(cfg, make_models(cfg))
    assert parts.augment_state is not None and parts.augment is None
    extra = models.init_extra()
    assert float(extra["augment"]["p"]) == 0.25 and A.parse_ops("bgc") == A.OPS
    assert make_models(C.resolve("dcgan_digits")).init_extra is None
    for override, match in (("tricks.ada=xflip,warp", "tricks.ada has 'warp'"),
                            ("tricks.ada_p=1.5", "ada_p is a probability"),
                            ("tricks.ada_target=1", "ada_target must be in"),
                            ("tricks.ada_interval=0", "ada_interval >= 1")):
        with pytest.raises(ConfigError, match=match):
            C.resolve("dcgan_digits", ["tricks.ada=bgc", override])
    with pytest.raises(ConfigError, match="choose one"):
        C.resolve("dcgan_digits", ["tricks.ada=bgc", "tricks.diffaugment=color"])


def test_a_checkpoint_from_before_the_state_had_extra_still_restores(tmp_path):
    """Runs saved before `GANState.extra` existed resume (extra empty) instead of their
    checkpoints being taken for damaged ones and moved aside."""
    from dataclasses import fields

    import orbax.checkpoint as ocp

    from jaxgan.checkpoint import Checkpointer
    from jaxgan.state import init_state, make_models

    cfg = C.resolve("toy_ring", ["model.mlp.hidden=4", "model.mlp.depth=1"])
    models = make_models(cfg)
    state = init_state(models, 0, (2,))
    assert state.extra == {} and models.init_extra is None
    old = {f.name: getattr(state, f.name) for f in fields(state) if f.name != "extra"}
    ckpt = Checkpointer(tmp_path / "ckpt", async_save=False)
    ckpt.manager.save(5, args=ocp.args.StandardSave(old))
    ckpt.manager.wait_until_finished()
    step, restored = ckpt.restore(jax.eval_shape(lambda: state))
    assert step == 5 and restored.extra == {}
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert (tmp_path / "ckpt" / "5").is_dir()  # not moved aside
