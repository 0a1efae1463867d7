"""BigGAN: its layers against plain numpy, orthogonal regularization's value and gradient,
truncation, the family through the registry and presets, 1 vs 8 devices, and a tiny run
of the biggan_digits preset through the real trainer."""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import config as C
from jaxgan.config import ConfigError
from jaxgan.models.biggan import (
    BigGANDiscriminator,
    BigGANGenerator,
    LinearCondBatchNorm,
    d_widths,
    g_widths,
    split_latent,
)
from jaxgan.regularizers import add_orthogonal_grad, orthogonal_penalty
from jaxgan.sampling import truncate

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _one_vs_eight import one_vs_eight  # noqa: E402


def test_linear_conditional_batch_norm_is_bn_times_one_plus_gain_plus_bias():
    """``BN(x) * (1 + c W_g) + c W_b`` with the batch's statistics (train mode)."""
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (4, 3, 3, 5)).astype(np.float32)
    cond = rng.normal(size=(4, 6)).astype(np.float32)
    bn = LinearCondBatchNorm(sn=False)
    variables = bn.init(jax.random.PRNGKey(0), x, cond, train=False)
    out, _ = bn.apply(variables, x, cond, train=True, mutable=["batch_stats"])
    wg = np.asarray(variables["params"]["gain"]["kernel"])
    wb = np.asarray(variables["params"]["bias"]["kernel"])
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    want = ((x - mean) / np.sqrt(var + 1e-5) * (1 + cond @ wg)[:, None, None, :]
            + (cond @ wb)[:, None, None, :])
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-4, atol=1e-5)


