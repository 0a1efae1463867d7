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
  unless opted out. It is applied only on the JAX series it was measured on
  (`MEASURED_SERIES`): with jaxlib 0.11.2, XLA:CPU had not compiled the toy step with the
  unrolled hash after 300 s ("Very slow compile"; `toy_ring`, steps_per_call 5, health
  off), where JAX's own rule compiled it in 18 s, so from 0.11 on JAX's rule stays unless
  ``JAXGAN_CPU_THREEFRY=1`` asks for it. The JAX-internal names it needs are
  looked up where each JAX release keeps them; where none matches, JAX's rule stays and
  only speed is lost.
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

import importlib
import os
from typing import Any

import jax

from jaxgan.config import Config

# YNNPACK keeps the convolutions, so only dots move to Eigen. The flag lists the op kinds
# YNNPACK may take.
_YNN_CONV_ONLY = "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION"
_unrolled = False
OPT_OUT_ENV = "JAXGAN_CPU_THREEFRY"  # "0": keep JAX's rule; "1": unroll on any JAX series
# JAX (major, minor) series on which the unrolled lowering was measured to help: 0.10 (the
# rolled hash took ~30 % of the toy step). Not 0.11: see the module docstring.
MEASURED_SERIES = ((0, 10),)
# Where JAX keeps the Threefry primitive and its unrolled (GPU) lowering rule, newest first.
_THREEFRY_MODULES = ("jax._src.random.threefry2x32", "jax._src.prng")


def jax_series(version: str | None = None) -> tuple[int, int]:
    """(major, minor) of a JAX version string ("0.11.2" -> (0, 11)); (0, 0) if unparsable."""
    parts = (version or jax.__version__).split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return 0, 0


def unroll_by_default(version: str | None = None) -> bool:
    """Whether `install()` unrolls Threefry on this JAX (absent ``JAXGAN_CPU_THREEFRY``)."""
    return jax_series(version) in MEASURED_SERIES


def install() -> bool:
    """Apply the process-wide CPU speed-up (the unrolled Threefry lowering) where it was
    measured to help, unless ``JAXGAN_CPU_THREEFRY=0`` (``=1``: on any JAX); returns
    whether it is in place. Idempotent, and harmless off CPU (only the CPU lowering rule is
    replaced)."""
    choice = os.environ.get(OPT_OUT_ENV, "").strip().lower()
    if choice in ("0", "false", "no", "off"):
        return _unrolled
    if choice not in ("1", "true", "yes", "on") and not unroll_by_default():
        return _unrolled
    return unroll_threefry()


def _threefry_parts() -> tuple[Any, Any] | None:
    """(threefry2x32_p, its unrolled lowering rule) from wherever this JAX keeps them."""
    for name in _THREEFRY_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        prim = getattr(mod, "threefry2x32_p", None)
        rule = getattr(mod, "_threefry2x32_lowering_rule", None)
        if prim is not None and callable(rule):
            return prim, rule
    return None


def unroll_threefry() -> bool:
    """Lower ``threefry2x32`` on CPU unrolled (the GPU lowering): same bits, one fusion.

    Returns whether the lowering is in place. It uses JAX-internal names; if a JAX release
    moves or changes them, the default lowering stays and only speed is lost.
    """
    global _unrolled
    if _unrolled:
        return True
    parts = _threefry_parts()
    if parts is None:  # pragma: no cover - depends on the JAX version
        return False
    try:
        from jax._src.interpreters import mlir

        mlir.register_lowering(parts[0], parts[1], platform="cpu")
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - JAX version
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


def _backends_initialized() -> bool:
    """Whether JAX has created its backends (after which the CPU device count is fixed).
    A JAX-internal question; where a release no longer answers it, assume yes (then
    `split_cpu_for_runs` changes nothing, which is always safe)."""
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # pragma: no cover - depends on the JAX version
        return True


def split_cpu_for_runs(n_runs: int) -> int:
    """Make JAX's CPU backend one device per core (at most), for `n_runs` independent runs.

    Picks the largest count up to the number of cores that divides `n_runs`, so every
    device trains the same number of runs. Only possible before JAX has initialized its
    backends, and only if the user has not chosen a device count (``XLA_FLAGS``). Returns
    the count set, or 0 if nothing was changed. GPU and TPU backends are unaffected.
    """
    if _backends_initialized() or \
            "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    count = max(d for d in range(1, max(1, cores) + 1) if n_runs % d == 0)
    if count > 1:
        jax.config.update("jax_num_cpu_devices", count)
        return count
    return 0
