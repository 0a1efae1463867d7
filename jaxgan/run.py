"""One assembly of a run: what a config turns into, built in one place.

`setup_run(cfg)` gives a `RunSetup`: the data source, the modules and optimizers, the mesh,
the sample shape and the compiled step. Everything that runs a config builds on these
functions and nothing else: `jaxgan train` (the loop in `trainer.py`), `jaxgan sweep`
(`vmapped_step`: the same step, vmapped over runs), `jaxgan bench` (`build_step`: it times
and counts the FLOPs of the very program the trainer runs) and the readers (`sample`,
`eval`, `load_run`, which need no step). The pieces each caller used to assemble for
itself live here once:

* `step_factory`: the config's tricks (the `jaxgan.tricks` registry), model-family hooks and
  on-device data sampler wired into `make_train_step`, as ``make(health=...)``;
* `host_batch` / `host_batches`: the host batch of one compiled call, shaped
  ``(steps_per_call, n_critic, local batch, ...)``, from `host_batch_plan`;
* `abstract_state` / `restore_latest`: the state template and the newest checkpoint
  restored into it;
* `make_monitor` and `verdict_fields`: the live health monitor and what its verdict adds
  to a log record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan import config as config_lib
from jaxgan import parallel, xla_cpu
from jaxgan.config import Config, ConfigError
from jaxgan.losses import GANLoss, get_loss
from jaxgan.models.family import generator_family
from jaxgan.multistep import scan_steps, scan_with_health
from jaxgan.parts import Health
from jaxgan.state import GANModels, GANState, init_state, make_models
from jaxgan.step import make_train_step
from jaxgan.tricks import step_parts

__all__ = ["RunSetup", "setup_run", "checked_source", "sample_shape", "step_factory",
           "build_step", "vmapped_step", "float_images", "host_batch_plan", "host_batch",
           "host_batches", "images_seen", "abstract_state", "restore_latest",
           "make_monitor", "verdict_fields"]


@dataclass
class RunSetup:
    """A config assembled: source, models, mesh, compiled step (None for readers), shape."""

    cfg: Config
    source: Any
    models: GANModels
    mesh: Mesh
    step_fn: Any
    sample_shape: tuple[int, ...]
    # One iteration per call with health on: the same step without the costly signals,
    # which the trainer calls inside each log interval (`step_fn` ends it). None otherwise.
    light_fn: Any = None

    def step_at(self, step: int) -> Any:
        """The compiled call to run from `step`: the full step for the call that ends a log
        interval (or the run), else the light one where the run has one."""
        tc = self.cfg.train
        end = step + tc.steps_per_call
        if self.light_fn is None or end % tc.log_every == 0 or end >= tc.steps:
            return self.step_fn
        return self.light_fn

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, P())


def sample_shape(cfg: Config) -> tuple[int, ...]:
    """The shape of one sample: (2,) for an on-device source (the 2-D toys), (H, W, C)
    for images."""
    from jaxgan.data.sources import on_device

    d = cfg.data
    return (2,) if on_device(d.source) else (d.resolution, d.resolution, d.channels)


def checked_source(cfg: Config) -> Any:
    """`make_source` for the run, refusing a source whose images are not the config's shape."""
    from jaxgan.data import make_source

    source = make_source(cfg.data, cfg.seed)
    if not source.is_toy:
        if source.resolution != cfg.data.resolution or source.channels != cfg.data.channels:
            raise ConfigError("data source shape does not match data.resolution/channels")
    return source


def setup_run(cfg: Config) -> RunSetup:
    """Source, models, loss, mesh and compiled step for a config (no files touched)."""
    cfg = config_lib.resolve_auto(cfg)
    config_lib.validate(cfg, jax.device_count())
    source = checked_source(cfg)
    if cfg.train.steps % cfg.train.steps_per_call:
        raise ConfigError(f"train.steps={cfg.train.steps} must be a multiple of "
                          f"train.steps_per_call={cfg.train.steps_per_call} (one compiled "
                          "call runs that many steps)")
    models = make_models(cfg)
    mesh = parallel.make_mesh()
    loss = get_loss(cfg.loss.name)
    step_fn = build_step(cfg, models, loss, source, mesh)
    tc = cfg.train
    light_fn = None
    if cfg.health.enabled and tc.steps_per_call == 1 and tc.log_every > 1:
        # the costly health signals once per log interval, as a multi-step call samples
        # them: computed at every iteration they cost 7-10 % of a dcgan_digits iteration
        # on a 2-core CPU (benchmarks/RESULTS.md, session 13); compiled on first use
        light_fn = build_step(cfg, models, loss, source, mesh, health="light")
    return RunSetup(cfg, source, models, mesh, step_fn, sample_shape(cfg), light_fn)


