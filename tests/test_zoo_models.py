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


# XLA:CPU's expensive backend passes cost ~5x the compile time of these tiny programs
# and buy nothing for a shape-and-gradient check.
FAST = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def fast_jit(f, *args):
    """f compiled for `args` with the cheap XLA:CPU pipeline, then called on them."""
    return jax.jit(f).lower(*args).compile(compiler_options=FAST)(*args)


def pair_grads(G: nn.Module, D: nn.Module, z, y, seed: int = 0):
    """(fake, logits, per-leaf G grad norms, per-leaf D grad norms, variables), jitted."""

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

    return fast_jit(run, z, y)


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


def test_conditional_generator_and_projection_discriminator():
    from jaxgan.models.conditional import ConditionalGenerator, ProjectionDiscriminator

    G = ConditionalGenerator(16, 1, 4, num_classes=10)
    D = ProjectionDiscriminator(16, 4, num_classes=10)
    z = jnp.asarray(np.random.default_rng(1).normal(size=(4, 8)), jnp.float32)
    y = jnp.array([0, 3, 5, 9])
    fake, logits, g_norms, d_norms, gv, dv = pair_grads(G, D, z, y)
    assert fake.shape == (4, 16, 16, 1) and logits.shape == (4,)
    assert _all_positive(g_norms) == [] and _all_positive(d_norms) == []
    # the label reaches the output: same z, different labels -> different images
    other = G.apply(gv, z, jnp.array([1, 4, 6, 0]), train=False)
    same = G.apply(gv, z, y, train=False)
    assert float(jnp.abs(other - same).max()) > 0.1 * float(jnp.abs(same).max())


def test_infogan_codes_q_head_and_mutual_information_loss():
    from jaxgan.models.infogan import (
        InfoGANDiscriminator,
        InfoGANGenerator,
        codes_to_latent,
        info_loss_terms,
        latent_to_codes,
        traversal_latents,
    )

    # codes read off a normal draw are uniform; codes_to_latent inverts latent_to_codes
    zz = jax.random.normal(jax.random.PRNGKey(0), (20000, 14))
    cat, cont, rest = latent_to_codes(zz, 10, 2)
    freq = np.bincount(np.asarray(cat), minlength=10) / 20000
    assert np.abs(freq - 0.1).max() < 0.01
    assert abs(float(cont.mean())) < 0.02 and abs(float(cont.var()) - 1 / 3) < 0.01
    c2, k2, r2 = latent_to_codes(codes_to_latent(cat, cont, rest, 10), 10, 2)
    np.testing.assert_array_equal(np.asarray(c2), np.asarray(cat))
    np.testing.assert_allclose(np.asarray(k2), np.asarray(cont), atol=1e-4)
    assert traversal_latents(10, 2, 14, steps=5).shape == (50, 14)

    G, D = InfoGANGenerator(8, 1, 4, 10, 2), InfoGANDiscriminator(8, 4, 10, 2)
    z = jax.random.normal(jax.random.PRNGKey(1), (4, 16))
    fake, logits, g_norms, d_norms, gv, dv = pair_grads(G, D, z, None)
    assert fake.shape == (4, 8, 8, 1) and logits.shape == (4,)
    assert _all_positive(g_norms) == []
    # D's logit does not use Q's head; Q's head is trained by the MI loss below
    zero = _all_positive(d_norms)
    assert zero and all(k.startswith("['q_") for k in zero), zero
    q = fast_jit(lambda v, x: D.apply(v, x, None, train=True, mutable=[
        "batch_stats", "intermediates"])[1]["intermediates"]["q"][0], dv, fake)
    assert q.shape == (4, 12)
    # the MI terms against numpy: cross-entropy of the code, squared error / 2
    ce, mse = info_loss_terms(q, z, 10, 2)
    c, k, _ = latent_to_codes(z, 10, 2)
    qn = np.asarray(q, np.float64)
    logp = qn[:, :10] - np.log(np.exp(qn[:, :10]).sum(1, keepdims=True))
    np.testing.assert_allclose(float(ce), -logp[np.arange(4), np.asarray(c)].mean(), rtol=1e-5)
    np.testing.assert_allclose(float(mse), 0.5 * ((qn[:, 10:] - np.asarray(k)) ** 2).sum(1)
                               .mean(), rtol=1e-5)


