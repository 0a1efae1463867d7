"""SAGAN (Zhang et al. 2019): the ResNet GAN with self-attention and spectral norm in both.

SAGAN is not a new network so much as three switches on the SNGAN ResNet: a
`SelfAttention` block at one feature resolution in G and in D (``model.attention_res``),
spectral normalization in the generator as well as the discriminator, and the two
time-scale update rule (G 1e-4, D 4e-4, Adam betas (0, 0.9)) with the hinge loss. The
factories here force the first two so ``model.generator=sagan`` means the paper's model;
the optimizer and loss live in the preset (`jaxgan/configs/sagan_cifar10.py`).
"""

from __future__ import annotations

from typing import Any

from flax import linen as nn

from jaxgan.models.family import register_model
from jaxgan.models.resnet import ResNetDiscriminator, ResNetGenerator
from jaxgan.schema import Config


def _attention_res(cfg: Config) -> int:
    """The configured resolution, or half the image size (SAGAN's 32 at 128, 16 at 32)."""
    return cfg.model.attention_res or max(cfg.data.resolution // 2, 8)


def sagan_generator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return ResNetGenerator(cfg.data.resolution, cfg.data.channels, m.g_width, m.num_classes,
                           _attention_res(cfg), True, bn_axis, dtype)


def sagan_discriminator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return ResNetDiscriminator(cfg.data.resolution, m.d_width, m.num_classes,
                               _attention_res(cfg), True, dtype)


register_model("sagan", sagan_generator, sagan_discriminator)
