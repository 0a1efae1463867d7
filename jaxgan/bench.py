"""`jaxgan bench`: honest step-speed numbers for one config, with one command.

One *step* is one full GAN iteration (the `n_critic` discriminator updates and the generator
update), exactly what `jaxgan train` runs, health signals included. The measurement:

1. build the same compiled, data-parallel program the trainer uses (`runtime.build_step`),
   on synthetic images of the configured shape (speed does not depend on pixel values, and
   a benchmark must not need a dataset download);
2. time `.lower().compile()` separately, so compile time is reported, not hidden in step 1;
3. run `warmup` untimed calls, then `steps` timed iterations, each call synchronised with
   `block_until_ready` so asynchronous dispatch cannot flatter the figure;
4. FLOPs per step come from XLA's own cost analysis of one straight-line iteration (the
   analysis of a `lax.scan` body is not multiplied by its trip count), and MFU divides the
   achieved FLOP/s by the device's peak: a table for known accelerators, else a large
   float32 matmul measured on the spot (that is what "peak" means on a CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import parallel
from jaxgan.argparsing import intermixed
from jaxgan.config import Config

# Dense bf16/fp16 peak FLOP/s per device, from the vendors' data sheets.
KNOWN_PEAKS: dict[str, float] = {
    "TPU v2": 45e12, "TPU v3": 123e12, "TPU v4": 275e12, "TPU v5 lite": 197e12,
    "TPU v5e": 197e12, "TPU v5p": 459e12, "TPU v6 lite": 918e12, "TPU v6e": 918e12,
    "NVIDIA A100-SXM4-40GB": 312e12, "NVIDIA A100-SXM4-80GB": 312e12,
    "NVIDIA A100-PCIE-40GB": 312e12, "NVIDIA H100 80GB HBM3": 989e12,
    "NVIDIA H100 PCIe": 756e12, "NVIDIA L4": 121e12, "Tesla V100-SXM2-16GB": 125e12,
    "Tesla T4": 65e12,
}


class _SyntheticImages:
    """Stands in for an image source: `build_step` only needs to know it is not a toy."""

    is_toy = False


def measure_matmul_peak(n: int = 2048, reps: int = 5) -> float:
    """Best float32 FLOP/s of an n x n matmul on the default device (median-free: best of).

    On a shared CPU the best of several runs is the closest estimate of what the hardware
    can do, which is what MFU should be relative to.
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


def device_peak(device: Any) -> tuple[float, str]:
    """(peak FLOP/s, where it came from) for `device`."""
    kind = getattr(device, "device_kind", "")
    for name, peak in KNOWN_PEAKS.items():
        if kind == name or kind.startswith(name):
            return peak, "table"
    return measure_matmul_peak(), "measured f32 matmul"


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
    from jaxgan.losses import get_loss
    from jaxgan.state import make_models

    config_lib.validate(cfg, jax.device_count())
    toy = cfg.data.source.startswith("toy")
    source = make_source(cfg.data, cfg.seed) if toy else _SyntheticImages()
    shape = (2,) if toy else (cfg.data.resolution, cfg.data.resolution, cfg.data.channels)
    return make_models(cfg), get_loss(cfg.loss.name), source, parallel.make_mesh(), shape


def _batch(cfg: Config, shape: tuple[int, ...], spc: int, mesh: Any) -> Any:
    tc = cfg.train
    toy = cfg.data.source.startswith("toy")
    rng = np.random.default_rng(cfg.seed)
    if toy:  # real samples are drawn on device; only the batch size matters
        host = {"image": np.zeros((spc, tc.n_critic, tc.batch_size, 1), np.float32)}
    else:
        img = rng.uniform(-1, 1, (spc, tc.n_critic, tc.batch_size, *shape)).astype(np.float32)
        host = {"image": img, "label": np.zeros((spc, tc.n_critic, tc.batch_size), np.int32)}
    return parallel.host_to_global(host, mesh, batch_axis=2)


def flops_per_step(cfg: Config) -> float:
    """XLA's FLOP count of one straight-line GAN iteration on one device's shard."""
    from jaxgan.state import init_state
    from jaxgan.step import make_train_step

    models, loss, source, mesh, shape = _setup(cfg)
    sample_real = None
    if getattr(source, "is_toy", False):
        def sample_real(key):
            return source.sample(key, 1)[0]
    step = make_train_step(models, loss, n_critic=cfg.train.n_critic,
                           ema_decay=cfg.train.ema_decay, sample_real=sample_real)
    state = jax.eval_shape(lambda: init_state(models, cfg.seed, shape))
    batch = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype),
                         _batch(cfg, shape, 1, mesh))
    return _flops(jax.jit(step).lower(state, batch).compile()) * jax.device_count()


