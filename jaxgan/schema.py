"""The config schema: the sections' dataclasses, KEY=VALUE values checked against their
types, and every key described for people with its type and default.

A config is a tree of plain (mutable) dataclasses so that presets are plain Python, a
run's resolved config serializes to ``config.json`` losslessly, and every field has a type
that overrides are checked against: `from_dict` and `apply_overrides` build a Config from
JSON or KEY=VALUE strings through `coerce`, and `resolve_auto` makes the backend's "auto"
layer choices. The schema sits below `jaxgan.config` (presets, validation against the
registries), which re-exports these names; the model families and data sources import the
schema only, so that validation may ask them what they allow.

`coerce` converts an override string or a JSON value to a field's declared type (the
dataclasses' annotations in `config.py`), or refuses it in one line. `jaxgan config --keys`
prints `describe_keys`, so that the keys a preset does not mention can be found without
reading `config.py`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from jaxgan.errors import ConfigError
from jaxgan.legacy import migrate, renamed_message

__all__ = ["describe_keys", "coerce", "from_dict", "apply_overrides", "resolve_auto",
           "Config", "ModelConfig", "DataConfig", "LossConfig",
           "TricksConfig", "OptimConfig", "OptimPair", "TrainConfig", "EvalConfig",
           "HealthConfig", "SECTIONS", "register_section"]


@dataclass(eq=False)
class ModelConfig:
    """Generator and discriminator architecture, looked up by name in `jaxgan.models`.

    The fields below are the ones any family may read. A family's own fields live in its
    section, reached as an attribute (``cfg.model.infogan.categorical``) although it is
    not a dataclass field: the families import this schema, so the schema cannot list
    them; they add their section when they register (`register_section`), and
    `to_dict`, `describe_keys`, `from_dict` and equality include every section."""

    generator: str = "dcgan"
    discriminator: str = "dcgan"
    latent_dim: int = 100
    g_width: int = 64  # DCGAN: channels of the last generator block (ngf)
    d_width: int = 64  # DCGAN: channels of the first discriminator block (ndf)
    # DCGAN up/down convolutions: every mode computes the same map with the same kernel
    # (jaxgan/models/strided_conv.py). "fast" picks per layer between "phase" and "col2im", one
    # matmul each, and "s2d" is one matmul: the fastest exact forms on CPU, and measured only
    # there (benchmarks/RESULTS.md). "auto" is resolved by `resolve_auto` (`AUTO_LAYERS`) to
    # a concrete one.
    upsample: str = "auto"  # auto | fast | phase | col2im | subpixel | transpose
    downsample: str = "auto"  # auto | s2d | conv
    spectral_norm: bool = False  # D spectrally normalized: dcgan, mlp, resnet, projection
    pack: int = 1  # PacGAN: D judges groups of this many samples jointly (1: off)
    num_classes: int = 0  # > 0 for class-conditional models
    sync_bn: bool = False  # batch-norm statistics over the global batch (cross-replica)
    # shared by the attention families (resnet, sagan, biggan)
    g_spectral_norm: bool = False  # spectral norm in G too (SAGAN); `spectral_norm` is D's
    attention_res: int = 0  # self-attention after the block of this resolution (0: none)
    # Each family's own fields are its section, ``model.NAME.FIELD`` (e.g.
    # model.infogan.categorical), a dataclass the family declares with
    # ``register_model(..., config=...)``: see `register_section` below.

    def __post_init__(self) -> None:
        self.__dict__["_sections"] = {}

    def __getattr__(self, name: str) -> Any:
        """A family's section (``cfg.model.infogan``), made with its defaults when first
        read; only called for names that are not fields."""
        if name.startswith("__") or name == "_sections":
            raise AttributeError(name)
        sections = self.__dict__.setdefault("_sections", {})
        if name not in sections:
            if name not in SECTIONS:
                known = ", ".join(SECTIONS) or "none registered yet: import jaxgan.config"
                raise AttributeError(f"model has no field or family section {name!r} "
                                     f"(sections: {known})")
            sections[name] = SECTIONS[name]()
        return sections[name]

    def __setattr__(self, name: str, value: Any) -> None:
        """Fields as usual; anything else refused, so that a preset setting an old flat
        name (``cfg.model.info_weight = 2``) fails instead of being silently ignored."""
        if name in SECTIONS:
            self.__dict__.setdefault("_sections", {})[name] = value
        elif name in {f.name for f in dataclasses.fields(self)}:
            object.__setattr__(self, name, value)
        else:
            raise ConfigError(renamed_message(f"model.{name}", str(value)) or
                              f"unknown config key 'model.{name}'; model has no field or "
                              f"family section {name!r}")

    def sections(self) -> dict[str, Any]:
        """Every registered family's section, in registration order."""
        return {name: getattr(self, name) for name in SECTIONS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelConfig):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name)
                   for f in dataclasses.fields(self)) and self.sections() == other.sections()


