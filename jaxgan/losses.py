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

`register_loss` is the one place a loss is declared: its two functions and what its
numbers mean to the health rules (its `LossProfile`). The config's allowed `loss.name`
values and the detectors' profiles (`jaxgan.diagnostics.detectors.profile_for`) read
`LOSSES`; a loss registered without profile flags gets the generic rules only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgan.diagnostics.thresholds import D_LOSS_FLOOR, G_LOSS_HIGH, LossProfile


class GANLoss(NamedTuple):
    d_terms: Callable[[jax.Array, jax.Array, float], tuple[jax.Array, jax.Array]]
    g_term: Callable[[jax.Array], jax.Array]
    profile: LossProfile | None = None  # what the health rules may read from its numbers


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


LOSSES: dict[str, GANLoss] = {}


def register_loss(name: str, d_terms: Callable[..., tuple[jax.Array, jax.Array]],
                  g_term: Callable[[jax.Array], jax.Array], *, probabilistic: bool = False,
                  accuracy_meaningful: bool = False, saturating: bool = False,
                  d_loss_floor: float | None = None, g_loss_high: float | None = None
                  ) -> GANLoss:
    """Declare the loss `name` (``loss.name=NAME``) and return it.

    The flags say what its numbers mean, for the health rules: `probabilistic` (sigmoid(D)
    is a probability), `accuracy_meaningful` (the sign of D's output is its decision),
    `saturating` (G's gradient shrinks as D rejects fakes); `d_loss_floor` and `g_loss_high`
    default to the documented thresholds for that name (`diagnostics.thresholds`).
    """
    profile = LossProfile(name, probabilistic, accuracy_meaningful, saturating,
                          D_LOSS_FLOOR.get(name) if d_loss_floor is None else d_loss_floor,
                          G_LOSS_HIGH.get(name) if g_loss_high is None else g_loss_high)
    LOSSES[name] = loss = GANLoss(d_terms, g_term, profile)
    return loss


register_loss("minimax", _bce_d, minimax_g, probabilistic=True, accuracy_meaningful=True,
              saturating=True)
register_loss("non_saturating", _bce_d, non_saturating_g, probabilistic=True,
              accuracy_meaningful=True)
register_loss("wasserstein", wasserstein_d, wasserstein_g)  # the critic's offset is arbitrary
register_loss("hinge", hinge_d, hinge_g, accuracy_meaningful=True)
# Targets 0/1: D's decision boundary is at 0.5, so the logit-sign accuracy is not its
# decision and is ignored; the loss floor carries the rule.
register_loss("least_squares", least_squares_d, least_squares_g)


def get_loss(name: str) -> GANLoss:
    """The loss pair registered under `name` (see `LOSSES`)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


__all__ = ["GANLoss", "LOSSES", "register_loss", "get_loss", "minimax_g", "non_saturating_g",
           "wasserstein_d", "wasserstein_g", "hinge_d", "hinge_g", "least_squares_d",
           "least_squares_g"]
