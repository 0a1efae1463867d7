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

Readers (`jaxgan sample`, `jaxgan eval`, `load_run`) open the directory with
``read_only=True``: evaluating snapshots while the run trains is routine, and a reader that
created, cleaned or moved anything would destroy the trainer's in-flight save (orbax's
``*.orbax-checkpoint-tmp-*`` folders are exactly what a start-up cleanup removes). A
read-only restore that fails because the trainer's retention deleted the step meanwhile,
or because a step is damaged, falls back to the next newest committed step and moves
nothing.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
    """No usable checkpoint could be restored; the message is one line for the user."""


class Checkpointer:
    """The trainer's (``read_only=False``) or a reader's (``read_only=True``) view of a
    run's checkpoint directory."""

    def __init__(self, directory: str | Path, keep: int = 3, async_save: bool = True,
                 read_only: bool = False) -> None:
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
                self.manager = ocp.CheckpointManager(self.directory, options=options)
            finally:
                absl_log.setLevel(level)
        else:
            options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                                   enable_async_checkpointing=async_save,
                                                   cleanup_tmp_directories=True)
            self.manager = ocp.CheckpointManager(self.directory, options=options)

    def steps(self) -> list[int]:
        """Committed checkpoint steps, oldest first (temporary, uncommitted ones excluded)."""
        if self.read_only:  # another process saves and deletes: look again every time
            if not self.directory.is_dir():
                return []
            self.manager.reload()
        return sorted(self.manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.steps()
        return steps[-1] if steps else None

    def save(self, step: int, state: Any, force: bool = False) -> bool:
        return self.manager.save(step, args=ocp.args.StandardSave(state), force=force)

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
                state = self.manager.restore(s, args=ocp.args.StandardRestore(abstract_state))
                return s, state
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
                return s, self.manager.restore(
                    s, args=ocp.args.StandardRestore(abstract_state))
            except Exception as e:  # deleted meanwhile, or damaged: look again
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                failures.append(f"step {s}: {type(e).__name__} {first[:120]}")
                if step is not None:
                    raise CheckpointError(
                        f"checkpoint {self.directory / str(s)} is unreadable "
                        f"({failures[-1]})") from None

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
