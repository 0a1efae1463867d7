"""Preset lookup, dotted KEY=VALUE overrides and validation of the config schema.

The schema itself (the sections' dataclasses and their type checks) is `jaxgan.schema`;
this module re-exports its names, so ``jaxgan.config.Config`` is the one to use. Validation
happens here, before anything is compiled or
written, so that a typo costs one line on stderr instead of a traceback minutes later.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

# The model families register their config sections (``model.NAME.*``) on import, so
# every Config built from here on has them: presets, config.json files, overrides.
import jaxgan.models  # noqa: F401
from jaxgan.errors import ConfigError
from jaxgan.schema import (  # noqa: F401  (re-exported; _flatten for the writers)
    AUTO_LAYERS,
    NATIVE_LAYERS,
    Config,
    DataConfig,
    EvalConfig,
    HealthConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    OptimPair,
    TrainConfig,
    TricksConfig,
    _flatten,
    apply_overrides,
    from_dict,
    resolve_auto,
)

# Values with a closed set of choices that no registry owns; checked by `validate`, after
# the registries' own (`choices`).
CHOICES: dict[str, tuple[str, ...]] = {
    "model.upsample": ("auto", "subpixel", "transpose", "phase", "col2im", "fast"),
    "model.downsample": ("auto", "conv", "s2d"),
    "train.precision": ("float32", "bf16"),
    "train.cpu_dots": ("auto", "ynn", "eigen"),
    "train.on_nan": ("stop", "rollback"),
    "train.keep_best_mode": ("min", "max"),
    "health.on_failure": ("warn", "stop", "remedy"),
    "data.stream": ("auto", "true", "false"),
}

PRESET_DIR = Path(__file__).parent / "configs"
DEFAULT_PRESET = "dcgan_digits"


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.py") if not p.stem.startswith("_"))


def load_preset(name_or_path: str | None) -> Config:
    """A preset by name (`jaxgan/configs/NAME.py`) or a Python/JSON file defining one."""
    name_or_path = name_or_path or DEFAULT_PRESET
    path = Path(name_or_path)
    if path.suffix == ".json":
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"config file {path} is not valid JSON: {e.msg} at line {e.lineno}") from None
        return from_dict(raw)
    if path.suffix == ".py":
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        spec = importlib.util.spec_from_file_location(f"_jaxgan_cfg_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        if name_or_path not in list_presets():
            raise ConfigError(
                f"unknown preset {name_or_path!r}; choose one of: {', '.join(list_presets())}"
                " or pass a .py/.json config file"
            )
        module = importlib.import_module(f"jaxgan.configs.{name_or_path}")
    if not hasattr(module, "get_config"):
        raise ConfigError(f"config {name_or_path} defines no get_config()")
    cfg = module.get_config()
    if not isinstance(cfg, Config):
        raise ConfigError(f"get_config() in {name_or_path} must return a jaxgan.config.Config")
    return cfg


def _is_pow2(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def choices() -> dict[str, tuple[str, ...]]:
    """Every key with a closed set of values and its allowed values, in the order they are
    checked: the registries' (losses, data sources, optimizers, model families), read from
    the registries themselves, then `CHOICES`."""
    from jaxgan.data.sources import SOURCES
    from jaxgan.losses import LOSSES
    from jaxgan.models import DISCRIMINATORS, GENERATORS
    from jaxgan.state import OPTIMIZERS, SCHEDULES

    return {"data.source": tuple(SOURCES), "loss.name": tuple(LOSSES),
            "optim.g.name": tuple(OPTIMIZERS), "optim.d.name": tuple(OPTIMIZERS),
            "optim.g.schedule": tuple(SCHEDULES), "optim.d.schedule": tuple(SCHEDULES),
            "model.generator": tuple(GENERATORS), "model.discriminator": tuple(DISCRIMINATORS),
            **CHOICES}


def validate(cfg: Config, device_count: int | None = None) -> Config:
    """Check ranges and choices; raise ConfigError naming the key and what is allowed."""
    flat = _flatten(cfg.to_dict())
    for key, allowed in choices().items():
        if flat[key] not in allowed:
            raise ConfigError(f"{key}={flat[key]!r} is not allowed; choose one of: "
                              f"{', '.join(allowed)}")
    from jaxgan.metrics.registry import METRICS

    unknown = [m for m in cfg.eval.metrics if m not in METRICS]
    if unknown:
        raise ConfigError(f"eval.metrics has unknown {unknown}; choose from "
                          f"{', '.join(METRICS)}")
    positive = ["train.steps", "train.batch_size", "train.n_critic", "train.steps_per_call",
                "train.log_every", "train.sample_every", "train.checkpoint_every",
                "train.keep_checkpoints", "train.num_samples", "model.latent_dim",
                "model.g_width", "model.d_width", "data.channels", "health.window",
                "health.light_every"]
    for key in positive:
        if flat[key] <= 0:
            raise ConfigError(f"{key} must be a positive integer, got {flat[key]}")
    for key in ("optim.g.lr", "optim.d.lr"):
        if not flat[key] > 0:
            raise ConfigError(f"{key} must be a positive learning rate, got {flat[key]}")
    for key in ("optim.g.b1", "optim.d.b1", "optim.g.b2", "optim.d.b2", "train.ema_decay"):
        if not 0.0 <= flat[key] < 1.0:
            raise ConfigError(f"{key} must be in [0, 1), got {flat[key]}")
    for key in ("optim.g.eps", "optim.d.eps", "optim.g.weight_decay", "optim.d.weight_decay",
                "optim.g.grad_clip", "optim.d.grad_clip", "eval.every", "train.max_rollbacks",
                "model.num_classes", "model.attention_res", "train.keep_every",
                "health.max_remedies", "train.ema_start"):
        if flat[key] < 0:
            raise ConfigError(f"{key} must be >= 0, got {flat[key]}")
    for player in ("g", "d"):
        if not 0.0 <= flat[f"optim.{player}.schedule_final"] <= 1.0:
            raise ConfigError(f"optim.{player}.schedule_final must be in [0, 1] (the last "
                              f"update's scale), got {flat[f'optim.{player}.schedule_final']}")
    t = cfg.train  # retention: only saved steps can be kept; the best needs evaluations
    if t.keep_every and t.keep_every % t.checkpoint_every:
        raise ConfigError(f"train.keep_every={t.keep_every} must be a multiple of "
                          f"train.checkpoint_every={t.checkpoint_every} (only saved steps can "
                          "be kept)")
    if t.keep_best and not cfg.eval.every:
        raise ConfigError(f"train.keep_best={t.keep_best} needs eval.every > 0 (the metric "
                          "comes from the evaluations made while training)")
    from jaxgan.data.sources import on_device

    if not on_device(cfg.data.source):  # images: the shape rules apply
        if not _is_pow2(cfg.data.resolution) or not 8 <= cfg.data.resolution <= 256:
            raise ConfigError(f"data.resolution must be a power of two from 8 to 256, got "
                              f"{cfg.data.resolution}")
        if cfg.data.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {cfg.data.channels}")
    from jaxgan.tricks import validate_tricks

    validate_tricks(cfg)
    _validate_families(cfg, device_count)
    if cfg.data.source == "tfds" and not cfg.data.name:
        raise ConfigError("data.name must name a tfds dataset (e.g. mnist) when data.source=tfds")
    from jaxgan.data.sources import can_stream

    if cfg.data.stream == "true" and not can_stream(cfg.data.source):
        raise ConfigError(f"data.stream=true streams a prepared dataset, not data.source="
                          f"{cfg.data.source}: run `jaxgan prepare` on it once, then train "
                          "with data.source=arrayrecord data.path=DIR")
    if cfg.data.workers < 0:
        raise ConfigError(f"data.workers must be >= 0, got {cfg.data.workers}")
    if cfg.data.source in ("folder", "npz", "arrayrecord") and not cfg.data.path:
        raise ConfigError(f"data.path must point to the {cfg.data.source} when "
                          f"data.source={cfg.data.source}")
    if device_count is not None and cfg.train.batch_size % device_count:
        raise ConfigError(f"train.batch_size={cfg.train.batch_size} must be divisible by the "
                          f"device count {device_count} (the batch is split over devices)")
    if device_count is not None and cfg.model.pack > 1 and \
            (cfg.train.batch_size // device_count) % cfg.model.pack:
        raise ConfigError(f"model.pack={cfg.model.pack} must divide the per-device batch "
                          f"train.batch_size/devices={cfg.train.batch_size // device_count}")
    return cfg


def _validate_families(cfg: Config, device_count: int | None) -> None:
    """The model families' rules, as each registered them (`jaxgan.models.register_model`)."""
    from jaxgan.models import FAMILIES, discriminator_family, generator_family

    m = cfg.model
    g, d = generator_family(cfg), discriminator_family(cfg)
    for fam in (g, d):  # e.g. InfoGAN's Q head and ProGAN's growth need both halves
        if fam.paired and m.generator != m.discriminator:
            raise ConfigError(f"model.generator and model.discriminator must both be "
                              f"{fam.name!r} (got {m.generator!r} and {m.discriminator!r})")
    if m.pack < 1:
        raise ConfigError(f"model.pack must be a positive integer, got {m.pack}")
    if m.pack > 1 and (not d.packable or m.num_classes):
        ok = [f.name for f in FAMILIES.values() if f.packable and f.name in _discriminators()]
        raise ConfigError(f"model.pack={m.pack} works with unconditional {_words(ok)} "
                          f"discriminators, not model.discriminator={m.discriminator} with "
                          f"model.num_classes={m.num_classes}")
    if m.spectral_norm and not d.spectral_norm:
        ok = [f.name for f in FAMILIES.values() if f.spectral_norm and f.name in
              _discriminators()]
        raise ConfigError(f"model.spectral_norm is not available for model.discriminator="
                          f"{m.discriminator}; it works with {_words(ok)}")
    for fam in FAMILIES.values():  # each family checks its own fields, used or not
        if fam.validate is not None:
            fam.validate(cfg, device_count)


def _discriminators() -> tuple[str, ...]:
    from jaxgan.models import DISCRIMINATORS

    return tuple(DISCRIMINATORS)


def _words(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def resolve(preset: str | None, overrides: list[str] | tuple[str, ...] = (),
            device_count: int | None = None) -> Config:
    """Preset + overrides + validation, with "auto" choices made for this backend
    (`resolve_auto`): the one way the CLI and notebooks build a config."""
    cfg = validate(apply_overrides(load_preset(preset), list(overrides)), device_count)
    return resolve_auto(cfg)


__all__ = ["Config", "ConfigError", "ModelConfig", "DataConfig", "LossConfig", "OptimConfig",
           "OptimPair", "TricksConfig", "TrainConfig", "EvalConfig", "HealthConfig", "resolve",
           "load_preset", "apply_overrides", "validate", "from_dict", "list_presets",
           "resolve_auto"]