# Family config sections: ``model.NAME`` -> its dataclass. A family registers its own with
# ``jaxgan.models.register_model(NAME, ..., config=Dataclass)``; the schema only stores,
# parses and prints them, so no generic code names a family's fields.
SECTIONS: dict[str, type] = {}


def register_section(name: str, cls: type) -> None:
    """Make ``model.NAME.*`` keys of the dataclass `cls` part of every config."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"model section {name!r} must be a dataclass, got {cls!r}")
    if name in {f.name for f in dataclasses.fields(ModelConfig)}:
        raise ValueError(f"model section {name!r} would hide the field model.{name}")
    SECTIONS[name] = cls


@dataclass
class DataConfig:
    """Where training data comes from; see `jaxgan.data.make_source`."""

    source: str = "digits"  # digits | tfds | folder | npz | arrayrecord | toy_ring | toy_grid
    name: str = ""  # tfds catalog name for source=tfds
    path: str = ""  # folder, .npz or prepared-dataset path; for tfds, an optional data_dir
    split: str = "train"
    resolution: int = 32
    channels: int = 1
    stream: str = "auto"  # arrayrecord: auto | true (stream from disk) | false (in memory)
    workers: int = 0  # streaming: Grain worker processes decoding (0: read threads only)


@dataclass
class LossConfig:
    """The adversarial loss; see `jaxgan.losses.LOSSES`."""

    name: str = "non_saturating"


@dataclass
class TricksConfig:
    """Stabilization tricks (`jaxgan.regularizers`), each composable with any model."""

    label_smoothing: float = 0.0  # one-sided: D's target for real data is 1 - this
    instance_noise: float = 0.0  # std of Gaussian noise added to every input of D
    instance_noise_anneal_steps: int = 0  # linear decay of that std to 0 (0: constant)
    label_flip: float = 0.0  # probability that a real/fake pair swaps labels for D
    r1_gamma: float = 0.0  # R1 penalty (Mescheder et al. 2018) gamma/2 * |grad D(real)|^2
    r1_every: int = 1  # lazy R1 (StyleGAN2): every this many D updates, scaled by it
    gp_weight: float = 0.0  # WGAN-GP gradient penalty lambda (Gulrajani et al. 2017)
    diffaugment: str = ""  # DiffAugment policy, e.g. "color,translation,cutout"
    weight_clip: float = 0.0  # WGAN: clip D's weights to [-c, c] after each update
    drift_penalty: float = 0.0  # ProGAN's epsilon_drift: + eps * E[D(real)^2] in D's loss
    ortho_reg: float = 0.0  # BigGAN: beta * ||W^T W * (1 - I)||_F^2 over G's weights (1e-4)
    # ADA (StyleGAN2-ADA, jaxgan/augment_ada.py): bgc | bg | c | a list of its ops ("": off)
    ada: str = ""
    ada_p: float = 0.0  # ADA: the initial augmentation probability p
    ada_target: float = 0.6  # ADA: the r_t = E[sign D(real)] that p is adjusted towards
    ada_kimg: float = 500.0  # ADA: thousands of images for p to go from 0 to 1 at most
    ada_interval: int = 4  # ADA: steps between adjustments of p


@dataclass
class OptimConfig:
    """One player's optax optimizer. TTUR is simply different `lr` for G and D."""

    name: str = "adam"  # adam | adamw | sgd | rmsprop
    lr: float = 2e-4
    b1: float = 0.5
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # global-norm clipping, 0 disables
    # constant | linear | cosine: updates scaled from 1 down to `schedule_final` over the
    # run's updates (train.steps for G, train.steps * n_critic for D), after the optimizer
    schedule: str = "constant"
    schedule_final: float = 0.0


