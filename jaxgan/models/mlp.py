"""MLP generator and discriminator for 2-D data (the ring and grid mixtures).

Sized like the mode-collapse literature's toy setups (VEEGAN, PacGAN, Unrolled GAN): a few
ReLU layers of a few hundred units. The generator's output is unbounded (no tanh), since
the toy data live on [-4, 4]^2.

`MLPDiscriminator(bias_init=s)` (`model.mlp.bias_init`) draws its first layer's biases from
N(0, s^2) instead of zeros. With zero biases every first-layer ReLU kink passes through the
origin, so D starts as a function of the input's direction only and must first grow its
biases (Adam moves them ~lr per step) before it can single out a mode at (4, 4): on the
5x5 grid D sat at chance (loss 2 ln 2) for thousands of steps while G spread its samples
uniformly. Random biases spread the kinks over the data's range from the first step.

`MLPGenerator(categories=K)` (`model.mlp.latent_categories`) turns the first K latent
entries into the one-hot code of their argmax before the first layer: a uniform K-way
categorical latent beside the remaining Gaussian ones (a discrete latent as in InfoGAN's
codes or DeLiGAN's mixture latent). A ReLU MLP is continuous in a Gaussian latent, so on
the 5x5 grid the mass it moves between two modes crosses the gap between them and lands
off-mode; with a discrete code each of the K latent cells can be sent to one mode whole.
The latent a run draws is unchanged (the same N(0, I) entries); only G reads it so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.errors import ConfigError
from jaxgan.models.layers import SNDense
from jaxgan.schema import Config


@dataclass
class MLPConfig:
    """``model.mlp.*``: the width and depth of both players' hidden layers."""

    hidden: int = 128
    depth: int = 2
    bias_init: float = 0.0  # D: std of its first layer's random biases (0: zeros)
    latent_categories: int = 0  # G: first K latent entries read as one-hot(argmax) (0: off)


def validate_mlp(cfg: Config, device_count: int | None = None) -> None:
    """Positive sizes, whether or not the run uses the MLPs (a typo is caught either way)."""
    for key in ("hidden", "depth"):
        if getattr(cfg.model.mlp, key) <= 0:
            raise ConfigError(f"model.mlp.{key} must be a positive integer, got "
                              f"{getattr(cfg.model.mlp, key)}")
    k = cfg.model.mlp.latent_categories
    if k < 0 or k == 1 or k > cfg.model.latent_dim:
        raise ConfigError(f"model.mlp.latent_categories must be 0 (off) or 2..model."
                          f"latent_dim={cfg.model.latent_dim}, got {k}")


class MLPGenerator(nn.Module):
    hidden: int = 128
    depth: int = 2
    out_dim: int = 2
    dtype: jnp.dtype = jnp.float32
    categories: int = 0  # the first K latent entries read as one-hot(argmax) (0: off)

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        del train, y  # unconditional; labels accepted for a uniform signature
        if self.categories:
            code = jax.nn.one_hot(jnp.argmax(z[:, :self.categories], -1), self.categories)
            z = jnp.concatenate([code.astype(z.dtype), z[:, self.categories:]], -1)
        h = z.astype(self.dtype)
        for _ in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        return nn.Dense(self.out_dim, dtype=self.dtype)(h).astype(jnp.float32)


class MLPDiscriminator(nn.Module):
    """``sn=True`` (`model.spectral_norm`): every layer spectrally normalized, under the
    same parameter names (``Dense_i``) and initialization as without."""

    hidden: int = 128
    depth: int = 2
    dtype: jnp.dtype = jnp.float32
    sn: bool = False
    bias_init: float = 0.0  # std of the first layer's biases (0: zeros)

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        del y  # unconditional; labels accepted for a uniform signature

        def dense(features: int, i: int):
            b_init = nn.initializers.normal(self.bias_init) if i == 0 and self.bias_init \
                else nn.initializers.zeros
            if not self.sn:
                return nn.Dense(features, dtype=self.dtype, bias_init=b_init)
            return partial(SNDense(features, kernel_init=nn.initializers.lecun_normal(),
                                   bias_init=b_init, dtype=self.dtype, name=f"Dense_{i}"),
                           update_stats=train)

        h = x.reshape(x.shape[0], -1).astype(self.dtype)
        for i in range(self.depth):
            h = nn.relu(dense(self.hidden, i)(h))
        self.sow("intermediates", "features", h.astype(jnp.float32))
        out = dense(1, self.depth)(h)
        return out.reshape(x.shape[0]).astype(jnp.float32)
