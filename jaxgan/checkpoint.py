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
"""

from __future__ import annotations

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
    def __init__(self, directory: str | Path, keep: int = 3, async_save: bool = True) -> None:
        self.directory = Path(directory).absolute()
        options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                               enable_async_checkpointing=async_save,
                                               cleanup_tmp_directories=True)
        self.manager = ocp.CheckpointManager(self.directory, options=options)

    def steps(self) -> list[int]:
        """Committed checkpoint steps, oldest first (temporary, uncommitted ones excluded)."""
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
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def abstract_like(state: Any, sharding: Any) -> Any:
    """ShapeDtypeStructs of `state` (concrete or abstract) placed with `sharding`."""
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding),
                        state)