@dataclass
class OptimPair:
    g: OptimConfig = field(default_factory=OptimConfig)
    d: OptimConfig = field(default_factory=OptimConfig)


@dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 64  # global batch, split evenly over all devices
    n_critic: int = 1  # discriminator updates per generator update
    steps_per_call: int = 1  # GAN iterations per compiled dispatch (lax.scan)
    ema_decay: float = 0.999  # 0 disables the EMA generator
    ema_start: int = 0  # the EMA generator copies G until this step, then averages (BigGAN)
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3  # the newest K checkpoints are kept (orbax's LatestN)
    keep_every: int = 0  # also keep the checkpoints at multiples of N steps forever (0: off)
    keep_best: str = ""  # also keep the best by this eval metric (fid, ...; needs eval.every)
    keep_best_mode: str = "min"  # min (fid, kid) | max (modes_captured, precision, ...)
    num_samples: int = 64  # size of the fixed-noise sample grid
    precision: str = "float32"  # float32 | bf16
    cpu_dots: str = "auto"  # XLA:CPU dot library: auto | ynn | eigen (see jaxgan.xla_cpu)
    on_nan: str = "stop"  # stop | rollback
    max_rollbacks: int = 3
    progress: bool = True


@dataclass
class EvalConfig:
    every: int = 0  # 0: no evaluation during training
    metrics: list[str] = field(default_factory=list)
    num_samples: int = 1000


@dataclass
class HealthConfig:
    enabled: bool = True
    # warn | stop | remedy (jaxgan/autopilot.py: restore the last healthy checkpoint,
    # apply the verdict's next remedy, continue; at most max_remedies times, then stop)
    on_failure: str = "warn"
    window: int = 10  # log points per detector window
    # a multi-step call computes the light signals (D's accuracies, gradient norms) on every
    # light_every-th iteration, the losses and NaN flag on all (jaxgan.multistep.scan_with_health)
    light_every: int = 5
    max_remedies: int = 3
    # live class count for the mode-collapse detector on labelled image data: jaxgan's
    # small classifier (jaxgan/classifier.py), trained once per dataset and cached
    class_signal: bool = True


