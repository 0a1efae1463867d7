"""A run's workdir and process: the guards around the loop (the run itself: `jaxgan.run`).

`workdir_guard` refuses to mix two different runs in one directory, or to resume with
retention settings that would delete checkpoints the run kept on purpose
(`train.keep_every`, `train.keep_best`); `GracefulExit` turns SIGTERM/SIGINT into "finish
the step, checkpoint, exit 0"; `load_run_config` reads a workdir's resolved config.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import jax

from jaxgan import config as config_lib
from jaxgan.config import Config, ConfigError
from jaxgan.legacy import migrate

# Keys that may change between the first run and a resume without changing the math.
# (Retention, train.keep_*: a resume that would delete kept snapshots is refused apart.)
# The DCGAN layer programs are exact rewrites of one layer with the same parameters, and
# `auto` picks them by backend: a run started as `fast`/`s2d` (the old defaults) resumes
# wherever `auto` now means XLA's own convolutions, with the same parameters. Streaming
# or not (data.stream, data.workers) reads the same batches (`jaxgan.data.stream`).
RESUMABLE_KEYS = ("train.steps", "train.progress", "train.log_every", "train.sample_every",
                  "train.checkpoint_every", "train.keep_checkpoints", "train.keep_every",
                  "train.keep_best", "train.keep_best_mode", "train.on_nan",
                  "train.max_rollbacks", "health", "eval", "name", "model.upsample",
                  "model.downsample", "data.stream", "data.workers")


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a, b = config_lib._flatten(old), config_lib._flatten(new)
    diffs = []
    for k in sorted(set(a) | set(b)):
        if any(k == r or k.startswith(r + ".") for r in RESUMABLE_KEYS):
            continue
        if a.get(k) != b.get(k):
            diffs.append(f"{k}: {a.get(k)!r} -> {b.get(k)!r}")
    return diffs


def _with_defaults(old: dict[str, Any]) -> dict[str, Any]:
    """A saved config with the keys it predates filled by their defaults and the keys that
    moved since at their new places (`jaxgan.legacy`), so that a run started before a
    config key existed or moved still resumes (an absent key meant the default)."""
    def merge(default: Any, saved: Any) -> Any:
        if isinstance(default, dict) and isinstance(saved, dict):
            return {**default, **{k: merge(default.get(k), v) for k, v in saved.items()}}
        return saved

    return merge(Config().to_dict(), migrate(old))


def workdir_guard(cfg: Config, workdir: Path, force: bool = False, write: bool = True) -> None:
    """Create the workdir and its config.json, refusing a workdir of a different run."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"workdir {workdir} cannot be created ({e.strerror}); choose "
                          "another --workdir") from None
    if not os.access(workdir, os.W_OK):
        raise ConfigError(f"workdir {workdir} is not writable; choose another --workdir")
    path = workdir / "config.json"
    if path.exists() and not force:
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise ConfigError(f"{path} is not valid JSON; pass --force to overwrite it") from None
        old = _with_defaults(old)
        diffs = config_differences(old, cfg.to_dict())
        if diffs:
            raise ConfigError(f"workdir {workdir} holds a different run ({diffs[0]}"
                              f"{f' and {len(diffs) - 1} more' if len(diffs) > 1 else ''}); "
                              "use another --workdir or pass --force")
        _refuse_losing_snapshots(workdir, old["train"], cfg)
    if write and jax.process_index() == 0:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(cfg.to_json())
        tmp.replace(path)


def _refuse_losing_snapshots(workdir: Path, old: dict[str, Any], cfg: Config) -> None:
    """A resume must not silently delete what the run's earlier keep_every/keep_best kept
    forever (orbax applies the new policy to every step on disk at the next save)."""
    from jaxgan.checkpoint import snapshots_lost

    lost = snapshots_lost(workdir / "checkpoints", old, cfg.to_dict()["train"])
    if lost:
        keys = (["keep_every"] if old["keep_every"] else []) + \
            (["keep_best", "keep_best_mode"] if old["keep_best"] else [])
        was = ", ".join(f"train.{k}={old[k]}" for k in keys)
        raise ConfigError(f"resuming {workdir} with these settings would delete the kept "
                          f"checkpoints {', '.join(map(str, lost))} (the run has {was}); "
                          "pass the same settings again, or --force to delete them")


class GracefulExit:
    """First SIGTERM/SIGINT: ask the loop to checkpoint and stop. Second: exit at once.

    Exiting at once is safe for what is already saved: orbax commits a checkpoint by an
    atomic rename, so a half-written one is never taken for a complete one.
    """

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            print("jaxgan: second signal, exiting now", file=sys.stderr)
            os._exit(128 + signum)
        self.requested = True
        print(f"jaxgan: {signal.Signals(signum).name} received; finishing the step, saving "
              "a checkpoint and exiting", file=sys.stderr)

    def install(self) -> None:
        try:
            for s in (signal.SIGTERM, signal.SIGINT):
                self._old[s] = signal.signal(s, self._handle)
        except ValueError:  # not the main thread (e.g. inside some notebook runners)
            self._old.clear()

    def uninstall(self) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)
        self._old.clear()


def load_run_config(workdir: str | Path) -> Config:
    """The resolved config a workdir was trained with."""
    path = Path(workdir) / "config.json"
    if not path.is_file():
        raise ConfigError(f"{workdir} holds no config.json; is it a jaxgan workdir?")
    try:
        return config_lib.from_dict(json.loads(path.read_text()))
    except json.JSONDecodeError:
        raise ConfigError(f"{path} is not valid JSON") from None
