"""The config schema, preset lookup, dotted KEY=VALUE overrides and validation.

A config is a tree of frozen-free dataclasses so that presets are plain Python, a run's
resolved config serializes to ``config.json`` losslessly, and every field has a type that
overrides are checked against. Validation happens here, before anything is compiled or
written, so that a typo costs one line on stderr instead of a traceback minutes later.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A user-facing configuration mistake; the CLI prints it as one line and exits 2."""


from jaxgan.schema import coerce as _coerce  # noqa: E402  (needs ConfigError, defined above)


@dataclass
class ModelConfig:
    """Generator and discriminator architecture, looked up by name in `jaxgan.models`."""

    generator: str = "dcgan"
    discriminator: str = "dcgan"
    latent_dim: int = 100
    g_width: int = 64  # DCGAN: channels of the last generator block (ngf)
    d_width: int = 64  # DCGAN: channels of the first discriminator block (ndf)
    mlp_hidden: int = 128
    mlp_depth: int = 2
    # DCGAN up/down convolutions: every mode computes the same map with the same kernel
    # (jaxgan/models/strided_conv.py). "fast" picks per layer between "phase" and "col2im", one
    # matmul each, and "s2d" is one matmul: the fastest exact forms on CPU (issue 8), and
    # measured only there. "auto" is resolved by `resolve` (`AUTO_LAYERS`) to a concrete one.
    upsample: str = "auto"  # auto | fast | phase | col2im | subpixel | transpose
    downsample: str = "auto"  # auto | s2d | conv
    spectral_norm: bool = False  # D spectrally normalized: dcgan, mlp, resnet, projection
    pack: int = 1  # PacGAN: D judges groups of this many samples jointly (1: off)
    num_classes: int = 0  # > 0 for class-conditional models
    sync_bn: bool = False  # batch-norm statistics over the global batch (cross-replica)
    # zoo (jaxgan.models.resnet/sagan/infogan/progan)
    g_spectral_norm: bool = False  # spectral norm in G too (SAGAN); `spectral_norm` is D's
    attention_res: int = 0  # SAGAN: self-attention after the block of this resolution
    info_categorical: int = 0  # InfoGAN: categories of the categorical code (0: none)
    info_continuous: int = 0  # InfoGAN: number of Uniform(-1, 1) continuous codes
    info_weight: float = 1.0  # InfoGAN: lambda of the mutual-information loss
    progan_stage_steps: int = 1000  # ProGAN: iterations per fade-in and per stable phase
    # ProGAN: global batch per stage (4x4, 8x8, ...; the last repeats); empty: train.batch_size
    progan_batch_sizes: list[int] = field(default_factory=list)


@dataclass
class DataConfig:
    """Where training data comes from; see `jaxgan.data.make_source`."""

    source: str = "digits"  # digits | tfds | folder | npz | toy_ring | toy_grid
    name: str = ""  # tfds catalog name for source=tfds
    path: str = ""  # folder or .npz path; for tfds, an optional data_dir
    split: str = "train"
    resolution: int = 32
    channels: int = 1


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
    gp_weight: float = 0.0  # WGAN-GP gradient penalty lambda (Gulrajani et al. 2017)
    diffaugment: str = ""  # DiffAugment policy, e.g. "color,translation,cutout"
    weight_clip: float = 0.0  # WGAN: clip D's weights to [-c, c] after each update
    drift_penalty: float = 0.0  # ProGAN's epsilon_drift: + eps * E[D(real)^2] in D's loss


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
    on_failure: str = "warn"  # warn | stop
    window: int = 10  # log points per detector window


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
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