def test_progan_layers_and_fade_in():
    from jaxgan.models.progan import (
        EqConv,
        ProGANDiscriminator,
        ProGANGenerator,
        minibatch_stddev,
        pixel_norm,
        schedule,
    )

    x = jnp.asarray(np.random.default_rng(2).normal(size=(8, 4, 4, 6)), jnp.float32)
    np.testing.assert_allclose(np.asarray(jnp.mean(pixel_norm(x) ** 2, -1)), 1.0, rtol=1e-4)
    m = np.asarray(minibatch_stddev(x, group=4))
    xn = np.asarray(x, np.float64).reshape(4, 2, 4, 4, 6)
    ref = np.sqrt(xn.var(0) + 1e-8).mean(axis=(1, 2, 3))  # one value per group member
    np.testing.assert_allclose(m[:, 0, 0, 6], np.tile(ref, 4), rtol=1e-5)
    # equalized LR: N(0, 1) weights scaled by sqrt(2 / fan_in) at run time
    conv = EqConv(5, 3)
    v = conv.init(jax.random.PRNGKey(0), x)
    assert abs(float(jnp.std(v["params"]["kernel"])) - 1.0) < 0.15
    out = conv.apply(v, x)
    ref = jax.lax.conv_general_dilated(x, v["params"]["kernel"] * np.sqrt(2 / 54), (1, 1),
                                       "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-5, atol=1e-6)
    # schedule: stage 0 stable, then fade-in and stable per stage
    got = [(int(s), float(a)) for s, a in (schedule(t, 10, 2) for t in (0, 9, 10, 15, 20,
                                                                        30, 35, 40, 99))]
    assert got == [(0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (2, 0.0), (2, 0.5),
                   (2, 1.0), (2, 1.0)]
    # the same parameter tree at every stage; fade-in blends the two heads
    z = jnp.ones((2, 8))
    trees = []
    for stage in (0, 1, 2):
        G = ProGANGenerator(16, 1, 2, stage)
        D = ProGANDiscriminator(16, 2, stage)

        def run(zz, G=G, D=D):
            gv = G.init(jax.random.PRNGKey(0), zz)
            imgs = [G.apply(gv, zz, alpha=a) for a in (0.0, 1.0, 0.25)]
            dv = D.init(jax.random.PRNGKey(1), imgs[1])
            return gv, imgs, dv, D.apply(dv, imgs[1], alpha=0.5)

        gv, (img0, img1, mid), dv, logits = fast_jit(run, z)
        np.testing.assert_allclose(np.asarray(mid), np.asarray(0.75 * img0 + 0.25 * img1),
                                   atol=1e-5)
        assert img1.shape == (2, 16, 16, 1) and logits.shape == (2,)
        trees.append((jax.tree.structure(gv), jax.tree.structure(dv)))
    assert trees[0] == trees[1] == trees[2]


def test_progan_generator_and_discriminator_gradients():
    from jaxgan.models.progan import ProGANDiscriminator, ProGANGenerator

    G, D = ProGANGenerator(8, 1, 2), ProGANDiscriminator(8, 2)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 8))
    fake, logits, g_norms, d_norms, _, _ = pair_grads(G, D, z, None)
    assert fake.shape == (4, 8, 8, 1) and logits.shape == (4,)
    # fully grown, alpha 1: the 4x4 head (to_rgb0 / from_rgb0) is faded out
    assert sorted(_all_positive(g_norms)) == ["['to_rgb0']['bias']", "['to_rgb0']['kernel']"]
    assert sorted(_all_positive(d_norms)) == ["['from_rgb0']['bias']",
                                              "['from_rgb0']['kernel']"]


