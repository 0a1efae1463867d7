"""GAN losses against values computed by hand (math module, not jax)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.losses import LOSSES, get_loss

R = [2.0, -1.0, 0.5]
F = [-3.0, 0.0, 1.5]


def softplus(x):
    return math.log1p(math.exp(x))


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _d(name, target=1.0):
    real, fake = LOSSES[name].d_terms(jnp.array(R), jnp.array(F), target)
    return np.asarray(real), np.asarray(fake)


def test_bce_discriminator_is_negative_log_likelihood():
    real, fake = _d("non_saturating")
    np.testing.assert_allclose(real, [-math.log(sigmoid(r)) for r in R], rtol=1e-6)
    np.testing.assert_allclose(fake, [-math.log(1 - sigmoid(f)) for f in F], rtol=1e-6)
    np.testing.assert_array_equal(_d("minimax")[0], real)


def test_one_sided_label_smoothing_changes_only_real_term():
    real, fake = _d("non_saturating", 0.9)
    want = [-(0.9 * math.log(sigmoid(r)) + 0.1 * math.log(1 - sigmoid(r))) for r in R]
    np.testing.assert_allclose(real, want, rtol=1e-6)
    np.testing.assert_allclose(fake, _d("non_saturating")[1], rtol=1e-6)


def test_generator_terms():
    f = jnp.array(F)
    np.testing.assert_allclose(LOSSES["non_saturating"].g_term(f),
                               [-math.log(sigmoid(x)) for x in F], rtol=1e-6)
    np.testing.assert_allclose(LOSSES["minimax"].g_term(f),
                               [math.log(1 - sigmoid(x)) for x in F], rtol=1e-6)
    np.testing.assert_allclose(LOSSES["wasserstein"].g_term(f), [3.0, 0.0, -1.5])
    np.testing.assert_allclose(LOSSES["hinge"].g_term(f), [3.0, 0.0, -1.5])
    np.testing.assert_allclose(LOSSES["least_squares"].g_term(f),
                               [0.5 * (x - 1) ** 2 for x in F], rtol=1e-6)
    assert softplus(0.0) == pytest.approx(math.log(2))


def test_wasserstein_hinge_least_squares_discriminator():
    real, fake = _d("wasserstein")
    np.testing.assert_allclose(real, [-2.0, 1.0, -0.5])
    np.testing.assert_allclose(fake, F)
    real, fake = _d("hinge")
    np.testing.assert_allclose(real, [0.0, 2.0, 0.5])
    np.testing.assert_allclose(fake, [0.0, 1.0, 2.5])
    real, fake = _d("least_squares")
    np.testing.assert_allclose(real, [0.5, 2.0, 0.125])
    np.testing.assert_allclose(fake, [4.5, 0.0, 1.125])


def test_saturating_loss_gradient_vanishes_when_d_is_confident():
    import jax

    g_mm = jax.grad(lambda f: LOSSES["minimax"].g_term(f))(-8.0)
    g_ns = jax.grad(lambda f: LOSSES["non_saturating"].g_term(f))(-8.0)
    assert abs(g_mm) < 1e-3 < abs(g_ns)


def test_unknown_loss_names_choices():
    with pytest.raises(ValueError, match="hinge"):
        get_loss("nope")