@dataclass
class Prepared:
    """A compiled step with its state and a synthetic batch, ready to be timed."""

    cfg: Config
    compiled: Any
    state: Any
    batch: Any
    compile_s: float

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
    from jaxgan.runtime import build_step
    from jaxgan.state import init_state

    models, loss, source, mesh, shape = _setup(cfg)
    step_fn = build_step(cfg, models, loss, source, mesh)
    state = parallel.create_replicated(lambda: init_state(models, cfg.seed, shape), mesh)
    batch = _batch(cfg, shape, cfg.train.steps_per_call, mesh)
    t0 = time.perf_counter()
    compiled = step_fn.lower(state, batch).compile()
    return Prepared(cfg, compiled, state, batch, time.perf_counter() - t0)


def bench(cfg: Config, steps: int = 20, warmup: int = 2, peak: float | None = None
          ) -> dict[str, Any]:
    """Compile, warm up and time `steps` GAN iterations of `cfg`; returns the figures.

    `steps` is rounded up to whole calls of `train.steps_per_call` iterations.
    """
    p = prepare(cfg)
    spc = cfg.train.steps_per_call
    p.run(warmup)
    calls = max(1, -(-steps // spc))
    times = p.run(calls)
    total = float(np.sum(times))
    n_steps = calls * spc
    steps_per_s = n_steps / total
    flops = flops_per_step(cfg)
    dev = jax.devices()[0]
    if peak is None:
        peak, peak_src = device_peak(dev)
    else:
        peak_src = "given"
    peak_total = peak * jax.device_count()
    return {
        "config": cfg.name, "batch_size": cfg.train.batch_size, "steps_per_call": spc,
        "steps": n_steps, "images_per_s": steps_per_s * cfg.train.batch_size,
        "steps_per_s": steps_per_s, "ms_per_step": 1e3 / steps_per_s,
        "ms_per_step_best_call": 1e3 * min(times) / spc, "compile_s": p.compile_s,
        "flops_per_step": flops, "achieved_flops_per_s": flops * steps_per_s,
        "peak_flops_per_s": peak_total, "peak_source": peak_src,
        "mfu": flops * steps_per_s / peak_total if math.isfinite(flops) else float("nan"),
        "device_kind": dev.device_kind, "device_count": jax.device_count(),
        "platform": dev.platform, "precision": cfg.train.precision,
        "jax_version": jax.__version__,
    }


def format_report(r: dict[str, Any]) -> str:
    return "\n".join([
        f"jaxgan bench: {r['config']} on {r['device_count']} x {r['device_kind']} "
        f"({r['platform']}, {r['precision']})",
        f"  batch {r['batch_size']}, {r['steps']} timed steps, steps_per_call "
        f"{r['steps_per_call']}",
        f"  compile        {r['compile_s']:.2f} s",
        f"  images/s       {r['images_per_s']:.1f}",
        f"  steps/s        {r['steps_per_s']:.2f}",
        f"  ms/step        {r['ms_per_step']:.2f} (best call {r['ms_per_step_best_call']:.2f})",
        f"  FLOPs/step     {r['flops_per_step'] / 1e9:.3f} GFLOP",
        f"  achieved       {r['achieved_flops_per_s'] / 1e9:.2f} GFLOP/s of "
        f"{r['peak_flops_per_s'] / 1e9:.1f} peak ({r['peak_source']})",
        f"  MFU            {100 * r['mfu']:.1f} %",
    ])


def run_bench(args: argparse.Namespace) -> int:
    from jaxgan.config import ConfigError, resolve

    if args.steps <= 0 or args.warmup < 0:
        raise ConfigError("--steps must be positive and --warmup non-negative")
    cfg = resolve(args.config, args.overrides, jax.device_count())
    r = bench(cfg, steps=args.steps, warmup=args.warmup)
    print(json.dumps(r) if args.json else format_report(r), file=sys.stdout)
    return 0


def add_bench_parser(subparsers: Any) -> None:
    b = intermixed(subparsers.add_parser("bench",
                                        help="time the compiled train step of a config"))
    b.add_argument("--config", default=None, help="preset name or a .py/.json config file")
    b.add_argument("--steps", type=int, default=20, help="timed GAN iterations")
    b.add_argument("--warmup", type=int, default=2, help="untimed calls after compiling")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    b.set_defaults(func=run_bench)


__all__ = ["bench", "prepare", "Prepared", "flops_per_step", "measure_matmul_peak",
           "device_peak", "run_bench", "add_bench_parser", "format_report"]
