"""The FID InceptionV3 in Flax linen (NHWC, inference only).

Why this exact network: FID numbers are only comparable across papers when computed with
TensorFlow's 2015-12-05 Inception graph, which pytorch-fid ports as torchvision's
InceptionV3 with patched blocks (``FIDInceptionA/C/E_1/E_2``): the average pools in the
mixed blocks ignore padded zeros (``count_include_pad=False``) and the last block pools with
a max instead of an average. Every module here is named like the torch attribute it mirrors
(``Mixed_5b.branch3x3dbl_2``), so a torch state dict maps onto the Flax parameter tree by
name alone (see :mod:`jaxgan.metrics.weights`).

Batch norm uses the running statistics with eps 1e-3 (the TF graph's value); the loader
folds each batch norm into its convolution, so a conv here carries a bias and no norm.
The input is an NHWC float batch in [-1, 1] at 299x299; the output is the 2048-d pool3
feature and the 1008 logits of the final layer *without its bias*: the reference Inception
Score code (improved-GAN's, which torch-fidelity calls ``logits_unbiased``) multiplies pool3
by the softmax weights only, so the bias is left out to match it.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

BN_EPS = 1e-3
NUM_LOGITS = 1008
FEATURE_DIM = 2048


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _fast_padding(size: int, kernel: int, stride: int, pad: int) -> tuple[tuple[int, int], int]:
    """``((low, high), crop)`` computing the same outputs as symmetric ``pad`` on one axis.

    Why: XLA:CPU's default convolution (its YNNPACK fusion, jaxlib 0.10.2) runs an unpadded
    3x3 convolution 2.5-3.5x slower than the same convolution with padding: Conv2d_4a took
    1.49 s vs 0.45 s at batch 16. So an unpadded 3x3 conv is asked for with padding whose
    zeros are never read, giving bit-identical outputs: stride 2 with ``(size - k)`` even
    takes one padded column at the end, which no window reaches; stride 1 pads 1 on both
    sides and crops the one output on each edge that read the zeros (2.7 % more work at
    Conv2d_2a, 5.7 % at Conv2d_4a).
    """
    if pad or kernel != 3:
        return (pad, pad), 0
    if stride == 1:
        return (1, 1), 1
    if stride == 2 and (size - kernel) % 2 == 0:
        return (0, 1), 0
    return (0, 0), 0


class BasicConv(nn.Module):
    """Conv + (folded) batch norm + ReLU: torchvision's ``BasicConv2d`` at inference."""

    features: int
    kernel: tuple[int, int] | int
    stride: int = 1
    padding: tuple[int, int] | int = 0

    @nn.compact
    def __call__(self, x):
        k, p = _pair(self.kernel), _pair(self.padding)
        (ph, ch), (pw, cw) = (
            _fast_padding(x.shape[1 + i], k[i], self.stride, p[i]) for i in range(2)
        )
        x = nn.Conv(self.features, k, strides=self.stride, padding=(ph, pw), name="conv")(x)
        if ch or cw:
            x = x[:, ch : x.shape[1] - ch, cw : x.shape[2] - cw]
        return nn.relu(x)


def _avg_pool_same(x):
    return nn.avg_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_valid(x):
    return nn.max_pool(x, (3, 3), (2, 2))


class InceptionA(nn.Module):
    pool_features: int

    @nn.compact
    def __call__(self, x):
        b1 = BasicConv(64, 1, name="branch1x1")(x)
        b5 = BasicConv(48, 1, name="branch5x5_1")(x)
        b5 = BasicConv(64, 5, padding=2, name="branch5x5_2")(b5)
        b3 = BasicConv(64, 1, name="branch3x3dbl_1")(x)
        b3 = BasicConv(96, 3, padding=1, name="branch3x3dbl_2")(b3)
        b3 = BasicConv(96, 3, padding=1, name="branch3x3dbl_3")(b3)
        bp = BasicConv(self.pool_features, 1, name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
    @nn.compact
    def __call__(self, x):
        b3 = BasicConv(384, 3, stride=2, name="branch3x3")(x)
        bd = BasicConv(64, 1, name="branch3x3dbl_1")(x)
        bd = BasicConv(96, 3, padding=1, name="branch3x3dbl_2")(bd)
        bd = BasicConv(96, 3, stride=2, name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, _max_pool_valid(x)], axis=-1)