def test_projection_logit_is_linear_plus_class_inner_product():
    """D's logit is ``feats . w + b + <E[y], feats>`` of its sown features."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    y = np.array([0, 2, 1], np.int32)
    d = BigGANDiscriminator(8, 2, num_classes=3, attention_res=4, sn=False)
    variables = d.init(jax.random.PRNGKey(0), x, y, train=False)
    out, upd = d.apply(variables, x, y, train=False, mutable=["intermediates"])
    feats = np.asarray(upd["intermediates"]["features"][0])
    p = variables["params"]
    want = (feats @ np.asarray(p["linear"]["kernel"])[:, 0] + np.asarray(p["linear"]["bias"])[0]
            + np.sum(np.asarray(p["embed"]["embedding"])[y] * feats, axis=-1))
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5, atol=1e-5)
    assert "attention" in p  # after the first block, at 4x4


@pytest.mark.parametrize("res", [8, 16, 32])
def test_small_biggans_build_at_every_small_resolution(res):
    """Width 2 (8 channels per block), attention at half the image size, hierarchical z:
    G makes images of the right shape in [-1, 1], D one logit each; each block's batch
    norms read the shared embedding joined to that block's own latent chunk."""
    blocks = len(g_widths(res, 2)[1])
    z = jax.random.normal(jax.random.PRNGKey(0), (2, 4 * (blocks + 1)))
    y = jnp.array([3, 7])
    g = BigGANGenerator(res, 3, 2, num_classes=10, shared_dim=5, hier=True,
                        attention_res=res // 2)
    gv = g.init(jax.random.PRNGKey(1), z, y, train=False)
    img, _ = g.apply(gv, z, y, train=True, mutable=["batch_stats"])
    assert img.shape == (2, res, res, 3) and float(jnp.max(jnp.abs(img))) <= 1.0
    assert gv["params"]["block0"]["bn0"]["gain"]["kernel"].shape == (5 + 4, 8)
    assert gv["params"]["project"]["kernel"].shape == (4, 4 * 4 * 8)  # chunk 0 only
    assert "attention" in gv["params"]
    d = BigGANDiscriminator(res, 2, num_classes=10, attention_res=res // 2)
    dv = d.init(jax.random.PRNGKey(2), img, y, train=False)
    assert d.apply(dv, img, y, train=False).shape == (2,)
    assert [f for f, _ in d_widths(res, 2)] == [8] * len(d_widths(res, 2))


def test_split_latent_gives_each_block_its_own_chunk():
    z = jnp.arange(12.0).reshape(1, 12)
    z0, zs = split_latent(z, 2, hier=True)
    assert z0.tolist() == [[0, 1, 2, 3]] and [c.tolist() for c in zs] == \
        [[[4, 5, 6, 7]], [[8, 9, 10, 11]]]
    z0, zs = split_latent(z, 2, hier=False)
    assert z0.shape == (1, 12) and all(c.shape == (1, 0) for c in zs)


def test_widths_follow_the_authors_tables():
    assert g_widths(32, 64) == (256, (256, 256, 256))
    assert g_widths(128, 1) == (16, (16, 8, 4, 2, 1))
    assert d_widths(32, 1) == ((4, True), (4, True), (4, False), (4, False))
    assert d_widths(8, 1) == ((4, True), (4, False), (4, False))
    assert d_widths(64, 1)[-1] == (16, False) and len(d_widths(64, 1)) == 5


def _numpy_ortho(ws, beta):
    value, grads = 0.0, []
    for w in ws:
        m = w.reshape(-1, w.shape[-1]).astype(np.float64)
        mask = 1.0 - np.eye(m.shape[1])
        a = (m.T @ m) * mask
        value += np.sum(a * a)
        grads.append((4.0 * beta * m @ a).reshape(w.shape))  # d/dW ||(W^T W) * M||^2
    return beta * value, grads


def _ortho_params():
    rng = np.random.default_rng(2)
    return {"conv": {"kernel": rng.normal(size=(3, 3, 2, 4)).astype(np.float32),
                     "bias": rng.normal(size=(4,)).astype(np.float32)},
            "dense": {"kernel": rng.normal(size=(5, 3)).astype(np.float32)},
            "shared": {"embedding": rng.normal(size=(10, 6)).astype(np.float32)}}


def test_orthogonal_penalty_value_and_gradient_match_numpy():
    """Only the kernels count: biases (1-D) and embedding tables are left out."""
    params, beta = _ortho_params(), 1e-4
    want, (g_conv, g_dense) = _numpy_ortho([params["conv"]["kernel"],
                                            params["dense"]["kernel"]], beta)
    np.testing.assert_allclose(float(orthogonal_penalty(params, beta)), want, rtol=1e-5)
    grads = jax.grad(orthogonal_penalty)(params, beta)
    np.testing.assert_allclose(np.asarray(grads["conv"]["kernel"]), g_conv, rtol=1e-4,
                               atol=1e-9)
    np.testing.assert_allclose(np.asarray(grads["dense"]["kernel"]), g_dense, rtol=1e-4,
                               atol=1e-9)
    assert not np.any(np.asarray(grads["conv"]["bias"]))
    assert not np.any(np.asarray(grads["shared"]["embedding"]))
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(6, 4)))  # orthogonal filters
    assert float(orthogonal_penalty({"k": {"kernel": jnp.asarray(3 * q)}}, 1.0)) < 1e-8


def test_orthogonal_grad_wrapper_adds_the_penalty_gradient_and_keeps_the_state():
    params, beta = _ortho_params(), 0.5
    grads = jax.tree.map(jnp.ones_like, params)
    inner = optax.sgd(1.0)
    tx = add_orthogonal_grad(inner, beta)
    state = tx.init(params)
    assert jax.tree.structure(state) == jax.tree.structure(inner.init(params))
    updates, _ = tx.update(grads, state, params)
    reg = jax.grad(orthogonal_penalty)(params, beta)
    for u, r in zip(jax.tree.leaves(updates), jax.tree.leaves(reg), strict=True):
        np.testing.assert_allclose(np.asarray(u), -(1.0 + np.asarray(r)), rtol=1e-6)


