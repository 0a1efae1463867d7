"""Generator and discriminator modules, looked up by name from the config.

Every module has the signature ``module(inputs, y=None, train=True)``: ``y`` carries class
labels for conditional models and is ignored by unconditional ones, so the train step never
needs to know which kind it drives. Discriminators return one float32 logit per sample and
sow their penultimate features as ``intermediates/features`` for the health signals.

A family is declared once, in its own module, with `register_model` (`models/family.py`):
its factories and its special cases. The built-in families register when this package is
imported (the imports below); a user's family registers by calling `register_model`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from jaxgan.models.family import (
    DISCRIMINATORS,
    FAMILIES,
    GENERATORS,
    ModelFamily,
    discriminator_family,
    generator_family,
    register_model,
)
from jaxgan.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator, validate_mlp
from jaxgan.schema import Config


def _dcgan_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return DCGANGenerator(cfg.data.resolution, cfg.data.channels, cfg.model.g_width,
                          cfg.model.upsample, bn_axis, dtype)


def _dcgan_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return DCGANDiscriminator(cfg.data.resolution, cfg.model.d_width, bn_axis, dtype,
                              downsample=cfg.model.downsample, sn=cfg.model.spectral_norm)


def _mlp_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return MLPGenerator(cfg.model.mlp.hidden, cfg.model.mlp.depth, 2, dtype,
                        categories=cfg.model.mlp.latent_categories)


def _mlp_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return MLPDiscriminator(cfg.model.mlp.hidden, cfg.model.mlp.depth, dtype,
                            sn=cfg.model.spectral_norm, bias_init=cfg.model.mlp.bias_init)


register_model("dcgan", _dcgan_g, _dcgan_d)
register_model("mlp", _mlp_g, _mlp_d, config=MLPConfig, validate=validate_mlp)

# The other built-in families register themselves on import (ProGAN's checks run first).
from jaxgan.models import progan, resnet, sagan, conditional, infogan, dcgan_fc, biggan, stylegan2  # noqa: E402, F401, I001


def compute_dtype(cfg: Config) -> Any:
    return jnp.bfloat16 if cfg.train.precision == "bf16" else jnp.float32


def build_models(cfg: Config) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the config; raises ValueError for unknown names.
    Layer programs still "auto" (a Config built by hand) get this backend's choice."""
    from jaxgan.schema import resolve_auto

    cfg = resolve_auto(cfg)
    for kind, table, name in (("generator", GENERATORS, cfg.model.generator),
                              ("discriminator", DISCRIMINATORS, cfg.model.discriminator)):
        if name not in table:
            raise ValueError(f"model.{kind}={name!r} is not a known {kind}; choose one of: "
                             f"{', '.join(sorted(table))}")
    bn_axis = "data" if cfg.model.sync_bn else None
    dtype = compute_dtype(cfg)
    d = DISCRIMINATORS[cfg.model.discriminator](cfg, dtype, bn_axis)
    if cfg.model.pack > 1:  # PacGAN: D judges groups of samples (models/packing.py)
        from jaxgan.models.packing import Packed

        d = Packed(d, cfg.model.pack)
    return GENERATORS[cfg.model.generator](cfg, dtype, bn_axis), d


__all__ = ["build_models", "GENERATORS", "DISCRIMINATORS", "FAMILIES", "ModelFamily",
           "register_model", "generator_family", "discriminator_family", "DCGANGenerator",
           "DCGANDiscriminator", "MLPGenerator", "MLPDiscriminator", "compute_dtype"]