def _sn_top_singular_values(params, stats) -> dict[str, float]:
    """Largest singular value of every normalized weight W / sigma, where sigma is what the
    layer computes at inference from its stored u (one power-iteration step, Algorithm 1
    of Miyato et al. 2018), recomputed in float64 numpy."""
    out = {}
    for path, u in jax.tree_util.tree_leaves_with_path(stats):
        if path[-1].key != "sn_u":
            continue
        node = params
        for p in path[:-1]:
            node = node[p.key]
        w = np.asarray(node.get("kernel", node.get("embedding")), np.float64)
        mat = w.reshape(-1, w.shape[-1])
        v = mat @ np.asarray(u, np.float64)
        v /= np.linalg.norm(v)
        u1 = v @ mat
        u1 /= np.linalg.norm(u1)
        sigma = v @ mat @ u1
        out[jax.tree_util.keystr(path[:-1])] = float(np.linalg.svd(mat / sigma,
                                                                   compute_uv=False)[0])
    return out


def test_spectral_norm_switch_on_dcgan_and_mlp_discriminators():
    """`model.spectral_norm=true` on the plain DCGAN and MLP critics: every layer of D
    carries a power-iteration vector, DCGAN's D drops its batch norms, and after 100
    training steps every normalized weight has largest singular value 1 (within 1%).
    Power iteration approaches it from above, 2 iterations per step (D sees the real
    batch, then the fake one) while Adam moves the weights; measured for DCGAN's 128x16
    `down1`: 1.17 at init, 1.07 after 15 steps, 1.002 after 50, 1.0000 after 100."""
    from jaxgan.config import Config
    from jaxgan.losses import get_loss
    from jaxgan.state import init_state, make_models
    from jaxgan.step import make_train_step

    rng = np.random.default_rng(0)
    for kind, shape in (("dcgan", (16, 16, 1)), ("mlp", (2,))):
        cfg = Config()
        cfg.model.generator = cfg.model.discriminator = kind
        cfg.data.resolution, cfg.model.g_width, cfg.model.d_width = 16, 4, 8
        cfg.model.latent_dim, cfg.model.mlp.hidden = 8, 16
        plain = jax.eval_shape(lambda c=cfg, s=shape: init_state(make_models(c), 0, s))
        cfg.model.spectral_norm = True
        models = make_models(cfg)
        state = fast_jit(lambda m=models, s=shape: init_state(m, 0, s))
        # same parameter names as without; the only state is one u per layer
        assert set(state.d_params) <= set(plain.d_params), kind
        n_layers = 3
        assert sorted(state.d_batch_stats) == sorted(state.d_params) and \
            len(state.d_params) == n_layers, (kind, state.d_batch_stats)
        before = _sn_top_singular_values(state.d_params, state.d_batch_stats)
        step = jax.jit(make_train_step(models, get_loss("hinge"), health=False)).lower(
            state, {"image": jnp.zeros((1, 8, *shape))}).compile(compiler_options=FAST)
        for _ in range(100):  # ~6 ms a step
            batch = {"image": jnp.asarray(rng.uniform(-1, 1, (1, 8, *shape)), jnp.float32)}
            state, m = step(state, batch)
        assert np.isfinite(float(m["d_loss"]))
        after = _sn_top_singular_values(state.d_params, state.d_batch_stats)
        assert len(after) == n_layers
        # A power-iteration estimate never exceeds the true sigma, so W / sigma_hat has a top
        # singular value >= 1 by construction; the test is the upper bound, which a
        # layer that skips or breaks its power iteration crosses: with the untrained u
        # (`before`) at least one layer is above it.
        assert max(before.values()) >= 1.01, (kind, before)
        for name, s in after.items():
            assert s < 1.01, (kind, name, before[name], s)
        # the raw weights are far from norm 1: the normalization is doing the work
        raw = [np.linalg.svd(np.asarray(p["kernel"]).reshape(-1, p["kernel"].shape[-1]),
                             compute_uv=False)[0] for p in state.d_params.values()]
        assert max(abs(r - 1.0) for r in raw) > 0.3, (kind, raw)
