"""MLP generator and discriminator for 2-D data (the ring and grid mixtures).

Sized like the mode-collapse literature's toy setups (VEEGAN, PacGAN, Unrolled GAN): a few
ReLU layers of a few hundred units. The generator's output is unbounded (no tanh), since
the toy data live on [-4, 4]^2.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn


class MLPGenerator(nn.Module):
    hidden: int = 128
    depth: int = 2
    out_dim: int = 2
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        del train, y  # unconditional; labels accepted for a uniform signature
        h = z.astype(self.dtype)
        for _ in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        return nn.Dense(self.out_dim, dtype=self.dtype)(h).astype(jnp.float32)


class MLPDiscriminator(nn.Module):
    hidden: int = 128
    depth: int = 2
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        del train, y  # unconditional; labels accepted for a uniform signature
        h = x.reshape(x.shape[0], -1).astype(self.dtype)
        for _ in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        self.sow("intermediates", "features", h.astype(jnp.float32))
        return nn.Dense(1, dtype=self.dtype)(h).reshape(x.shape[0]).astype(jnp.float32)
