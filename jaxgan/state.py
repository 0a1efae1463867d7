"""GANState: everything a GAN run is, as one pytree.

One pytree (rather than two TrainStates) because both players are updated by one compiled
step, checkpointed together, donated together and, for `jaxgan sweep`, vmapped together.
The module definitions and optimizers are static and live outside, in `GANModels`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn
from flax import struct

from jaxgan.schema import Config, OptimConfig


@struct.dataclass
class GANState:
    step: jax.Array  # int32 scalar: GAN iterations done (a D update round + a G update)
    g_params: Any
    d_params: Any
    g_batch_stats: Any
    d_batch_stats: Any
    g_opt_state: Any
    d_opt_state: Any
    ema_params: Any  # EMA of the generator's params (== g_params when ema_decay is 0)
    rng: jax.Array  # raw uint32 key data; folded with `step` inside the step
    # the tricks' own state, by slot ({"augment": ADA's p and statistics}); {} when none
    # has any (a checkpoint from before this field restores with it empty: checkpoint.py)
    extra: Any = struct.field(default_factory=dict)


class GANModels(NamedTuple):
    """The static half of a run: modules and optimizers, closed over by the step."""

    generator: nn.Module
    discriminator: nn.Module
    tx_g: optax.GradientTransformation
    tx_d: optax.GradientTransformation
    latent_dim: int
    num_classes: int
    # the initial `GANState.extra` (set by `tricks.combine` for a trick with state)
    init_extra: Callable[[], Any] | None = None


OptimizerFactory = Callable[[OptimConfig], optax.GradientTransformation]

# name -> factory of the injected optimizer (`register_optimizer`); `optim.{g,d}.name`
OPTIMIZERS: dict[str, OptimizerFactory] = {}


def register_optimizer(name: str, build: OptimizerFactory) -> OptimizerFactory:
    """Make ``optim.{g,d}.name=NAME`` valid: `build(c)` returns the optimizer of one
    player's `OptimConfig`, with its learning rate injected
    (``optax.inject_hyperparams(...)(learning_rate=c.lr, ...)``), because a NaN rollback,
    the autopilot and `jaxgan sweep` set it in the state. `make_optimizer` adds gradient
    clipping before it and the schedule's decay after it, for every optimizer alike."""
    OPTIMIZERS[name] = build
    return build


def _adam(c: OptimConfig) -> optax.GradientTransformation:
    return optax.inject_hyperparams(optax.adam)(learning_rate=c.lr, b1=c.b1, b2=c.b2,
                                                eps=c.eps)


def _adamw(c: OptimConfig) -> optax.GradientTransformation:
    return optax.inject_hyperparams(optax.adamw)(learning_rate=c.lr, b1=c.b1, b2=c.b2,
                                                 eps=c.eps, weight_decay=c.weight_decay)


def _sgd(c: OptimConfig) -> optax.GradientTransformation:
    """SGD, with heavy-ball momentum `b1` (none at 0)."""
    return optax.inject_hyperparams(optax.sgd)(learning_rate=c.lr, momentum=c.b1 or None)


def _rmsprop(c: OptimConfig) -> optax.GradientTransformation:
    """RMSProp with decay `b2` and `eps`."""
    return optax.inject_hyperparams(optax.rmsprop)(learning_rate=c.lr, decay=c.b2, eps=c.eps)


register_optimizer("adam", _adam)
register_optimizer("adamw", _adamw)
register_optimizer("sgd", _sgd)
register_optimizer("rmsprop", _rmsprop)

# The decay of a player's updates over the run (`optim.*.schedule`): a factor from 1 at the
# first update to `schedule_final` at the last, applied after the optimizer. Why a factor
# and not an optax learning-rate schedule: the learning rate itself stays an injected
# hyperparameter, so a NaN rollback, the autopilot and `jaxgan sweep` still set it.
SCHEDULES = {
    "constant": None,
    "linear": lambda n, final: optax.linear_schedule(1.0, final, max(n - 1, 1)),
    "cosine": lambda n, final: optax.cosine_decay_schedule(1.0, max(n - 1, 1), alpha=final),
}


def make_optimizer(c: OptimConfig, updates: int = 0) -> optax.GradientTransformation:
    """An optax optimizer whose learning rate sits in its state (`inject_hyperparams`).

    Keeping the learning rate in the state lets a NaN rollback lower it without
    recompiling, and makes it part of every checkpoint. `updates` is how many updates the
    run makes, the length of `c.schedule`'s decay. The optimizer itself comes from the
    registry (`register_optimizer`).
    """
    if c.name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {c.name!r}; choose one of {sorted(OPTIMIZERS)}")
    opt = OPTIMIZERS[c.name](c)
    if c.grad_clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(c.grad_clip), opt)
    if SCHEDULES[c.schedule] is not None:
        decay = SCHEDULES[c.schedule](updates, c.schedule_final)
        opt = optax.chain(opt, optax.scale_by_schedule(decay))
    return opt


def make_models(cfg: Config) -> GANModels:
    """The modules and optimizers of a config, and the initial state of its tricks that
    keep one (`tricks.initial_extra`: ADA's p), so every `init_state` has it."""
    from jaxgan.models import build_models
    from jaxgan.tricks import initial_extra

    g, d = build_models(cfg)
    steps = cfg.train.steps
    models = GANModels(g, d, make_optimizer(cfg.optim.g, steps),
                       make_optimizer(cfg.optim.d, steps * cfg.train.n_critic),
                       cfg.model.latent_dim,
                       cfg.model.num_classes)
    return models._replace(init_extra=initial_extra(cfg, models))


def init_state(models: GANModels, seed: int, sample_shape: tuple[int, ...]) -> GANState:
    """Fresh parameters and optimizer states. Pure: usable under `jax.eval_shape`."""
    root = jax.random.PRNGKey(seed)
    k_g, k_d, k_run = jax.random.split(root, 3)
    z = jnp.zeros((2, models.latent_dim), jnp.float32)
    y = jnp.zeros((2,), jnp.int32)
    x = jnp.zeros((2, *sample_shape), jnp.float32)
    g_vars = models.generator.init(k_g, z, y, train=False)
    d_vars = models.discriminator.init(k_d, x, y, train=False)
    g_params, d_params = g_vars["params"], d_vars["params"]
    return GANState(
        step=jnp.zeros((), jnp.int32),
        g_params=g_params,
        d_params=d_params,
        g_batch_stats=g_vars.get("batch_stats", {}),
        d_batch_stats=d_vars.get("batch_stats", {}),
        g_opt_state=models.tx_g.init(g_params),
        d_opt_state=models.tx_d.init(d_params),
        ema_params=g_params,
        rng=k_run,
        extra=models.init_extra() if models.init_extra is not None else {},
    )
