"""DCGAN (Radford et al. 2016) generator and discriminator for any power-of-two size.

Layout follows the paper and the PyTorch reference (pytorch/examples/dcgan): the generator
projects z to a 4x4 map (PyTorch's ``ConvTranspose2d(nz, C, 4, 1, 0)`` on a 1x1 input is
exactly a dense layer), doubles the resolution with 4x4 stride-2 up-convolutions, batch
norm + ReLU everywhere but the tanh output; the discriminator halves the resolution with
4x4 stride-2 convolutions, LeakyReLU(0.2), batch norm everywhere but the first layer, and a
final 4x4 valid convolution to one logit. Widths double as resolution halves, so for 64x64
and width 64 the channel ladder is PyTorch's 512-256-128-64.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.layers import DCGAN_INIT, DownConv, SNConv, UpConv, bn_scale_init


def _num_blocks(resolution: int) -> int:
    n = int(math.log2(resolution)) - 2
    if resolution < 8 or 2 ** (n + 2) != resolution:
        raise ValueError(f"DCGAN needs a power-of-two resolution >= 8, got {resolution}")
    return n


def _bn(train: bool, axis_name: str | None, dtype) -> nn.BatchNorm:
    # PyTorch momentum 0.1 == Flax momentum 0.9; eps as in PyTorch.
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        scale_init=bn_scale_init, axis_name=axis_name, dtype=dtype)


class DCGANGenerator(nn.Module):
    resolution: int = 32
    channels: int = 1
    width: int = 64
    upsample: str = "fast"
    bn_axis_name: str | None = None  # "data" for cross-replica batch norm
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        n = _num_blocks(self.resolution)
        ch = self.width * 2 ** (n - 1)
        h = nn.Dense(4 * 4 * ch, use_bias=False, kernel_init=DCGAN_INIT, dtype=self.dtype)(z)
        h = h.reshape(z.shape[0], 4, 4, ch)
        h = nn.relu(_bn(train, self.bn_axis_name, self.dtype)(h))
        for i in range(n - 1):
            ch //= 2
            h = UpConv(ch, self.upsample, dtype=self.dtype, name=f"up{i}")(h)
            h = nn.relu(_bn(train, self.bn_axis_name, self.dtype)(h))
        h = UpConv(self.channels, self.upsample, dtype=self.dtype, name="to_image")(h)
        return jnp.tanh(h.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
    """Returns one logit per image; sows the last feature map as 'features' for diagnostics.

    ``sn=True`` (`model.spectral_norm`) spectrally normalizes every convolution, the
    power-iteration vectors kept in ``batch_stats``, and drops the batch norms: a batch
    norm rescales each layer by the batch's inverse standard deviation, which undoes the
    Lipschitz bound the normalization buys (Miyato et al. 2018's SN "standard CNN" and
    StudioGAN's DCGAN with ``apply_d_sn`` have none either). Parameter names and shapes
    are unchanged, so only the batch norms' entries differ between the two trees.
    """

    resolution: int = 32
    width: int = 64
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32
    downsample: str = "s2d"  # "s2d" (one matmul) | "conv" (lax.conv): same map, see strided_conv
    sn: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        n = _num_blocks(self.resolution)
        ch = self.width
        h = x.astype(self.dtype)
        for i in range(n):
            if self.sn:
                h = DownConv(ch, self.downsample, dtype=self.dtype, sn=True,
                             name=f"down{i}")(h, train)
            elif self.downsample == "conv":
                h = nn.Conv(ch, (4, 4), (2, 2), padding=((1, 1), (1, 1)), use_bias=False,
                            kernel_init=DCGAN_INIT, dtype=self.dtype, name=f"down{i}")(h)
            else:
                h = DownConv(ch, self.downsample, dtype=self.dtype, name=f"down{i}")(h)
            if i > 0 and not self.sn:
                h = _bn(train, self.bn_axis_name, self.dtype)(h)
            h = nn.leaky_relu(h, 0.2)
            ch *= 2
        feats = h.reshape(h.shape[0], -1)
        self.sow("intermediates", "features", feats.astype(jnp.float32))
        if self.sn:
            out = SNConv(1, (4, 4), padding="VALID", use_bias=False, kernel_init=DCGAN_INIT,
                         dtype=self.dtype, name="logit")(h, train)
        else:
            out = nn.Conv(1, (4, 4), padding="VALID", use_bias=False, kernel_init=DCGAN_INIT,
                          dtype=self.dtype, name="logit")(h)
        return out.reshape(x.shape[0]).astype(jnp.float32)