def step_factory(cfg: Config, models: GANModels, loss: GANLoss, source: Any,
                 axis_name: str | None) -> Callable[..., Any]:
    """``make(health=True) -> per-shard step``: `make_train_step` with the parts of the
    config's tricks and model family (`tricks.step_parts`, read from the registry), its
    family's step wrapper (a growing ProGAN steps through its stages) and, for an
    on-device source (the 2-D toys), real samples drawn in the step. `health` (True,
    False, "light" or a `Health`) is the only thing that differs between the steps one
    run builds (`scan_with_health`)."""
    sample_real = None
    if source.is_toy:
        def sample_real(key):
            return source.sample(key, 1)[0]
    parts, models = step_parts(cfg, models)
    kwargs = dict(n_critic=cfg.train.n_critic, ema_decay=cfg.train.ema_decay,
                  ema_start=cfg.train.ema_start, sample_real=sample_real,
                  axis_name=axis_name)

    wrap = generator_family(cfg).wrap_step  # e.g. ProGAN: a branch per stage, by the step

    def make(health: Health | bool | str = True):
        kw = {**kwargs, "parts": replace(parts, health=Health.of(health))}
        if wrap is not None:
            return float_images(wrap(cfg, models, loss, make_train_step, kw))
        return float_images(make_train_step(models, loss, **kw))

    return make


def float_images(step: Callable[..., Any]) -> Callable[..., Any]:
    """`step` taking uint8 images too (a streaming source sends them: a quarter of the
    bytes), scaled to [-1, 1] on the device to exactly the values `ImageSource.batch`
    computes on the host: a lookup in the 256 values of `to_unit_range`, since XLA may
    fuse ``x * c - 1`` into one differently rounded multiply-add. Float batches pass
    untouched (decided at trace time)."""
    from jaxgan.data.images import to_unit_range

    table = to_unit_range(np.arange(256, dtype=np.uint8))

    def run(state: Any, batch: dict[str, Any]) -> Any:
        image = batch["image"]
        if image.dtype == np.uint8:
            batch = {**batch, "image": jax.numpy.asarray(table)[image.astype(np.int32)]}
        return step(state, batch)
    return run


def build_step(cfg: Config, models: GANModels, loss: GANLoss, source: Any, mesh: Mesh,
               health: Health | bool | str | None = None):
    """The compiled, data-parallel, multi-step function for this config.

    Applies the process-wide CPU lowering change first (`xla_cpu.install`, opt-out with
    ``JAXGAN_CPU_THREEFRY=0``). `health` (a `Health` level, True, False or its name)
    instead builds ONE straight-line iteration of that kind, as the multi-step call runs
    it: `jaxgan bench` counts a call's FLOPs from those, since XLA counts a scan's body
    only once.
    """
    xla_cpu.install()
    make = step_factory(cfg, models, loss, source, parallel.AXIS)
    if health is None:
        many = scan_with_health(make, cfg.health.enabled, cfg.train.steps_per_call,
                                cfg.health.light_every)
    else:
        many = scan_steps(make(health=health))  # called with a length-1 batch axis
    return parallel.parallelize(many, mesh, batch_axis=2,
                                compiler_options=xla_cpu.compiler_options(cfg))


def vmapped_step(cfg: Config, models: GANModels, loss: GANLoss, source: Any):
    """The trainer's multi-step call for one device, vmapped over a leading runs axis of
    the state and the batch (`jaxgan sweep`), compiled with the state donated."""
    if not generator_family(cfg).sweepable:
        raise ConfigError(f"jaxgan sweep does not support the model.generator="
                          f"{cfg.model.generator} yet (its step cannot be vmapped)")
    make = step_factory(cfg, models, loss, source, None)
    many = scan_with_health(make, cfg.health.enabled, cfg.train.steps_per_call,
                            cfg.health.light_every)
    xla_cpu.install()  # the run assembly applies the CPU lowering change (opt-out: env)
    return jax.jit(jax.vmap(many), donate_argnums=(0,),
                   compiler_options=xla_cpu.compiler_options(cfg) or None)


def host_batch_plan(cfg: Config):
    """``plan(k) -> (index, global_batch)``: the data-source batch of critic round k.

    Round k is ``source.batch(k, train.batch_size)`` unless the model family plans its own
    (a Progressive GAN with per-stage batch sizes: `progan.batch_plan`).
    """
    family_plan = generator_family(cfg).batch_plan
    plan = family_plan(cfg) if family_plan is not None else None
    if plan is not None:
        return plan
    b = cfg.train.batch_size
    return lambda k: (k, b)


