"""PacGAN packing (Lin et al., 2018): the discriminator judges groups of samples jointly.

Why: a discriminator that sees one sample at a time cannot tell a generator that puts every
sample on one mode from one that covers them all, as long as each sample looks real. Seen
``pack`` at a time, a collapsed generator's groups are visibly too alike, so D penalizes
the collapse itself. PacGAN's 5x5-grid table: 24.8 of 25 modes with packing of 4 against
17.3 without, at the same architecture.

`Packed` wraps any plain discriminator: consecutive samples ``[i*pack, (i+1)*pack)`` are
concatenated along the last axis (features for vectors, channels for images, as PacGAN
does) and judged by one logit, which is repeated for each member of the group. So the
step, the losses and the health signals still see one logit per sample, and the mean of
a per-sample loss equals the mean over groups. Groups never mix real and fake samples
because both halves are multiples of ``pack`` (the config checks the per-device batch).
Gradient penalties (R1, WGAN-GP) act on the packed input: a sample's input gradient is
``pack`` times its share of its group's gradient (the logit counts once per member).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn


def pack_inputs(x: jax.Array, pack: int) -> jax.Array:
    """(B, ..., C) -> (B // pack, ..., pack * C): each group's members side by side in the
    last axis, first member first."""
    b = x.shape[0]
    g = x.reshape(b // pack, pack, *x.shape[1:])
    g = jnp.moveaxis(g, 1, -2)  # (B/pack, ..., pack, C)
    return g.reshape(*g.shape[:-2], pack * x.shape[-1])


class Packed(nn.Module):
    """``inner`` judging ``pack`` consecutive samples at once; one logit per sample out."""

    inner: nn.Module
    pack: int

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        b = x.shape[0]
        pad = -b % self.pack  # only at initialization (a batch of 2); training batches are
        if pad:               # multiples of pack
            x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)])
            y = None if y is None else jnp.concatenate([y, jnp.repeat(y[-1:], pad)])
        groups = pack_inputs(x, self.pack)
        y_groups = None if y is None else y[:: self.pack]
        logits = self.inner(groups, y_groups, train=train)
        return jnp.repeat(logits, self.pack, axis=0)[:b]