def test_ema_generator_copies_g_until_ema_start():
    """Before ``ema_start`` the EMA generator is G itself (decay 0); from it on, an average."""
    from jaxgan.losses import get_loss
    from jaxgan.state import init_state, make_models
    from jaxgan.step import make_train_step

    cfg = C.Config()
    cfg.model.generator = cfg.model.discriminator = "mlp"
    cfg.model.latent_dim, cfg.model.mlp.hidden = 4, 8
    models = make_models(cfg)
    step = jax.jit(make_train_step(models, get_loss("hinge"), ema_decay=0.9, ema_start=2,
                                   health=False))
    state = init_state(models, 0, (2,))
    batch = {"image": jnp.asarray(np.random.default_rng(0).normal(size=(1, 8, 2)),
                                  jnp.float32)}
    same = []
    for _ in range(3):
        state, _ = step(state, batch)
        same.append(all(np.array_equal(a, b) for a, b in zip(
            jax.tree.leaves(state.ema_params), jax.tree.leaves(state.g_params), strict=True)))
    assert same == [True, True, False]


def test_truncation_keeps_z_within_the_threshold_and_inf_is_the_identity():
    key = jax.random.PRNGKey(0)
    z = jax.random.normal(key, (512, 16))
    t = truncate(jax.random.PRNGKey(1), z, 0.5)
    assert float(jnp.max(jnp.abs(t))) <= 0.5
    inside = np.abs(np.asarray(z)) <= 0.5
    np.testing.assert_array_equal(np.asarray(t)[inside], np.asarray(z)[inside])  # kept
    assert np.mean(np.abs(np.asarray(t)[~inside])) > 0.1  # redrawn, not clipped to 0.5
    assert truncate(key, z, float("inf")) is z and truncate(key, z, None) is z
    with pytest.raises(ValueError, match="positive"):
        truncate(key, z, 0.0)


