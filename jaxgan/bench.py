"""`jaxgan bench`: honest step-speed numbers for one config, with one command.

One *step* is one full GAN iteration (the `n_critic` discriminator updates and the generator
update), exactly what `jaxgan train` runs, health signals included. The measurement:

1. build the same compiled, data-parallel program the trainer uses (`run.build_step`,
   with the config's tricks, ProGAN growth and health setting), on synthetic images of the
   configured shape (speed does not depend on pixel values, and a benchmark must not need
   a dataset download);
2. time `.lower().compile()` separately, so compile time is reported, not hidden in step 1;
3. run `warmup` untimed calls, then at least `MIN_CALLS` timed calls (more when `steps`
   asks for more), each synchronised with `block_until_ready` so asynchronous dispatch
   cannot flatter the figure; the report gives the mean and the spread over the calls;
4. FLOPs per step come from XLA's cost analysis of that timed executable (`step_flops`).
   With `steps_per_call > 1` the call is a `lax.scan`, whose body XLA counts once whatever
   its trip count, so the call is counted from its iterations, each compiled straight-line
   by the same `build_step` (the scanned kind times its count, plus the last iteration
   with the full health signals). A Progressive GAN's step is a `lax.switch` over its
   stages, which XLA counts as its costliest branch (measured: a switch of one and two
   matmuls counts two), so the bench times a ProGAN at its final, full-resolution stage
   (at `train.batch_size`; `model.progan.batch_sizes` may give that stage a smaller one);
5. MFU divides the achieved FLOP/s by the device's datasheet peak for the run's precision
   (`PEAKS`). A device or precision without a datasheet figure gets no MFU (``mfu:
   unknown (no peak for DEVICE)``), never a guess; on a CPU the peak is a float32 matmul
   measured on the spot, and the report says so.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import parallel
from jaxgan.config import Config
from jaxgan.parts import LazyTrace, lazy_tracing

MIN_CALLS = 5  # timed calls at least, so that even a short --steps has a spread

_A100 = {"bf16": 312e12, "float32": 19.5e12}
_H100_SXM = {"bf16": 989e12, "float32": 67e12}
# Dense (no sparsity) peak FLOP/s per device from the vendors' datasheets, by JAX's
# `device_kind` and `train.precision`. "float32" is the plain FP32 figure: at JAX's default
# matmul precision XLA may run float32 dots on TF32 tensor cores (A100: 156 TFLOP/s), so a
# float32 MFU above 100 % there means exactly that. The TPU datasheets give bf16 only.
PEAKS: dict[str, dict[str, float]] = {
    "TPU v2": {"bf16": 45e12}, "TPU v3": {"bf16": 123e12}, "TPU v4": {"bf16": 275e12},
    "TPU v5 lite": {"bf16": 197e12}, "TPU v5e": {"bf16": 197e12},
    "TPU v5": {"bf16": 459e12}, "TPU v5p": {"bf16": 459e12},
    "TPU v6 lite": {"bf16": 918e12}, "TPU v6e": {"bf16": 918e12},
    "NVIDIA A100-SXM4-40GB": _A100, "NVIDIA A100-SXM4-80GB": _A100,
    "NVIDIA A100-PCIE-40GB": _A100, "NVIDIA A100 80GB PCIe": _A100,
    "NVIDIA H100 80GB HBM3": _H100_SXM, "NVIDIA H100 SXM5 80GB": _H100_SXM,
    "NVIDIA H100 PCIe": {"bf16": 756e12, "float32": 51e12},
    "NVIDIA H200": _H100_SXM,  # H200 SXM: the H100 SXM's compute with more memory
}
CPU_PEAK_SOURCE = "measured on this CPU: best float32 2048^3 matmul, not a datasheet figure"


class _SyntheticImages:
    """Stands in for an image source: uniform noise of the configured shape, fed through
    the trainer's own host-batch assembly (`run.host_batch`)."""

    is_toy = False

    def __init__(self, shape: tuple[int, ...], seed: int) -> None:
        self.shape, self._rng = shape, np.random.default_rng(seed)

    def batch(self, index: int, global_batch: int, process_index: int = 0,
              process_count: int = 1) -> dict[str, np.ndarray]:
        b = global_batch // process_count
        return {"image": self._rng.uniform(-1, 1, (b, *self.shape)).astype(np.float32),
                "label": np.zeros((b,), np.int32)}


def measure_matmul_peak(n: int = 2048, reps: int = 5) -> float:
    """Best float32 FLOP/s of an n x n matmul on the default device (best of `reps`).

    On a shared CPU the best of several runs is the closest estimate of what the hardware
    can do. It is a measurement, not a datasheet peak, and is reported as one.
    """
    a = jnp.ones((n, n), jnp.float32)
    b = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda a, b: a @ b)
    f(a, b).block_until_ready()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best


