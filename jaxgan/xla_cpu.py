"""XLA:CPU settings that make GAN training faster, as measured on the development CPUs.

They change how XLA:CPU runs the step, never what it computes; on GPU and TPU they do
nothing.

* **Threefry unrolled.** JAX lowers its Threefry-2x32 hash on CPU as a rolled loop of five
  rounds (to keep compile time down). XLA:CPU then runs every round as separate kernels
  and writes the whole state to memory between rounds. Noise is drawn for every sample of
  every step: 131,072 normals a step for the toy MLP at batch 512. There the rolled hash
  took ~30 % of the step. The unrolled lowering, which JAX uses on GPU, fuses into one
  elementwise kernel, and the bits are the same. The change is process-wide (it replaces
  JAX's CPU lowering rule for every program compiled afterwards, the user's too), so it
  is never a side effect of an import: `install()` applies it, and the run assembly calls
  that (`run.build_step`, which `jaxgan train` and `jaxgan bench` use, and
  `jaxgan sweep`). ``JAXGAN_CPU_THREEFRY=0`` opts out (the programs then keep JAX's rolled
  loop: slower on CPU, same numbers). A notebook that builds its own step with
  `make_train_step` can call `install()` itself. `tests/test_xla_cpu.py` checks the
  known-answer vectors of the Threefry paper, that a fresh process without the change
  draws the same normals, that importing jaxgan changes nothing and that training does
  unless opted out.
* **Which library runs the dots.** XLA:CPU hands most dots to YNNPACK (``ynn_fusion`` in
  the optimized HLO) and keeps the rest on Eigen. For the 128-wide layers of an MLP GAN,
  Eigen's GEMM is faster: 1.37x on the whole toy step at batch 512. For the DCGAN's large
  patch matmuls YNNPACK is faster (0.52 vs 0.44-0.47 steps/s). `compiler_options` picks per config
  (``train.cpu_dots``): ``auto`` uses Eigen when both players are MLPs and leaves XLA's
  default (YNNPACK) otherwise.

`jaxgan sweep` also splits its runs over one CPU device per core (`split_cpu_for_runs`).
The runs share nothing, so two independent programs keep both cores busy better than XLA's
intra-op threading of one program's small ops: 16 toy runs took 38.7 s on 2 devices
against 49.5 s on 1.
"""

from __future__ import annotations

import os
from typing import Any

import jax

from jaxgan.config import Config

# YNNPACK keeps the convolutions, so only dots move to Eigen. The flag lists the op kinds
# YNNPACK may take.
_YNN_CONV_ONLY = "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION"
_unrolled = False
OPT_OUT_ENV = "JAXGAN_CPU_THREEFRY"  # "0": keep JAX's own (rolled) CPU lowering


def install() -> bool:
    """Apply the process-wide CPU speed-up (the unrolled Threefry lowering) unless
    ``JAXGAN_CPU_THREEFRY=0``; returns whether it is in place. Idempotent, and harmless off
    CPU (only the CPU lowering rule is replaced)."""
    if os.environ.get(OPT_OUT_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return _unrolled
    return unroll_threefry()


def unroll_threefry() -> bool:
    """Lower ``threefry2x32`` on CPU unrolled (the GPU lowering): same bits, one fusion.

    Returns whether the lowering is in place. It uses JAX-internal names; if a JAX release
    moves them, the default lowering stays and only speed is lost.
    """
    global _unrolled
    if _unrolled:
        return True
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as tf
        rule = tf._threefry2x32_lowering_rule
        mlir.register_lowering(tf.threefry2x32_p, rule, platform="cpu")
    except (ImportError, AttributeError):  # pragma: no cover - depends on the JAX version
        return False
    _unrolled = True
    return True


def dots_library(cfg: Config) -> str:
    """``"eigen"`` or ``"ynn"``: the library that runs the dots of this config on CPU."""
    choice = cfg.train.cpu_dots
    if choice == "auto":
        mlp = cfg.model.generator == "mlp" and cfg.model.discriminator == "mlp"
        return "eigen" if mlp else "ynn"
    return choice


def compiler_options(cfg: Config, platform: str | None = None) -> dict[str, Any]:
    """XLA compiler options for the train step of `cfg` (empty off CPU)."""
    platform = platform or jax.default_backend()
    if platform != "cpu" or dots_library(cfg) == "ynn":
        return {}
    return {"xla_cpu_experimental_ynn_fusion_type": _YNN_CONV_ONLY}


def split_cpu_for_runs(n_runs: int) -> int:
    """Make JAX's CPU backend one device per core (at most), for `n_runs` independent runs.

    Picks the largest count up to the number of cores that divides `n_runs`, so every
    device trains the same number of runs. Only possible before JAX has initialized its
    backends, and only if the user has not chosen a device count (``XLA_FLAGS``). Returns
    the count set, or 0 if nothing was changed. GPU and TPU backends are unaffected.
    """
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized() or \
            "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    count = max(d for d in range(1, max(1, cores) + 1) if n_runs % d == 0)
    if count > 1:
        jax.config.update("jax_num_cpu_devices", count)
        return count
    return 0