def test_sample_cli_refuses_a_non_positive_truncation_in_one_line(tmp_path, capsys):
    from jaxgan.cli import main

    assert main(["sample", str(tmp_path / "nowhere"), "--truncation", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "jaxgan: --truncation must be a positive threshold, got 0.0"


def test_biggan_is_a_registered_family_with_its_own_rules():
    from jaxgan.models import DISCRIMINATORS, FAMILIES, GENERATORS, build_models

    assert "biggan" in FAMILIES and "biggan" in GENERATORS and "biggan" in DISCRIMINATORS
    cfg = C.Config()
    cfg.model.generator = cfg.model.discriminator = "biggan"
    cfg.model.num_classes, cfg.model.latent_dim, cfg.data.resolution = 10, 32, 16
    with pytest.raises(ConfigError, match="latent_dim=32 must be a multiple of 3"):
        C.validate(cfg)
    cfg.model.latent_dim = 24
    g, d = build_models(C.validate(cfg))
    assert type(g).__name__ == "BigGANGenerator" and g.sn and d.sn  # SN in both, always
    with pytest.raises(ConfigError, match="biggan.shared_dim"):
        C.resolve("dcgan_digits", ["model.biggan.shared_dim=0"])


def test_biggan_presets_validate_and_build():
    from jaxgan.models import build_models

    for name in ("biggan_digits", "biggan_cifar10"):
        cfg = C.resolve(name)
        assert cfg.model.generator == cfg.model.discriminator == "biggan"
        g, d = build_models(cfg)
        assert type(g).__name__ == "BigGANGenerator" and g.sn and d.sn
    with pytest.raises(ConfigError, match="latent_dim=30 must be a multiple of 4"):
        C.resolve("biggan_cifar10", ["model.latent_dim=30"])
    assert C.resolve("biggan_cifar10", ["model.latent_dim=30", "model.biggan.hier=false"])
    with pytest.raises(ConfigError, match="tricks.ortho_reg"):
        C.resolve("biggan_digits", ["tricks.ortho_reg=-1"])
    with pytest.raises(ConfigError, match="train.ema_start"):
        C.resolve("biggan_digits", ["train.ema_start=-1"])


@pytest.mark.slow
def test_one_device_equals_eight_devices(tmp_path):
    """Two scanned BigGAN iterations (n_critic 2, classes, attention, orthogonal
    regularization, EMA start) on 1 and on 8 forced host devices, sync batch norm.
    Marked slow: two compiles in subprocesses, ~45 s on a loaded 2-core CPU."""
    one = one_vs_eight(tmp_path, "biggan", timeout=600)
    assert any("shared" in k for k in one) and any("attention" in k for k in one)


def test_tiny_biggan_digits_trains_resumes_bit_exactly_samples_truncated(tmp_path):
    """The preset through the real trainer for 4 iterations at width 2, and again as 2 +
    resume + 2: the same state to the bit (EMA, its start step, both optimizers, the
    spectral-norm vectors, the shared embedding). Before ``train.ema_start`` the EMA
    generator is G itself; `jaxgan sample --truncation` draws from it. (The resumed run's
    compiles hit the suite's persistent cache.)"""
    from jaxgan.readers import load_run
    from jaxgan.trainer import train

    over = ["train.log_every=2", "train.sample_every=4", "train.checkpoint_every=2",
            "model.g_width=2", "model.d_width=2", "train.batch_size=16",
            "train.ema_start=3", "health.enabled=false", "train.progress=false"]
    whole = train(C.resolve("biggan_digits", [*over, "train.steps=4"]), tmp_path / "run")
    first = train(C.resolve("biggan_digits", [*over, "train.steps=2"]), tmp_path / "part")
    resumed = train(C.resolve("biggan_digits", [*over, "train.steps=4"]), tmp_path / "part")
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def ema_is_g(state) -> bool:
        return all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(
            jax.tree.leaves(state.ema_params), jax.tree.leaves(state.g_params), strict=True))

    assert ema_is_g(first.state) and not ema_is_g(whole.state)  # EMA from step 3 on
    run = load_run(tmp_path / "run")
    assert run.step == 4
    plain = run.sample(20, seed=0)
    cut = run.sample(20, seed=0, truncation=0.5)
    assert plain.shape == cut.shape == (20, 8, 8, 1) and np.all(np.isfinite(cut))
    assert not np.array_equal(plain, cut)


def test_cifar_preset_runs_two_steps_on_cifar_shaped_npz(tmp_path):
    """biggan_cifar10 but for the data (random 32x32x3 uint8 in an .npz with 10 labels),
    tiny widths and one D step per G step (five only multiply the compile time): the run
    assembly builds it and two compiled steps give finite losses."""
    from jaxgan import run as run_lib
    from jaxgan.parallel import create_replicated, host_to_global
    from jaxgan.state import init_state

    rng = np.random.default_rng(0)
    path = tmp_path / "cifar.npz"
    np.savez(path, images=rng.integers(0, 256, (32, 32, 32, 3), np.uint8),
             labels=np.arange(32) % 10)
    cfg = C.resolve("biggan_cifar10", ["data.source=npz", f"data.path={path}",
                                       "model.g_width=2", "model.d_width=2",
                                       "model.biggan.shared_dim=8", "train.batch_size=8",
                                       "train.n_critic=1", "train.steps=2",
                                       "health.enabled=false"])
    assert (cfg.model.latent_dim, cfg.model.attention_res, cfg.loss.name) == (80, 16, "hinge")
    run = run_lib.setup_run(cfg)
    assert run.source.num_classes == 10
    state = create_replicated(lambda: init_state(run.models, cfg.seed, run.sample_shape),
                              run.mesh)
    for s0 in (0, 1):
        batch = host_to_global(run_lib.host_batch(cfg, run.source, s0), run.mesh, 2)
        state, metrics = run.step_fn(state, batch)
    assert int(state.step) == 2
    assert np.isfinite(float(metrics["d_loss"])) and np.isfinite(float(metrics["g_loss"]))