def device_peak(kind: str, platform: str, precision: str) -> tuple[float | None, str]:
    """(peak FLOP/s of one device, or None; where it came from or why there is none)."""
    kind = kind.strip()
    table = PEAKS.get(kind)
    if table is not None:
        if precision in table:
            return table[precision], f"datasheet {precision} peak of {kind}"
        return None, f"no {precision} peak for {kind}"
    if platform == "cpu":
        return measure_matmul_peak(), CPU_PEAK_SOURCE
    return None, f"no peak for {kind}"


def _first_device() -> Any:
    return jax.devices()[0]


def _flops(compiled: Any) -> float:
    try:
        ca = compiled.cost_analysis()
    except Exception:  # some backends do not implement it
        return float("nan")
    if isinstance(ca, (list, tuple)):
        ca = ca[0] if ca else {}
    return float((ca or {}).get("flops", float("nan")))


def _setup(cfg: Config) -> tuple[Any, Any, Any, Any, Any]:
    """(models, loss, source, mesh, sample shape) without touching any dataset."""
    from jaxgan import config as config_lib
    from jaxgan.data import make_source
    from jaxgan.data.sources import on_device
    from jaxgan.losses import get_loss
    from jaxgan.run import sample_shape
    from jaxgan.state import make_models

    config_lib.validate(cfg, jax.device_count())
    shape = sample_shape(cfg)
    source = make_source(cfg.data, cfg.seed) if on_device(cfg.data.source) else \
        _SyntheticImages(shape, cfg.seed)
    return make_models(cfg), get_loss(cfg.loss.name), source, parallel.make_mesh(), shape


def _batch(cfg: Config, source: Any, spc: int, mesh: Any) -> Any:
    from jaxgan.run import host_batch

    host = host_batch(cfg, source, 0, jax.process_index(), jax.process_count(), steps=spc)
    return parallel.host_to_global(host, mesh, batch_axis=2)


@dataclass
class Prepared:
    """A compiled step with its state and a synthetic batch, ready to be timed."""

    cfg: Config
    compiled: Any
    state: Any
    batch: Any
    compile_s: float
    parts: tuple[Any, ...] = ()  # (models, loss, source, mesh, shape) it was built from
    lazy_everys: tuple[int, ...] = ()  # intervals of its lazy regularizers (lazy R1, ...)

    def run(self, calls: int) -> list[float]:
        """Wall seconds of each of `calls` synchronised calls (each `steps_per_call` steps)."""
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            self.state, m = self.compiled(self.state, self.batch)
            jax.block_until_ready((self.state, m))
            times.append(time.perf_counter() - t)
        return times


def prepare(cfg: Config) -> Prepared:
    """Build the trainer's step for `cfg` and compile it, timing `.lower().compile()`."""
    from jaxgan.models.family import generator_family
    from jaxgan.run import build_step
    from jaxgan.state import init_state

    models, loss, source, mesh, shape = parts = _setup(cfg)
    step_fn = build_step(cfg, models, loss, source, mesh)
    state = parallel.create_replicated(lambda: init_state(models, cfg.seed, shape), mesh)
    bench_state = generator_family(cfg).bench_state  # e.g. ProGAN: the stage XLA counts
    if bench_state is not None:
        state = bench_state(cfg, models, state)
    batch = _batch(cfg, source, cfg.train.steps_per_call, mesh)
    t0 = time.perf_counter()
    with lazy_tracing(LazyTrace()) as lazy:  # the intervals of the lazy regularizers
        lowered = step_fn.lower(state, batch)
    compiled = lowered.compile()
    return Prepared(cfg, compiled, state, batch, time.perf_counter() - t0, parts,
                    tuple(sorted(lazy.everys)))


def step_flops(p: Prepared) -> float:
    """FLOPs of one GAN iteration of the timed program `p`, summed over the devices.

    XLA's cost analysis of `p.compiled` itself for one iteration per call. A call of
    several iterations is a scan that the analysis counts once, so it is counted from its
    iterations compiled straight-line by the same `build_step`, as many of each health
    level as the call runs (`multistep.health_schedule`).
    """
    cfg, spc = p.cfg, p.cfg.train.steps_per_call
    scale = lazy_share(p)
    if spc == 1:
        return _flops(p.compiled) * jax.device_count() * scale
    from jaxgan.multistep import health_schedule
    from jaxgan.run import build_step

    models, loss, source, mesh, shape = p.parts
    batch = _batch(cfg, source, 1, mesh)
    total = 0.0
    for level, count in health_schedule(cfg.health.enabled, spc, cfg.health.light_every):
        fn = build_step(cfg, models, loss, source, mesh, health=level)
        total += count * _flops(fn.lower(p.state, batch).compile())
    return total / spc * jax.device_count() * scale


