"""jaxgan: functional GAN training in JAX that tells you whether your GAN is healthy.

The public API. Every name loads its module on first use, so `import jaxgan` (and every
`jaxgan` command, which imports the package first) costs no JAX, TensorFlow or matplotlib
import until a name needs one: `jaxgan --help` answers without loading JAX.

`evaluate` is both an API function and the name of a submodule, and importing a submodule
sets the package attribute of its name, which would hide the function behind the module
from then on; the package's class therefore serves `evaluate` as a property that the
import system's assignment cannot overwrite (`_Package`).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Config": "jaxgan.config",
    "ConfigError": "jaxgan.config",
    "resolve": "jaxgan.config",
    "list_presets": "jaxgan.config",
    "GANLoss": "jaxgan.losses",
    "LOSSES": "jaxgan.losses",
    "get_loss": "jaxgan.losses",
    "GANState": "jaxgan.state",
    "GANModels": "jaxgan.state",
    "init_state": "jaxgan.state",
    "make_models": "jaxgan.state",
    "make_train_step": "jaxgan.step",
    "StepParts": "jaxgan.parts",
    "Term": "jaxgan.parts",
    "register_loss": "jaxgan.losses",
    "register_model": "jaxgan.models",
    "register_metric": "jaxgan.metrics.registry",
    "register_detector": "jaxgan.diagnostics.detectors",
    "RunSetup": "jaxgan.run",
    "sample_latents": "jaxgan.step",
    "scan_steps": "jaxgan.multistep",
    "train": "jaxgan.trainer",
    "TrainResult": "jaxgan.trainer",
    "TrainingDiverged": "jaxgan.trainer",
    "setup_run": "jaxgan.run",
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


class _Package(types.ModuleType):
    @property
    def evaluate(self) -> Any:
        """`jaxgan.evaluate.evaluate`: a run's metrics (see that function)."""
        return importlib.import_module("jaxgan.evaluate").evaluate

    @evaluate.setter
    def evaluate(self, value: Any) -> None:  # the import system binding the submodule
        pass


sys.modules[__name__].__class__ = _Package

__all__ = ["evaluate", *_LAZY]
