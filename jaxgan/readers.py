"""Open a run's workdir for reading: `load_run(workdir)` for notebooks, `jaxgan sample`
and `jaxgan eval`.

A reader needs the run's resolved config (``config.json``), what it implies (modules and
mesh; no step is built, nothing is written) and a committed checkpoint restored into the
mesh's replicated placement. An image run's data source is loaded only when something
reads it (`LazySource`: `jaxgan eval`'s real images); sampling needs none, since the sample
shape is in the config, so `jaxgan sample` and notebooks that only sample never load the
dataset or TensorFlow. The 2-D toys' sources are built at once: they cost nothing and
their mode centers draw the scatter plot. The checkpoint directory is opened read-only
because runs are routinely inspected while they still train, and a reader that created
or cleaned anything in ``checkpoints/`` would destroy the trainer's in-flight save (see
checkpoint.py); a step deleted by the trainer's retention meanwhile is passed over for
the next newest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxgan import streams
from jaxgan.config import Config, apply_overrides
from jaxgan.run import RunSetup, sample_shape
from jaxgan.state import GANModels, GANState

__all__ = ["LoadedRun", "load_run", "LazySource"]


class LazySource:
    """An image run's data source, loaded on first use (`run.checked_source`)."""

    is_toy = False  # toys are built at once, so asking this loads nothing

    def __init__(self, cfg: Config) -> None:
        self._cfg, self._source = cfg, None

    @property
    def loaded(self) -> bool:
        return self._source is not None

    def _get(self) -> Any:
        if self._source is None:
            from jaxgan.run import checked_source

            self._source = checked_source(self._cfg)
        return self._source

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._get(), name)

    def __len__(self) -> int:
        return len(self._get())


def reader_setup(cfg: Config) -> RunSetup:
    """What a reader needs of a run: modules, mesh, sample shape and a (lazy) source; no
    step (`RunSetup.step_fn` is None) and no dataset loaded."""
    import jax

    from jaxgan import config as config_lib
    from jaxgan import parallel
    from jaxgan.data import make_source
    from jaxgan.data.sources import on_device
    from jaxgan.state import make_models

    cfg = config_lib.validate(config_lib.resolve_auto(cfg), jax.device_count())
    toy = on_device(cfg.data.source)
    source = make_source(cfg.data, cfg.seed) if toy else LazySource(cfg)
    return RunSetup(cfg, source, make_models(cfg), parallel.make_mesh(), None,
                    sample_shape(cfg))


@dataclass
class LoadedRun:
    """A run as a notebook wants it: its config, models and one restored state."""

    workdir: Path
    config: Config
    setup: RunSetup  # source (lazy for images), models and mesh; no step
    step: int  # the checkpoint's step; equals int(state.step)
    state: GANState

    @property
    def models(self) -> GANModels:
        return self.setup.models

    @property
    def source(self) -> Any:
        """The data source; an image dataset is loaded on first use (`LazySource`)."""
        return self.setup.source

    def sample(self, num: int = 64, seed: int | None = None, use_ema: bool | None = None,
               truncation: float | None = None) -> np.ndarray:
        """`num` generator samples in [-1, 1] (N, H, W, C), or (N, 2) for the toys; the EMA
        generator where the run keeps one, and the seed `jaxgan sample` uses by default;
        `truncation` draws the latents truncated at that threshold
        (`sampling.truncate`, BigGAN's truncation trick)."""
        from jaxgan.sampling import generate

        cfg = self.config
        use_ema = cfg.train.ema_decay > 0 if use_ema is None else use_ema and \
            cfg.train.ema_decay > 0
        if seed is None:
            seed = cfg.seed + streams.SAMPLE_SEED_OFFSET
        return generate(self.models, self.state, num, seed, use_ema=use_ema,
                        truncation=truncation)


def load_run(workdir: str | Path, overrides: list[str] | tuple[str, ...] = (),
             step: int | None = None) -> LoadedRun:
    """The run in `workdir` restored from its newest committed checkpoint (or `step`),
    read-only. `overrides` (KEY=VALUE) adjust what does not change the state, e.g.
    ``eval.num_samples=5000``. Raises ConfigError/CheckpointError with one line."""
    from jaxgan import autopilot
    from jaxgan.checkpoint import Checkpointer, CheckpointError, abstract_like
    from jaxgan.paths import local_workdir
    from jaxgan.run import abstract_state, restore_latest
    from jaxgan.runtime import load_run_config

    workdir = local_workdir(workdir)
    cfg = load_run_config(workdir)
    ckpt = Checkpointer(workdir / "checkpoints", read_only=True)
    try:
        applied = autopilot.read_applied(workdir)
        if applied:  # the autopilot's remedies: the checkpoint's optimizers, not config.json's
            at = step if step is not None else max(ckpt.steps(), default=0)
            # a remedy re-saves its restored step in checkpoints/: that one is remedied too
            cfg = autopilot.config_at(cfg, applied, at + 1)
        run = reader_setup(apply_overrides(cfg, list(overrides)))
        if step is None:
            restored = restore_latest(run, ckpt)
            if restored is None:
                raise CheckpointError(f"{workdir} holds no checkpoint yet; train first")
        else:
            restored = ckpt.restore(abstract_like(abstract_state(run), run.replicated), step)
    finally:
        ckpt.close()
    return LoadedRun(workdir, run.cfg, run, int(restored[0]), restored[1])