# Values with a closed set of choices; checked by `validate`.
CHOICES: dict[str, tuple[str, ...]] = {
    "data.source": ("digits", "tfds", "folder", "npz", "toy_ring", "toy_grid"),
    "loss.name": ("minimax", "non_saturating", "wasserstein", "hinge", "least_squares"),
    "optim.g.name": ("adam", "adamw", "sgd", "rmsprop"),
    "optim.d.name": ("adam", "adamw", "sgd", "rmsprop"),
    "model.upsample": ("auto", "subpixel", "transpose", "phase", "col2im", "fast"),
    "model.downsample": ("auto", "conv", "s2d"),
    "train.precision": ("float32", "bf16"),
    "train.cpu_dots": ("auto", "ynn", "eigen"),
    "train.on_nan": ("stop", "rollback"),
    "train.keep_best_mode": ("min", "max"),
    "health.on_failure": ("warn", "stop"),
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


def _field_types(obj: Any) -> dict[str, Any]:
    return typing.get_type_hints(type(obj))


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
    setattr(cfg, head, _coerce(value, typ, full_key))


def _prefix(full_key: str, dotted: str) -> str:
    parent = full_key[: len(full_key) - len(dotted)].rstrip(".")
    return f"in section {parent!r} " if parent else ""


def from_dict(raw: dict[str, Any]) -> Config:
    """A Config from a (possibly partial) nested dict, e.g. a saved config.json."""
    if not isinstance(raw, dict):
        raise ConfigError("a config must be a JSON object of sections")
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
        _set(cfg, key, value, key)
    return cfg


def _is_pow2(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def validate(cfg: Config, device_count: int | None = None) -> Config:
    """Check ranges and choices; raise ConfigError naming the key and what is allowed."""
    flat = _flatten(cfg.to_dict())
    for key, allowed in CHOICES.items():
        if flat[key] not in allowed:
            raise ConfigError(f"{key}={flat[key]!r} is not allowed; choose one of: "
                              f"{', '.join(allowed)}")
    positive = ["train.steps", "train.batch_size", "train.n_critic", "train.steps_per_call",
                "train.log_every", "train.sample_every", "train.checkpoint_every",
                "train.keep_checkpoints", "train.num_samples", "model.latent_dim",
                "model.g_width", "model.d_width", "model.mlp_hidden", "model.mlp_depth",
                "data.channels", "health.window"]
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
                "model.num_classes", "train.keep_every"):
        if flat[key] < 0:
            raise ConfigError(f"{key} must be >= 0, got {flat[key]}")
    t = cfg.train  # retention: only saved steps can be kept; the best needs evaluations
    if t.keep_every and t.keep_every % t.checkpoint_every:
        raise ConfigError(f"train.keep_every={t.keep_every} must be a multiple of "
                          f"train.checkpoint_every={t.checkpoint_every} (only saved steps can "
                          "be kept)")
    if t.keep_best and not cfg.eval.every:
        raise ConfigError(f"train.keep_best={t.keep_best} needs eval.every > 0 (the metric "
                          "comes from the evaluations made while training)")
    if not cfg.data.source.startswith("toy"):
        if not _is_pow2(cfg.data.resolution) or not 8 <= cfg.data.resolution <= 256:
            raise ConfigError(f"data.resolution must be a power of two from 8 to 256, got "
                              f"{cfg.data.resolution}")
        if cfg.data.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {cfg.data.channels}")
    _validate_tricks(cfg)
    if cfg.data.source == "tfds" and not cfg.data.name:
        raise ConfigError("data.name must name a tfds dataset (e.g. mnist) when data.source=tfds")
    if cfg.data.source in ("folder", "npz") and not cfg.data.path:
        raise ConfigError(f"data.path must point to the {cfg.data.source} when "
                          f"data.source={cfg.data.source}")
    if device_count is not None and cfg.train.batch_size % device_count:
        raise ConfigError(f"train.batch_size={cfg.train.batch_size} must be divisible by the "
                          f"device count {device_count} (the batch is split over devices)")
    if device_count is not None and cfg.model.pack > 1 and \
            (cfg.train.batch_size // device_count) % cfg.model.pack:
        raise ConfigError(f"model.pack={cfg.model.pack} must divide the per-device batch "
                          f"train.batch_size/devices={cfg.train.batch_size // device_count}")
    if device_count is not None and any(b % device_count for b in cfg.model.progan_batch_sizes):
        raise ConfigError(f"model.progan_batch_sizes={cfg.model.progan_batch_sizes} must all "
                          f"be divisible by the device count {device_count}")
    return cfg


def _validate_tricks(cfg: Config) -> None:
    t, m = cfg.tricks, cfg.model
    for key in ("label_smoothing", "label_flip"):
        if not 0.0 <= getattr(t, key) < 0.5:
            raise ConfigError(f"tricks.{key} must be in [0, 0.5), got {getattr(t, key)}")
    for key in ("instance_noise", "instance_noise_anneal_steps", "r1_gamma", "gp_weight",
                "weight_clip", "drift_penalty"):
        if getattr(t, key) < 0:
            raise ConfigError(f"tricks.{key} must be >= 0, got {getattr(t, key)}")
    ops = ("color", "translation", "cutout")
    for op in (o.strip() for o in t.diffaugment.split(",") if o.strip()):
        if op not in ops:
            raise ConfigError(f"tricks.diffaugment has {op!r}; use a comma-separated subset "
                              f"of: {', '.join(ops)}")
    for key in ("attention_res", "info_categorical", "info_continuous", "progan_stage_steps"):
        if getattr(m, key) < 0:
            raise ConfigError(f"model.{key} must be >= 0, got {getattr(m, key)}")
    for pair in ("infogan", "progan"):  # their step hooks need both halves of the pair
        if (m.generator == pair) != (m.discriminator == pair):
            raise ConfigError(f"model.generator and model.discriminator must both be {pair!r} "
                              f"(got {m.generator!r} and {m.discriminator!r})")
    if m.pack < 1:
        raise ConfigError(f"model.pack must be a positive integer, got {m.pack}")
    if m.pack > 1 and (m.discriminator in ("infogan", "progan") or m.num_classes):
        raise ConfigError(f"model.pack={m.pack} works with unconditional dcgan, mlp, resnet "
                          f"and sagan discriminators, not model.discriminator="
                          f"{m.discriminator} with model.num_classes={m.num_classes}")
    if m.spectral_norm and m.discriminator in ("infogan", "progan"):
        raise ConfigError(f"model.spectral_norm is not available for model.discriminator="
                          f"{m.discriminator}; it works with dcgan, mlp, resnet, sagan and "
                          "projection")
    if m.generator == "progan" and m.progan_stage_steps <= 0:
        raise ConfigError("model.progan_stage_steps must be a positive number of iterations")
    if m.progan_batch_sizes:  # the rules live beside the growth schedule they follow
        from jaxgan.models.progan import validate_batch_sizes

        validate_batch_sizes(cfg)
    if m.generator == "infogan" and m.info_categorical + m.info_continuous == 0:
        raise ConfigError("model.generator=infogan needs model.info_categorical > 0 or "
                          "model.info_continuous > 0")
    if m.info_categorical + m.info_continuous > m.latent_dim:
        raise ConfigError("model.info_categorical + model.info_continuous must not exceed "
                          f"model.latent_dim={m.latent_dim}")


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
