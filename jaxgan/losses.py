"""Pure per-sample GAN losses on discriminator logits; the caller reduces.

Each loss is a pair of functions on raw discriminator outputs (logits, never
probabilities, so the sigmoid is fused into a numerically stable softplus):

* ``d_terms(real_logits, fake_logits, real_target)`` -> (real_term, fake_term), per sample;
  the discriminator minimises ``mean(real_term) + mean(fake_term)``.
* ``g_term(fake_logits)`` -> per-sample generator loss.

Per-sample terms (as optax does for its losses) let regularizers, label smoothing and
per-device means compose without the loss knowing about them. ``real_target`` is the
label the discriminator is asked to give real data: 1 normally, 0.9 with one-sided label
smoothing (Salimans et al. 2016); it only affects the losses with targets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class GANLoss(NamedTuple):
    d_terms: Callable[[jax.Array, jax.Array, float], tuple[jax.Array, jax.Array]]
    g_term: Callable[[jax.Array], jax.Array]
    probabilistic: bool  # logits are log-odds (sigmoid(D) is a probability)


def _bce(logits: jax.Array, target: float) -> jax.Array:
    return optax.losses.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target))


def _bce_d(real: jax.Array, fake: jax.Array, real_target: float = 1.0):
    return _bce(real, real_target), _bce(fake, 0.0)


def minimax_g(fake: jax.Array) -> jax.Array:
    """Goodfellow et al.'s original objective: G minimises log(1 - D(G(z))).

    It saturates: when D rejects fakes confidently its gradient vanishes, which is why the
    failure zoo uses it to provoke vanishing generator gradients.
    """
    return -jax.nn.softplus(fake)


def non_saturating_g(fake: jax.Array) -> jax.Array:
    """G maximises log D(G(z)): same fixed point, strong gradients early in training."""
    return jax.nn.softplus(-fake)


def wasserstein_d(real: jax.Array, fake: jax.Array, real_target: float = 1.0):
    del real_target
    return -real, fake


def wasserstein_g(fake: jax.Array) -> jax.Array:
    return -fake


def hinge_d(real: jax.Array, fake: jax.Array, real_target: float = 1.0):
    """Geometric GAN / SNGAN / SAGAN hinge loss for the discriminator."""
    del real_target
    return jax.nn.relu(1.0 - real), jax.nn.relu(1.0 + fake)


def hinge_g(fake: jax.Array) -> jax.Array:
    return -fake


def least_squares_d(real: jax.Array, fake: jax.Array, real_target: float = 1.0):
    """LSGAN (Mao et al. 2017), a-b-c = 0-1-1 coding, with the paper's factor 1/2."""
    return 0.5 * optax.losses.squared_error(real, jnp.full_like(real, real_target)), \
        0.5 * jnp.square(fake)


def least_squares_g(fake: jax.Array) -> jax.Array:
    return 0.5 * jnp.square(fake - 1.0)


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(_bce_d, minimax_g, True),
    "non_saturating": GANLoss(_bce_d, non_saturating_g, True),
    "wasserstein": GANLoss(wasserstein_d, wasserstein_g, False),
    "hinge": GANLoss(hinge_d, hinge_g, False),
    "least_squares": GANLoss(least_squares_d, least_squares_g, False),
}


def get_loss(name: str) -> GANLoss:
    """The loss pair registered under `name` (see `LOSSES`)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
