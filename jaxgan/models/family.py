"""The model registry: each family declares its modules and its special cases in one call.

`register_model(name, generator=..., discriminator=..., ...)` makes ``model.generator=NAME``
and/or ``model.discriminator=NAME`` valid and says what the generic code needs to know
about the family, so that nothing outside the family's own module asks for it by name:

* `paired`: its G and D only work together (InfoGAN's Q head, ProGAN's growth);
* `packable` / `spectral_norm`: whether its D takes PacGAN packing (``model.pack``) and
  ``model.spectral_norm``;
* `config`: the dataclass of its own config fields, its section ``model.NAME.*``
  (``section`` names it when that is not the family's name: StyleGAN2's is
  ``model.stylegan``); the schema parses, prints and saves it with the rest, and a key
  that moved there from the old flat ``model.*`` is in `jaxgan.legacy.RENAMED`;
* `validate(cfg, device_count)`: the rules of its own config fields, called for every
  config (a family refuses its fields on a run that does not use it); `device_count` is
  None when the devices are not known yet;
* `step_parts(cfg)`: what the family adds to the step, a `jaxgan.parts.TrickParts`
  merged before the tricks' (`jaxgan.tricks`; InfoGAN's mutual information);
* `wrap_step(cfg, models, loss, make_train_step, kwargs)`: a step of its own built from the
  plain one (ProGAN's growth: a branch per stage); `sweepable=False` when that step cannot
  be vmapped by `jaxgan sweep` yet;
* `batch_plan(cfg)`: which data batch each critic round reads, when not round k's plain
  batch (ProGAN's per-stage batch sizes);
* `bench_state(cfg, models, state)`: the state `jaxgan bench` times (ProGAN: its final
  stage, the one XLA's FLOP count describes);
* `panels(run, state, workdir, step, writer)`: figures written beside each sample grid
  (InfoGAN's latent traversal).

This module imports only the schema, so `jaxgan.config` can validate against the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jaxgan.schema import Config, register_section

Factory = Callable[[Config, Any, str | None], Any]  # (cfg, dtype, bn_axis) -> nn.Module

__all__ = ["ModelFamily", "register_model", "FAMILIES", "GENERATORS", "DISCRIMINATORS",
           "generator_family", "discriminator_family"]


@dataclass(frozen=True)
class ModelFamily:
    name: str
    paired: bool = False
    packable: bool = True
    spectral_norm: bool = True
    config: type | None = None  # the dataclass of its section, model.<section>
    section: str = ""  # the section's name; "" is the family's name
    validate: Callable[[Config, int | None], None] | None = None
    step_parts: Callable[[Config], Any] | None = None  # -> parts.TrickParts
    wrap_step: Callable[..., Any] | None = None
    sweepable: bool = True
    batch_plan: Callable[[Config], Any] | None = None
    bench_state: Callable[[Config, Any, Any], Any] | None = None
    panels: Callable[..., None] | None = None


FAMILIES: dict[str, ModelFamily] = {}
GENERATORS: dict[str, Factory] = {}
DISCRIMINATORS: dict[str, Factory] = {}


def register_model(name: str, generator: Factory | None = None,
                   discriminator: Factory | None = None, **spec: Any) -> ModelFamily:
    """Register a family's generator and/or discriminator factory under `name`, with the
    `ModelFamily` fields in `spec`; returns the family."""
    family = ModelFamily(name, **spec)
    FAMILIES[name] = family
    if family.config is not None:
        register_section(family.section or name, family.config)
    if generator is not None:
        GENERATORS[name] = generator
    if discriminator is not None:
        DISCRIMINATORS[name] = discriminator
    return family


def generator_family(cfg: Config) -> ModelFamily:
    """The family of the config's generator (whose hooks shape the step and the data)."""
    return FAMILIES.get(cfg.model.generator) or ModelFamily(cfg.model.generator)


def discriminator_family(cfg: Config) -> ModelFamily:
    return FAMILIES.get(cfg.model.discriminator) or ModelFamily(cfg.model.discriminator)