def lazy_share(p: Prepared) -> float:
    """The average iteration's FLOPs over those of an iteration that runs every lazy
    regularizer (1.0 without any).

    XLA's cost analysis counts a `lax.cond` as its costliest branch, so the compiled step
    of a config with lazy R1 every 16 D updates and path length every 4 G updates counts
    both at every iteration (StyleGAN2: 1.5x the average). The step is lowered again with
    the conds decided at trace time (`parts.lazy_tracing`): once with none run (F0), once
    with only the regularizers of interval e run (F_e); each runs at 1/e of the
    iterations, so the average is ``F0 + sum_e (F_e - F0) / e``, over ``F_all`` with all
    of them run. Counted on the lowered HLO, which needs no compile.
    """
    if not p.lazy_everys:
        return 1.0
    from jaxgan.run import build_step

    models, loss, source, mesh, _ = p.parts
    batch = _batch(p.cfg, source, 1, mesh)

    @functools.cache  # with one interval, F_e is F_all: lowered once
    def count(static: frozenset[int]) -> float:
        fn = build_step(p.cfg, models, loss, source, mesh, health=p.cfg.health.enabled)
        with lazy_tracing(LazyTrace(static=static)):
            lowered = fn.lower(p.state, batch)
        return _flops(lowered)

    everys = frozenset(p.lazy_everys)
    f0, f_all = count(frozenset()), count(everys)
    average = f0 + sum((count(frozenset({e})) - f0) / e for e in everys)
    return average / f_all if f_all > 0 else 1.0


def flops_per_step(cfg: Config) -> float:
    """`step_flops` of the program `jaxgan bench` times for `cfg`."""
    return step_flops(prepare(cfg))


def bench(cfg: Config, steps: int = 20, warmup: int = 2, peak: float | None = None
          ) -> dict[str, Any]:
    """Compile, warm up and time GAN iterations of `cfg`; returns the figures.

    Times whole calls of `train.steps_per_call` iterations: enough for `steps`, and at least
    `MIN_CALLS`. `peak` (FLOP/s per device) overrides the datasheet/measured one.
    """
    p = prepare(cfg)
    spc = cfg.train.steps_per_call
    p.run(warmup)
    calls = max(MIN_CALLS, -(-steps // spc))
    times = p.run(calls)
    total = float(np.sum(times))
    n_steps = calls * spc
    steps_per_s = n_steps / total
    per_step_ms = np.asarray(times) * 1e3 / spc
    flops = step_flops(p)
    dev = _first_device()
    if peak is None:
        peak, peak_src = device_peak(dev.device_kind, dev.platform, cfg.train.precision)
    else:
        peak_src = "given"
    n_dev = jax.device_count()
    peak_total = None if peak is None else peak * n_dev
    achieved = flops * steps_per_s
    mfu = achieved / peak_total if peak_total and math.isfinite(flops) else None
    return {
        "config": cfg.name, "batch_size": cfg.train.batch_size, "steps_per_call": spc,
        "steps": n_steps, "calls": calls, "images_per_s": steps_per_s * cfg.train.batch_size,
        "steps_per_s": steps_per_s, "ms_per_step": 1e3 / steps_per_s,
        "ms_per_step_median": float(np.median(per_step_ms)),
        "ms_per_step_best_call": float(per_step_ms.min()),
        "ms_per_step_worst_call": float(per_step_ms.max()), "compile_s": p.compile_s,
        "flops_per_step": flops, "achieved_flops_per_s": achieved,
        "peak_flops_per_s": peak_total, "peak_source": peak_src, "mfu": mfu,
        "device_kind": dev.device_kind, "device_count": n_dev,
        "platform": dev.platform, "precision": cfg.train.precision,
        "jax_version": jax.__version__,
    }


def format_report(r: dict[str, Any]) -> str:
    if r["mfu"] is None:
        mfu = f"unknown ({r['peak_source']})"
    else:
        mfu = f"{100 * r['mfu']:.1f} % of {r['peak_flops_per_s'] / 1e9:.1f} GFLOP/s " \
              f"({r['peak_source']})"
    return "\n".join([
        f"jaxgan bench: {r['config']} on {r['device_count']} x {r['device_kind']} "
        f"({r['platform']}, {r['precision']})",
        f"  batch {r['batch_size']}, {r['steps']} timed steps in {r['calls']} calls of "
        f"{r['steps_per_call']}",
        f"  compile: {r['compile_s']:.2f} s",
        f"  images/s: {r['images_per_s']:.1f}",
        f"  steps/s: {r['steps_per_s']:.2f}",
        f"  ms/step: {r['ms_per_step']:.2f} (per call: median {r['ms_per_step_median']:.2f}, "
        f"best {r['ms_per_step_best_call']:.2f}, worst {r['ms_per_step_worst_call']:.2f})",
        f"  FLOPs/step: {r['flops_per_step'] / 1e9:.3f} GFLOP (XLA cost analysis of the "
        "timed program)",
        f"  achieved: {r['achieved_flops_per_s'] / 1e9:.2f} GFLOP/s",
        f"  mfu: {mfu}",
    ])


__all__ = ["bench", "prepare", "Prepared", "step_flops", "flops_per_step",
           "measure_matmul_peak", "device_peak", "PEAKS", "format_report", "MIN_CALLS"]