class InceptionC(nn.Module):
    channels_7x7: int

    @nn.compact
    def __call__(self, x):
        c = self.channels_7x7
        b1 = BasicConv(192, 1, name="branch1x1")(x)
        b7 = BasicConv(c, 1, name="branch7x7_1")(x)
        b7 = BasicConv(c, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
        b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
        bd = BasicConv(c, 1, name="branch7x7dbl_1")(x)
        bd = BasicConv(c, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
        bd = BasicConv(c, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
        bd = BasicConv(c, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
        bd = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
        bp = BasicConv(192, 1, name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
    @nn.compact
    def __call__(self, x):
        b3 = BasicConv(192, 1, name="branch3x3_1")(x)
        b3 = BasicConv(320, 3, stride=2, name="branch3x3_2")(b3)
        b7 = BasicConv(192, 1, name="branch7x7x3_1")(x)
        b7 = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
        b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
        b7 = BasicConv(192, 3, stride=2, name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, _max_pool_valid(x)], axis=-1)


class InceptionE(nn.Module):
    """``max_pool=True`` is pytorch-fid's ``FIDInceptionE_2`` (the TF graph's quirk)."""

    max_pool: bool = False

    @nn.compact
    def __call__(self, x):
        b1 = BasicConv(320, 1, name="branch1x1")(x)
        b3 = BasicConv(384, 1, name="branch3x3_1")(x)
        b3 = jnp.concatenate(
            [
                BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3),
            ],
            axis=-1,
        )
        bd = BasicConv(448, 1, name="branch3x3dbl_1")(x)
        bd = BasicConv(384, 3, padding=1, name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate(
            [
                BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd),
            ],
            axis=-1,
        )
        if self.max_pool:
            pooled = nn.max_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)))
        else:
            pooled = _avg_pool_same(x)
        bp = BasicConv(192, 1, name="branch_pool")(pooled)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class FIDInceptionV3(nn.Module):
    """Returns ``(pool3 (N, 2048), logits (N, 1008))`` for inputs in [-1, 1], NHWC."""

    @nn.compact
    def __call__(self, x):
        x = BasicConv(32, 3, stride=2, name="Conv2d_1a_3x3")(x)
        x = BasicConv(32, 3, name="Conv2d_2a_3x3")(x)
        x = BasicConv(64, 3, padding=1, name="Conv2d_2b_3x3")(x)
        x = _max_pool_valid(x)
        x = BasicConv(80, 1, name="Conv2d_3b_1x1")(x)
        x = BasicConv(192, 3, name="Conv2d_4a_3x3")(x)
        x = _max_pool_valid(x)
        x = InceptionA(32, name="Mixed_5b")(x)
        x = InceptionA(64, name="Mixed_5c")(x)
        x = InceptionA(64, name="Mixed_5d")(x)
        x = InceptionB(name="Mixed_6a")(x)
        x = InceptionC(128, name="Mixed_6b")(x)
        x = InceptionC(160, name="Mixed_6c")(x)
        x = InceptionC(160, name="Mixed_6d")(x)
        x = InceptionC(192, name="Mixed_6e")(x)
        x = InceptionD(name="Mixed_7a")(x)
        x = InceptionE(name="Mixed_7b")(x)
        x = InceptionE(max_pool=True, name="Mixed_7c")(x)
        pool3 = jnp.mean(x, axis=(1, 2))
        logits = nn.Dense(NUM_LOGITS, use_bias=False, name="fc")(pool3)
        return pool3, logits