def images_seen(cfg: Config, step: int) -> int:
    """Real images D has been shown after `step` iterations: one batch per critic round,
    ``step * n_critic`` rounds (``step * batch_size * n_critic``, or the sum of the stages'
    batches for a Progressive GAN with per-stage batch sizes). Fakes are not counted."""
    index, batch = host_batch_plan(cfg)(step * cfg.train.n_critic)
    return int(index) * int(batch)  # where round `step * n_critic` would start reading


def host_batch(cfg: Config, source: Any, s0: int, process_index: int = 0,
               process_count: int = 1, steps: int | None = None) -> dict[str, np.ndarray]:
    """This process's host batch of the call that starts at iteration `s0`: leaves shaped
    ``(steps, n_critic, batch_size // process_count, ...)``, `steps` defaulting to
    `train.steps_per_call`. An on-device source (the toys) gets zeros of that batch size,
    since its samples are drawn in the step."""
    spc = cfg.train.steps_per_call if steps is None else steps
    nc = cfg.train.n_critic
    if source.is_toy:
        return {"image": np.zeros((spc, nc, cfg.train.batch_size // process_count, 1),
                                  np.float32)}
    plan = host_batch_plan(cfg)  # round k's (source index, global batch)
    parts = [source.batch(*plan(s * nc + i), process_index, process_count)
             for s in range(s0, s0 + spc) for i in range(nc)]
    return _stack(parts, spc, nc)


def _stack(parts: list[dict[str, np.ndarray]], spc: int, nc: int) -> dict[str, np.ndarray]:
    return {k: np.stack([p[k] for p in parts]).reshape(spc, nc, *parts[0][k].shape)
            for k in ("image", "label")}


def host_batches(run: Any, start: int, stop: int) -> Iterator[dict[str, np.ndarray]]:
    """Host batches for iterations [start, stop), one per compiled call, this process's.

    A source that reads ahead (the streaming one: `batches(plan, first, last, pi, pc)`)
    is asked for all the critic rounds at once, so its loader keeps reading while the
    step runs; the batches are the same as `host_batch`'s."""
    pi, pc = jax.process_index(), jax.process_count()
    cfg, source = run.cfg, run.source
    spc, nc = cfg.train.steps_per_call, cfg.train.n_critic
    read_ahead = getattr(source, "batches", None)
    if read_ahead is None or source.is_toy:
        for s0 in range(start, stop, spc):
            yield host_batch(cfg, source, s0, pi, pc)
        return
    rounds = read_ahead(host_batch_plan(cfg), start * nc, stop * nc, pi, pc)
    for _ in range(start, stop, spc):
        yield _stack([next(rounds) for _ in range(spc * nc)], spc, nc)


def abstract_state(run: RunSetup) -> GANState:
    """The run's state as shapes and dtypes only (`jax.eval_shape`): the restore template."""
    return jax.eval_shape(lambda: init_state(run.models, run.cfg.seed, run.sample_shape))


def restore_latest(run: RunSetup, ckpt: Any) -> tuple[int, GANState] | None:
    """(step, state) of the newest checkpoint `ckpt` restores, placed replicated; None
    when there is none yet."""
    from jaxgan.checkpoint import abstract_like

    if ckpt.latest_step() is None:
        return None
    return ckpt.restore(abstract_like(abstract_state(run), run.replicated))


def make_monitor(cfg: Config, history: Iterable[Mapping[str, Any]] = ()):
    """The live health monitor of a config (None with ``health.enabled=false``), its
    windows refilled from `history` (the records of the run so far, when resuming)."""
    if not cfg.health.enabled:
        return None
    from jaxgan.diagnostics import HealthMonitor

    monitor = HealthMonitor(window=cfg.health.window)
    for rec in history:
        monitor.update(rec)
    return monitor


def verdict_fields(verdict: Any, full: bool = True) -> dict[str, Any]:
    """What a verdict adds to a log record: its name and, for a failure, its evidence;
    `full` adds since when and from which step its evidence reads, and the at-risk warning
    below a verdict ("" when none), which the trainer records and a sweep does not."""
    out: dict[str, Any] = {"verdict": verdict.name}
    if verdict.name not in ("healthy", "warming_up"):
        if full:
            out["verdict_since"] = verdict.since_step
            out["verdict_evidence_from"] = verdict.evidence_from
        out["verdict_evidence"] = "; ".join(verdict.evidence)
    if full:
        out["at_risk"] = verdict.at_risk
        if verdict.at_risk:
            out["at_risk_evidence"] = "; ".join(verdict.at_risk_evidence)
    return out
