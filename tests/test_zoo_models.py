"""Zoo modules: spectral norm, ResNet (SNGAN, projection D), SAGAN attention: shapes and
gradients of every parameter. Tiny widths; one compiled program per architecture."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from jaxgan.models.layers import CondBatchNorm, SNDense, SNEmbed
from jaxgan.models.resnet import ResNetDiscriminator, ResNetGenerator


def _open_gates(params):
    """Attention's gamma starts at 0, which blocks the gradient to its convs; open it."""
    return jax.tree_util.tree_map_with_path(
        lambda p, v: jnp.full_like(v, 0.5) if p[-1].key == "gamma" and v.ndim == 0 else v,
        params)


def pair_grads(G: nn.Module, D: nn.Module, z, y, seed: int = 0):
    """(fake, logits, per-leaf G grad norms, per-leaf D grad norms, variables), jitted."""

    @jax.jit
    def run(z, y):
        kg, kd = jax.random.split(jax.random.PRNGKey(seed))
        gv = G.init(kg, z, y, train=False)
        x0 = jnp.zeros((z.shape[0], *G.apply(gv, z, y, train=False).shape[1:]))
        dv = D.init(kd, x0, y, train=False)
        gp, dp = _open_gates(gv["params"]), _open_gates(dv["params"])

        def d_out(dp_, x):
            out, _ = D.apply({**dv, "params": dp_}, x, y, train=True,
                             mutable=["batch_stats", "intermediates"])
            return out

        def g_loss(gp_):
            x, _ = G.apply({**gv, "params": gp_}, z, y, train=True, mutable=["batch_stats"])
            return -jnp.mean(d_out(dp, x)), x

        (_, fake), g_grads = jax.value_and_grad(g_loss, has_aux=True)(gp)
        d_grads = jax.grad(lambda p: jnp.mean(jax.nn.softplus(-d_out(p, fake))))(dp)
        norm = lambda t: jax.tree.map(lambda g: jnp.sqrt(jnp.sum(g * g)), t)
        return fake, d_out(dp, fake), norm(g_grads), norm(d_grads), gv, dv

    return run(z, y)


def _all_positive(norms) -> list[str]:
    flat = jax.tree_util.tree_leaves_with_path(norms)
    return [jax.tree_util.keystr(p) for p, v in flat if not float(v) > 0]


def test_spectral_norm_largest_singular_value_is_one_after_power_iteration():
    layer = SNDense(6, use_bias=False)
    x = jnp.eye(10)  # the layer's output on the identity is its normalized weight
    v = layer.init(jax.random.PRNGKey(0), x, update_stats=False)
    w = np.asarray(v["params"]["kernel"])
    assert np.linalg.svd(w, compute_uv=False)[0] > 1.5  # far from 1 before normalization

    @jax.jit
    def iterate(stats):
        def body(_, s):
            return layer.apply({"params": v["params"], "batch_stats": s}, x,
                               mutable=["batch_stats"])[1]["batch_stats"]
        return jax.lax.fori_loop(0, 30, body, stats)

    stats = iterate(v["batch_stats"])
    w_sn = np.asarray(layer.apply({"params": v["params"], "batch_stats": stats}, x,
                                  update_stats=False))
    s = np.linalg.svd(w_sn, compute_uv=False)
    np.testing.assert_allclose(s[0], 1.0, atol=1e-4)
    np.testing.assert_allclose(s / s[0], np.linalg.svd(w, compute_uv=False) /
                               np.linalg.svd(w, compute_uv=False)[0], rtol=1e-5)
    # u is state in batch_stats; inference leaves it untouched
    _, upd = layer.apply({"params": v["params"], "batch_stats": stats}, x,
                         update_stats=False, mutable=["batch_stats"])
    np.testing.assert_array_equal(np.asarray(upd["batch_stats"]["sn_u"]),
                                  np.asarray(stats["sn_u"]))


def test_spectral_norm_gradient_matches_the_closed_form():
    """d(W/sigma)/dW with u, v held fixed and sigma = v^T W u differentiated (Miyato
    et al. 2018, eq. 12): grad = (G - <G, W/sigma> v u^T) / sigma for upstream G."""
    layer = SNEmbed(5, 4)
    y = jnp.arange(5)
    v = layer.init(jax.random.PRNGKey(1), y, update_stats=False)
    up = jnp.asarray(np.random.default_rng(0).normal(size=(5, 4)), jnp.float32)
    f = lambda p: jnp.sum(up * layer.apply({"params": p, "batch_stats": v["batch_stats"]}, y,
                                           update_stats=False))
    g = np.asarray(jax.grad(f)(v["params"])["embedding"])
    w = np.asarray(v["params"]["embedding"], np.float64)
    u = np.asarray(v["batch_stats"]["sn_u"], np.float64)
    vv = w @ u / np.linalg.norm(w @ u)
    u1 = vv @ w / np.linalg.norm(vv @ w)
    sigma = vv @ w @ u1
    ref = (np.asarray(up) - np.sum(np.asarray(up) * w / sigma) * np.outer(vv, u1)) / sigma
    np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-6)


def test_conditional_batch_norm_uses_per_class_scale_and_shift():
    bn = CondBatchNorm(num_classes=3)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(6, 2, 2, 4)), jnp.float32)
    y = jnp.array([0, 1, 2, 0, 1, 2])
    v = bn.init(jax.random.PRNGKey(0), x, y, train=False)
    p = jax.tree.map(lambda a: a, v["params"])
    p["gamma"]["embedding"] = jnp.array([[1.0] * 4, [2.0] * 4, [0.0] * 4])
    p["beta"]["embedding"] = jnp.array([[0.0] * 4, [0.0] * 4, [5.0] * 4])
    out, _ = bn.apply({**v, "params": p}, x, y, train=True, mutable=["batch_stats"])
    norm = (x - x.mean((0, 1, 2))) / jnp.sqrt(x.var((0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(np.asarray(out[1]), 2 * np.asarray(norm[1]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(out[2]), 5.0, atol=1e-6)
    assert set(v["params"]) == {"gamma", "beta"}  # no unconditional affine


def test_resnet_sngan_projection_and_sagan_attention_shapes_and_gradients():
    """One conditional SAGAN-style pair covers every zoo ResNet part at once: conditional
    BN, SN in G and D, self-attention in both, the projection term."""
    G = ResNetGenerator(16, 3, 8, num_classes=4, attention_res=8, sn=True)
    D = ResNetDiscriminator(16, 8, num_classes=4, attention_res=8, sn=True)
    z = jnp.asarray(np.random.default_rng(0).normal(size=(4, 8)), jnp.float32)
    y = jnp.array([0, 1, 2, 3])
    fake, logits, g_norms, d_norms, gv, dv = pair_grads(G, D, z, y)
    assert fake.shape == (4, 16, 16, 3) and logits.shape == (4,)
    assert float(jnp.abs(fake).max()) <= 1.0
    assert _all_positive(g_norms) == [] and _all_positive(d_norms) == []
    assert "attention" in gv["params"] and "attention" in dv["params"]
    assert "embed" in dv["params"] and "gamma" in gv["params"]["block0"]["bn0"]
    # SN state (u vectors) lives in batch_stats for both players
    assert "sn_u" in dv["batch_stats"]["linear"] and "sn_u" in gv["batch_stats"]["project"]
    # D is 16 -> 8 (optimized block) -> two full-resolution blocks, as SNGAN's 32 -> 8
    assert set(k for k in dv["params"] if k.startswith("block")) == {"block0", "block1",
                                                                       "block2"}
