"""jaxgan: functional GAN training in JAX that tells you whether your GAN is healthy.

The public API. Modules that pull in TensorFlow (data) or matplotlib (reports) load on
first use, so `import jaxgan` stays cheap. `evaluate` is bound at import instead: it is
also the name of a submodule, and importing a submodule sets the package attribute of its
name, which would hide a lazy function behind the module from then on.
"""

from __future__ import annotations

import importlib
from typing import Any

from jaxgan.config import Config, ConfigError, list_presets, resolve
from jaxgan.evaluate import evaluate  # before any `import jaxgan.evaluate` (see above)
from jaxgan.losses import LOSSES, GANLoss, get_loss
from jaxgan.state import GANModels, GANState, init_state, make_models
from jaxgan.step import make_train_step, sample_latents, scan_steps

__version__ = "0.1.0"

_LAZY = {
    "train": "jaxgan.trainer",
    "TrainResult": "jaxgan.trainer",
    "TrainingDiverged": "jaxgan.trainer",
    "setup_run": "jaxgan.trainer",
    "load_run": "jaxgan.readers",
    "LoadedRun": "jaxgan.readers",
    "generate": "jaxgan.sampling",
    "make_source": "jaxgan.data",
    "HealthMonitor": "jaxgan.diagnostics",
    "diagnose": "jaxgan.diagnostics",
    "write_report": "jaxgan.diagnostics",
    "fid": "jaxgan.metrics",
    "kid": "jaxgan.metrics",
    "mode_coverage": "jaxgan.metrics",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'jaxgan' has no attribute {name!r}")


__all__ = ["Config", "ConfigError", "resolve", "list_presets", "GANLoss", "LOSSES", "get_loss",
           "GANState", "GANModels", "init_state", "make_models", "make_train_step",
           "scan_steps", "sample_latents", "evaluate", *_LAZY]
