"""A thin wrapper over orbax's CheckpointManager for one GANState pytree.

Orbax writes ``checkpoints/STEP/default/...`` atomically (a temporary directory renamed on
commit), keeps the last K, and only deletes an old step after the new one is committed, so
the newest complete checkpoint always survives a crash. Plain
``orbax.checkpoint.PyTreeCheckpointer().restore(path / "default")`` reads one back without
jaxgan. What this wrapper adds: restoring straight into the mesh's replicated placement,
and skipping a checkpoint that turns out to be truncated or corrupt in favour of the
previous one, with one line that says so. A skipped checkpoint is moved aside to
``checkpoints.corrupt/`` (never deleted: it may be worth a look) so that the run can save
that step again; leftover temporary directories of a killed save are removed at start-up.

What is kept is orbax's preservation policies, one per ``train.keep_*`` key: the newest K
(``LatestN``), every checkpoint at a multiple of ``keep_every`` steps forever
(``EveryNSteps``) and the one with the best ``keep_best`` eval metric (``BestN`` over the
metrics orbax stores beside each step), combined by ``AnyPreservationPolicy``; orbax does
the deleting. `snapshots_lost` says which kept snapshots a resume with other settings
would delete, so that the trainer can refuse instead (`runtime.workdir_guard`).

Readers (`jaxgan sample`, `jaxgan eval`, `load_run`) open the directory with
``read_only=True``: evaluating snapshots while the run trains is routine, and a reader that
created, cleaned or moved anything would destroy the trainer's in-flight save (orbax's
``*.orbax-checkpoint-tmp-*`` folders are exactly what a start-up cleanup removes). A
read-only restore that fails because the trainer's retention deleted the step meanwhile,
or because a step is damaged, falls back to the next newest committed step and moves
nothing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
    """No usable checkpoint could be restored; the message is one line for the user."""


def preservation(keep: int, keep_every: int = 0, keep_best: str = "",
                 keep_best_mode: str = "min", latest: bool = True,
                 keep_steps: Sequence[int] = ()
                 ) -> tuple[Any, Callable[[Mapping[str, Any]], float] | None]:
    """The orbax preservation policy of the ``train.keep_*`` settings, and the ``best_fn``
    that makes orbax store each save's metrics (None without `keep_best`). `latest=False`
    leaves out the newest-K part: what is kept forever or as the best. `keep_steps` are
    kept whatever their age (the autopilot's initial state, step 0)."""
    cm = ocp.checkpoint_managers
    policies: list[Any] = [cm.LatestN(n=keep)] if latest else []
    if keep_every:
        policies.append(cm.EveryNSteps(interval_steps=keep_every))
    if keep_steps:
        policies.append(cm.CustomSteps(steps=list(keep_steps)))
    best_fn = None
    if keep_best:
        worst = math.inf if keep_best_mode == "min" else -math.inf

        def best_fn(metrics: Mapping[str, Any]) -> float:
            v = metrics.get(keep_best) if isinstance(metrics, Mapping) else None
            return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else worst

        # BestN sorts ascending and keeps the last n; reverse for "min". Steps saved without
        # an evaluation carry no metrics and are LatestN's business only.
        policies.append(cm.BestN(get_metric_fn=best_fn, reverse=keep_best_mode == "min", n=1,
                                 keep_checkpoints_without_metrics=False))
    return cm.AnyPreservationPolicy(policies), best_fn


class _NoMissingMetricsWarning(logging.Filter):
    """orbax warns at every save without metrics once `best_fn` is set; with keep_best
    only the evaluated steps carry metrics, by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "did not provide metrics" not in record.getMessage()


_ABSL_FILTER = _NoMissingMetricsWarning()


@dataclass
class _Info:  # what orbax's PolicyCheckpointInfo protocol asks of a checkpoint
    step: int
    metrics: dict[str, Any] | None
    time: datetime = datetime.min.replace(tzinfo=UTC)


def _committed_infos(directory: Path) -> list[_Info]:
    """Committed steps with the metrics orbax stored beside them, without a manager (a
    plain directory listing: orbax renames a step's temporary folder on commit)."""
    if not directory.is_dir():
        return []
    out = []
    for p in directory.iterdir():
        if p.name.isdigit() and p.is_dir():
            try:
                metrics = json.loads((p / "metrics" / "metrics").read_text())
            except (OSError, ValueError):
                metrics = None
            out.append(_Info(int(p.name), metrics))
    return sorted(out, key=lambda i: i.step)


def snapshots_lost(directory: str | Path, old: Mapping[str, Any], new: Mapping[str, Any]
                   ) -> list[int]:
    """Committed steps that the `old` train settings keep forever or as the best
    (keep_every, keep_best) and that the `new` ones would delete at the next save."""
    if not (old.get("keep_every") or old.get("keep_best")):
        return []
    infos = _committed_infos(Path(directory))
    if not infos:
        return []
    upcoming = [*infos, _Info(infos[-1].step + 1, None)]
    context = ocp.checkpoint_managers.preservation_policy.PreservationContext()

    def kept(settings: Mapping[str, Any], latest: bool) -> list[bool]:
        policy, _ = preservation(settings["keep_checkpoints"], settings.get("keep_every", 0),
                                 settings.get("keep_best", ""),
                                 settings.get("keep_best_mode", "min"), latest=latest)
        return list(policy.should_preserve(upcoming, context=context))

    return [i.step for i, a, b in zip(infos, kept(old, False), kept(new, True), strict=False)
            if a and not b]


def _listing(fn: Any, tries: int = 50) -> Any:
    """Run an orbax directory listing, again if a step vanished while it was read: the
    trainer's retention deletes old steps at any moment, and orbax stats each one."""
    for i in range(tries):
        try:
            return fn()
        except FileNotFoundError:
            if i == tries - 1:
                raise
            time.sleep(0.02)
    return None


class Checkpointer:
    """The trainer's (``read_only=False``) or a reader's (``read_only=True``) view of a
    run's checkpoint directory; `keep`, `keep_every`, `keep_best` and `keep_best_mode` are
    the ``train.keep_*`` settings (see `preservation`)."""

    def __init__(self, directory: str | Path, keep: int = 3, async_save: bool = True,
                 read_only: bool = False, keep_every: int = 0, keep_best: str = "",
                 keep_best_mode: str = "min", keep_steps: Sequence[int] = ()) -> None:
        self.directory = Path(directory).absolute()
        self.read_only = read_only
        if read_only:
            options = ocp.CheckpointManagerOptions(read_only=True, create=False,
                                                   cleanup_tmp_directories=False,
                                                   max_to_keep=None, save_interval_steps=0,
                                                   enable_async_checkpointing=False)
            absl_log = logging.getLogger("absl")  # orbax warns that it is read-only
            level = absl_log.level
            absl_log.setLevel(logging.ERROR)
            try:
                self.manager = _listing(
                    lambda: ocp.CheckpointManager(self.directory, options=options))
            finally:
                absl_log.setLevel(level)
        else:
            policy, best_fn = preservation(keep, keep_every, keep_best, keep_best_mode,
                                           keep_steps=keep_steps)
            if best_fn is not None:
                logging.getLogger("absl").addFilter(_ABSL_FILTER)  # idempotent
            options = ocp.CheckpointManagerOptions(preservation_policy=policy, best_fn=best_fn,
                                                   best_mode=keep_best_mode, create=True,
                                                   enable_async_checkpointing=async_save,
                                                   cleanup_tmp_directories=True)
            self.manager = ocp.CheckpointManager(self.directory, options=options)

    def steps(self) -> list[int]:
        """Committed checkpoint steps, oldest first (temporary, uncommitted ones excluded)."""
        if self.read_only:  # another process saves and deletes: look again every time
            if not self.directory.is_dir():
                return []
            _listing(self.manager.reload)
        return sorted(self.manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.steps()
        return steps[-1] if steps else None

    def save(self, step: int, state: Any, force: bool = False,
             metrics: Mapping[str, float] | None = None) -> bool:
        """Save `state` as `step`; `metrics` (an eval record's numbers) are stored beside it
        when `keep_best` ranks checkpoints by them."""
        return self.manager.save(step, args=ocp.args.StandardSave(state), force=force,
                                 metrics=dict(metrics) if metrics is not None else None)

    def delete_after(self, step: int) -> list[int]:
        """Delete the committed checkpoints newer than `step` (the autopilot discards a
        failed trajectory's checkpoints so that a resume continues the remedied one);
        returns the deleted steps."""
        self.manager.wait_until_finished()
        gone = [s for s in self.steps() if s > step]
        for s in gone:
            self.manager.delete(s)
        return gone

    def restore(self, abstract_state: Any, step: int | None = None) -> tuple[int, Any]:
        """Restore the newest readable checkpoint (or `step`); skips corrupt ones.

        `abstract_state` is a pytree of `jax.ShapeDtypeStruct` carrying the target
        shardings, so arrays land directly on the devices where the step expects them.
        """
        if self.read_only:
            return self._restore_reading(abstract_state, step)
        candidates = [step] if step is not None else list(reversed(self.steps()))
        for s in candidates:
            try:
                return s, self._restore_step(s, abstract_state)
            except Exception as e:  # orbax raises many types for a damaged directory
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                moved = self._quarantine(s) if step is None else None
                if jax.process_index() == 0:
                    print(f"jaxgan: checkpoint {self.directory / str(s)} is unreadable "
                          f"({type(e).__name__}: {first[:160]}); "
                          f"{f'moved to {moved}; ' if moved else ''}trying an older one",
                          file=sys.stderr)
        raise CheckpointError(
            f"no readable checkpoint in {self.directory} (tried steps {candidates}); "
            "delete the directory to start afresh")

    def _restore_reading(self, abstract_state: Any, step: int | None) -> tuple[int, Any]:
        """A reader's restore: never moves or deletes; a step that vanished (the trainer's
        retention) or fails to read is passed over for the next newest committed one."""
        tried: list[int] = []
        failures: list[str] = []
        while True:
            committed = self.steps()
            if step is not None:
                if step not in committed:
                    raise CheckpointError(
                        f"no complete checkpoint of step {step} in {self.directory} "
                        f"(committed: {committed or 'none'})")
                candidates = [step]
            else:
                candidates = [s for s in reversed(committed) if s not in tried]
            if not candidates:
                detail = f" ({'; '.join(failures)[:300]})" if failures else ""
                raise CheckpointError(
                    f"no complete checkpoint in {self.directory} yet{detail}; train first "
                    "or wait for the first save")
            s = candidates[0]
            tried.append(s)
            try:
                return s, self._restore_step(s, abstract_state)
            except Exception as e:  # deleted meanwhile, or damaged: look again
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                failures.append(f"step {s}: {type(e).__name__} {first[:120]}")
                if step is not None:
                    raise CheckpointError(
                        f"checkpoint {self.directory / str(s)} is unreadable "
                        f"({failures[-1]})") from None

    def _restore_step(self, step: int, abstract_state: Any) -> Any:
        """One step restored into `abstract_state`. A checkpoint written before the
        state had its `extra` field (the tricks' state) has no such entry: when the
        template's is empty too, the other fields are restored and `extra` stays empty,
        so those runs resume instead of their checkpoints being taken for damaged ones."""
        try:
            return self.manager.restore(step, args=ocp.args.StandardRestore(abstract_state))
        except ValueError as e:
            if "extra" not in str(e) or getattr(abstract_state, "extra", None) != {}:
                raise
            older = {f.name: getattr(abstract_state, f.name)
                     for f in fields(abstract_state) if f.name != "extra"}
            restored = self.manager.restore(step, args=ocp.args.StandardRestore(older))
            return abstract_state.replace(**restored, extra={})

    def _quarantine(self, step: int) -> Path | None:
        """Move an unreadable step aside so the manager forgets it and may save it again."""
        src = self.directory / str(step)
        dest = self.directory.parent / "checkpoints.corrupt" / f"{step}-{int(time.time())}"
        if jax.process_index() == 0 and src.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dest))
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices(f"jaxgan_quarantine_{step}")
        self.manager.reload()
        return dest

    def wait(self) -> None:
        if not self.read_only:
            self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def abstract_like(state: Any, sharding: Any) -> Any:
    """ShapeDtypeStructs of `state` (concrete or abstract) placed with `sharding`."""
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding),
                        state)