@dataclass
class Config:
    """The whole run. `seed` drives parameter init, the data order and every step's RNG."""

    name: str = "custom"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    tricks: TricksConfig = field(default_factory=TricksConfig)
    optim: OptimPair = field(default_factory=OptimPair)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["model"].update({name: dataclasses.asdict(sec)
                             for name, sec in self.model.sections().items()})
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def coerce(value: Any, typ: Any, key: str) -> Any:
    """Convert an override string or JSON value to the field's declared type, or refuse."""
    origin = typing.get_origin(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                f = float(value)
            except ValueError:
                raise ConfigError(f"{key} must be an integer, got {value!r}") from None
            if f.is_integer() and abs(f) < 2**62:
                return int(f)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if typ is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if origin is list:
        (item_t,) = typing.get_args(typ)
        if isinstance(value, str):
            items = [v for v in value.split(",") if v] if value.strip() else []
        elif isinstance(value, list):
            items = value
        else:
            raise ConfigError(f"{key} must be a comma-separated list, got {value!r}")
        return [coerce(v, item_t, key) for v in items]
    raise ConfigError(f"{key} has an unsupported type {typ}")


def _type_name(typ: Any) -> str:
    if typing.get_origin(typ) is list:
        return f"list[{_type_name(typing.get_args(typ)[0])}]"
    return getattr(typ, "__name__", str(typ))


def describe_keys(cfg: Any | None = None, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every settable key as (dotted key, type name, value), in schema order; the values
    are `cfg`'s, by default the dataclasses' defaults (`Config()`), not a preset's."""
    cfg = Config() if cfg is None else cfg
    hints = _field_types(cfg)
    out: list[tuple[str, str, Any]] = []
    for name, typ in hints.items():
        value = getattr(cfg, name)
        if dataclasses.is_dataclass(typ):
            out.extend(describe_keys(value, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", _type_name(typ), value))
    return out


def _field_types(obj: Any) -> dict[str, Any]:
    """A section's keys and their types; the model's family sections after its fields."""
    hints = typing.get_type_hints(type(obj))
    if isinstance(obj, ModelConfig):
        hints.update(SECTIONS)
    return hints


def _set(cfg: Any, dotted: str, value: Any, full_key: str) -> None:
    head, _, rest = dotted.partition(".")
    hints = _field_types(cfg)
    if head not in hints:
        allowed = ", ".join(sorted(hints))
        raise ConfigError(f"unknown config key {full_key!r}; {_prefix(full_key, dotted)}"
                          f"allowed: {allowed}")
    typ = hints[head]
    if dataclasses.is_dataclass(typ):
        if not rest:
            if isinstance(value, dict):
                for k, v in value.items():
                    _set(getattr(cfg, head), k, v, f"{full_key}.{k}")
                return
            raise ConfigError(f"{full_key} is a section; set one of its keys, e.g. {full_key}."
                              f"{next(iter(_field_types(getattr(cfg, head))))}=...")
        _set(getattr(cfg, head), rest, value, full_key)
        return
    if rest:
        raise ConfigError(f"unknown config key {full_key!r}: {head} is not a section")
    setattr(cfg, head, coerce(value, typ, full_key))


def _prefix(full_key: str, dotted: str) -> str:
    parent = full_key[: len(full_key) - len(dotted)].rstrip(".")
    return f"in section {parent!r} " if parent else ""


def from_dict(raw: dict[str, Any]) -> Config:
    """A Config from a (possibly partial) nested dict, e.g. a saved config.json."""
    if not isinstance(raw, dict):
        raise ConfigError("a config must be a JSON object of sections")
    raw = migrate(raw)  # a config.json written before a key moved (jaxgan.legacy)
    cfg = Config()
    for k, v in raw.items():
        _set(cfg, k, v, k)
    return cfg


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    """Apply `KEY=VALUE` strings (dotted keys) in order; returns a new Config."""
    cfg = from_dict(cfg.to_dict())
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like KEY=VALUE, e.g. train.steps=2000")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        if (moved := renamed_message(key, value)) is not None:
            raise ConfigError(moved)
        _set(cfg, key, value, key)
    return cfg


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


# What model.upsample/downsample=auto become, by JAX backend: the CPU-tuned exact programs
# on CPU, where they were measured; XLA's own convolutions elsewhere until measured there.
AUTO_LAYERS = {"cpu": ("fast", "s2d")}
NATIVE_LAYERS = ("transpose", "conv")


def resolve_auto(cfg: Config, backend: str | None = None) -> Config:
    """`cfg` with model.upsample/downsample "auto" replaced by the concrete layer programs for
    `backend` (default `jax.default_backend()`), so a run's config.json says what ran. A new
    Config when anything changed; `cfg` itself otherwise."""
    m = cfg.model
    if "auto" not in (m.upsample, m.downsample):
        return cfg
    if backend is None:
        import jax

        backend = jax.default_backend()
    up, down = AUTO_LAYERS.get(backend, NATIVE_LAYERS)
    cfg = from_dict(cfg.to_dict())
    cfg.model.upsample = up if m.upsample == "auto" else m.upsample
    cfg.model.downsample = down if m.downsample == "auto" else m.downsample
    return cfg
