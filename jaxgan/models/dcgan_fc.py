"""The small-image DCGAN with fully connected layers: InfoGAN's MNIST networks without codes.

Generator: FC 1024 BN ReLU, FC to a (res/4)^2 x 2W map BN ReLU, 4x4 stride-2 up-convolution
(W) BN ReLU, 4x4 stride-2 up-convolution to the image, tanh. Discriminator: 4x4 stride-2
convolutions (W, then 2W with BN), LeakyReLU 0.1, FC 1024 BN LeakyReLU, one logit. These are
the networks of the InfoGAN paper's MNIST experiments (Chen et al. 2016, Table 1) and of
TF-GAN's unconditional MNIST example; they are `models/infogan.py`'s modules with no
latent codes and no Q head, so the two families share every parameter name.

Why a family of its own: at 8x8 the plain DCGAN has one convolution per player (project to
4x4, one up-convolution; one down-convolution, then the 4x4 logit), and its D stays at
chance (D loss 2 ln 2 throughout; the generator learns little detail). The FC 1024 layers
give both players the depth that the resolution cannot: on the embedded digits at 8x8 the
share of samples an independent classifier labels with probability >= 0.9 went from
0.55-0.62 (dcgan, 2,000-3,000 iterations) to 0.84-0.90 at the same budget
(benchmarks/preset_seeds.py; `configs/dcgan_digits.py` has the five-seed figures).
"""

from __future__ import annotations

from typing import Any

from flax import linen as nn

from jaxgan.errors import ConfigError
from jaxgan.models.family import register_model
from jaxgan.models.infogan import InfoGANDiscriminator, InfoGANGenerator
from jaxgan.schema import Config


def _g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return InfoGANGenerator(cfg.data.resolution, cfg.data.channels, cfg.model.g_width, 0, 0,
                            bn_axis, dtype)


def _d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return InfoGANDiscriminator(cfg.data.resolution, cfg.model.d_width, 0, 0, bn_axis, dtype)


def validate(cfg: Config, device_count: int | None = None) -> None:
    """The FC networks need a resolution that halves twice to a whole map (>= 4)."""
    m = cfg.model
    if "dcgan_fc" in (m.generator, m.discriminator) and cfg.data.resolution % 4:
        raise ConfigError(f"model.generator/discriminator=dcgan_fc needs data.resolution "
                          f"divisible by 4, got {cfg.data.resolution}")


register_model("dcgan_fc", _g, _d, packable=False, spectral_norm=False, validate=validate)
