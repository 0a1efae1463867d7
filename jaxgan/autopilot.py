"""The autopilot: the trainer's side of `health.on_failure=remedy`.

On a confirmed verdict it goes back to the newest checkpoint taken while the run was
healthy before the verdict's evidence, applies the verdict's next remedy from the table
(`jaxgan/remedies.py`), moves the restored state into the remedied config's optimizers
(`carry_optimizers`), records what it did, and lets the run continue; a run killed at any
point of a remedy resumes into the same remedied state, bit-exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax

from jaxgan.config import Config
from jaxgan.guards import is_injected
from jaxgan.remedies import REMEDY_TABLE, Remedy, apply_remedy, next_remedy


def set_hyperparams(state: Any, old: Config, new: Config) -> Any:
    """The state's injected optimizer hyperparameters moved from `old`'s to `new`'s, for
    players whose optimizer is the same in both (`carry_optimizers` does the rest).

    Learning rates are scaled by new/old rather than overwritten, so a NaN rollback's
    halving (`guards.scale_learning_rates`) survives a later remedy; Adam's b1 and b2 are set.
    """
    def player(opt_state: Any, o: Any, n: Any) -> Any:
        def visit(s: Any) -> Any:
            if not is_injected(s):
                return s
            hp = dict(s.hyperparams)
            if n.lr != o.lr:
                hp["learning_rate"] = hp["learning_rate"] * (n.lr / o.lr)
            for key in ("b1", "b2"):
                if key in hp and getattr(n, key) != getattr(o, key):
                    hp[key] = jax.numpy.full_like(hp[key], getattr(n, key))
            return s._replace(hyperparams=hp)

        return jax.tree.map(visit, opt_state, is_leaf=is_injected)

    return state.replace(g_opt_state=player(state.g_opt_state, old.optim.g, new.optim.g),
                         d_opt_state=player(state.d_opt_state, old.optim.d, new.optim.d))


def _counted(s: Any) -> bool:
    return isinstance(s, tuple) and hasattr(s, "count") and hasattr(s, "_replace")


def _fresh_like(tx: Any, params: Any, old: Any, old_lr: float, new_lr: float) -> Any:
    """`tx`'s initial state for `params`, carrying over from the `old` optimizer state
    what is not the optimizer's own: the learning rate's factor from a NaN rollback and
    the step counts (a schedule's decay and the injected state count where on)."""
    fresh = tx.init(params)
    old_rate = [s.hyperparams["learning_rate"] for s in
                jax.tree.leaves(old, is_leaf=is_injected) if is_injected(s)]
    counts = {type(s).__name__: s.count for s in jax.tree.leaves(old, is_leaf=_counted)
              if _counted(s)}
    injected_count = next((s.count for s in jax.tree.leaves(old, is_leaf=is_injected)
                           if is_injected(s)), None)

    def visit(s: Any) -> Any:
        if is_injected(s):
            hp = dict(s.hyperparams)
            if old_rate:
                hp["learning_rate"] = jax.numpy.asarray(
                    old_rate[0] * (new_lr / old_lr), hp["learning_rate"].dtype)
            s = s._replace(hyperparams=hp)
            return s if injected_count is None else s._replace(count=injected_count)
        if _counted(s) and type(s).__name__ in counts:
            return s._replace(count=counts[type(s).__name__])
        return s

    return jax.tree.map(visit, fresh, is_leaf=lambda s: is_injected(s) or _counted(s))


def carry_optimizers(state: Any, old: Config, run: Any) -> Any:
    """A state restored under config `old` made the state of `run` (the remedied run).

    A player whose optimizer is the same in both keeps its moments and gets its
    hyperparameters moved (`set_hyperparams`); a player whose optimizer changed
    (`remedies.ADAM_RECIPE`) starts the new optimizer's moments from zero, with its
    learning rate's rollback factor and its schedule's step count carried over, placed
    replicated like the rest of the state (one compiled call, every process alike)."""
    new = run.cfg
    moved = set_hyperparams(state, old, new)
    changed = [p for p in "gd" if getattr(old.optim, p).name != getattr(new.optim, p).name]
    if not changed:
        return moved
    txs = {"g": run.models.tx_g, "d": run.models.tx_d}

    def rebuild(st: Any) -> Any:
        out = {}
        for p in changed:
            o, n = getattr(old.optim, p), getattr(new.optim, p)
            out[f"{p}_opt_state"] = _fresh_like(txs[p], getattr(st, f"{p}_params"),
                                                getattr(st, f"{p}_opt_state"), o.lr, n.lr)
        return out

    fresh = jax.jit(rebuild, out_shardings=run.replicated)(state)
    return moved.replace(**fresh)


def read_applied(workdir: str | Path) -> list[dict[str, Any]]:
    """The remedies committed to ``WORKDIR/autopilot.json``, in order ([] when none)."""
    path = Path(workdir) / "autopilot.json"
    return json.loads(path.read_text()) if path.exists() else []


def config_at(user_cfg: Config, applied: Sequence[Mapping[str, Any]], step: int) -> Config:
    """The config whose optimizer state a checkpoint at `step` holds: the user's with the
    remedies applied before it was saved. Those are the first k of `applied`, k the last
    with a restored step below `step` (a checkpoint is saved only after its remedy's
    restore, at a later step, and each later remedy that restored below `step` deleted
    it). The initial state (step 0) and a checkpoint at a remedy's own restored step
    predate that remedy. Restoring one older than the previous remedy must not undo that
    remedy's learning rates (a `fast_g` at step 0 and then a `slow_d` back at step 0
    again: G at its old rate). That is the healthy checkpoints' rule; in ``checkpoints/``
    the remedy re-saves its restored step with the remedied state, so a checkpoint there
    at `s` is read with ``config_at(..., s + 1)``. Readers need it too: after
    `adam_recipe` the checkpoints hold Adam's state where ``config.json`` (the user's
    config) names SGD."""
    k = max((i + 1 for i, e in enumerate(applied) if e["step"] < step), default=0)
    cfg = user_cfg
    for entry in applied[:k]:
        cfg = apply_remedy(cfg, entry["overrides"])
    return cfg


def is_failure(record: Mapping[str, Any]) -> bool:
    """A confirmed failure verdict (the monitor's windowed rules, not an `at_risk` warning
    and not the warm-up)."""
    return record.get("verdict") in REMEDY_TABLE


# Healthy checkpoints kept besides the initial state: enough that one predates the evidence
# window of a failure that builds up over several checkpoint intervals.
HEALTHY_KEPT = 4


def restore_point(healthy_steps: Sequence[int], record: Mapping[str, Any]) -> int | None:
    """The healthy step to go back to for a failure `record`: the newest one older than
    every record the verdict was judged on (``verdict_evidence_from``), since a state saved
    inside that window may already hold the failure (a D that is winning while the verdict
    still reads healthy: the failure benchmark's D-fast runs were lost games at their last
    healthy checkpoint). The initial state (step 0) is always kept, so a run that fails from
    its first records starts again with the remedy. Records without the field (written
    before it existed) go back to the newest healthy step; None when none is kept."""
    steps = sorted(healthy_steps)
    if not steps:
        return None
    before = record.get("verdict_evidence_from")
    older = [s for s in steps if not isinstance(before, int) or s < before]
    return older[-1] if older else steps[0]


def is_healthy(record: Mapping[str, Any] | None) -> bool:
    """Healthy with no warning: a checkpoint taken now is one the autopilot may return to."""
    return record is not None and record.get("verdict") == "healthy" and \
        not record.get("at_risk") and not record.get("warming_up")


class Autopilot:
    """The trainer's side of ``health.on_failure=remedy``: what was applied, where the
    last healthy state is, and the decision at each failure.

    Applied remedies live in ``WORKDIR/autopilot.json`` (written atomically, after the
    failed trajectory's checkpoints are gone and the healthy state is the newest one), so
    a resumed run rebuilds the remedied config, and a run killed mid-remedy replays the
    same failure into the same remedy. Healthy checkpoints have a directory of their own
    (``checkpoints_healthy/``: the newest HEALTHY_KEPT and the initial state, step 0),
    outside the main retention window; `restore_point` picks among them.
    """

    def __init__(self, cfg: Config, workdir: Path) -> None:
        from jaxgan.checkpoint import Checkpointer

        self.max_remedies = cfg.health.max_remedies
        self.user_cfg = cfg
        self.path = workdir / "autopilot.json"
        self.applied: list[dict[str, Any]] = (
            read_applied(workdir))
        self.healthy = Checkpointer(workdir / "checkpoints_healthy", keep=HEALTHY_KEPT,
                                    async_save=False, keep_steps=(0,))

    def acts_on(self, cfg: Config, record: Mapping[str, Any]) -> bool:
        """A failure the autopilot answers now. After a remedy the monitor's window still
        holds the records from before it, so the verdict is left to settle for one full
        window of post-remedy records (`health.window` log steps) before it counts."""
        if not is_failure(record) or not self.applied:
            return is_failure(record)
        settle = self.applied[-1]["step"] + cfg.health.window * cfg.train.log_every
        return int(record["step"]) > settle

    def config(self, cfg: Config) -> Config:
        """`cfg` with every applied remedy's overrides, in order."""
        for entry in self.applied:
            cfg = apply_remedy(cfg, entry["overrides"])
        return cfg

    def saved_under(self, step: int, applied: Sequence[Mapping[str, Any]]) -> Config:
        """The config whose optimizer state the checkpoint at `step` holds
        (`config_at` from the user's config)."""
        return config_at(self.user_cfg, applied, step)

    def note_start(self, step: int, state: Any) -> None:
        """Keep the initial state (a run starting at step 0 with no healthy step yet)."""
        if step == 0 and self.healthy.latest_step() is None:
            self.healthy.save(0, state, force=True)

    def note_checkpoint(self, step: int, state: Any, last: Mapping[str, Any] | None) -> None:
        if is_healthy(last):
            self.healthy.save(step, state, force=True)

    def decide(self, cfg: Config, record: Mapping[str, Any]
               ) -> tuple[Remedy, list[str]] | None:
        """The remedy to apply for this failure record, or None: budget spent
        (`health.max_remedies`), nothing healthy to return to, or the table exhausted."""
        if len(self.applied) >= self.max_remedies or self.healthy.latest_step() is None:
            return None
        return next_remedy(record["verdict"], cfg, int(record["step"]),
                           [e["remedy"] for e in self.applied])

    def commit(self, entry: dict[str, Any]) -> None:
        self.applied.append(entry)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.applied, indent=1))
        os.replace(tmp, self.path)

    def close(self) -> None:
        self.healthy.close()

    def remedy(self, run: Any, ckpt: Any, record: Mapping[str, Any]
               ) -> tuple[int, Any, Any, dict[str, Any]] | None:
        """Act on a failure record: (step, state, run, entry) to continue from, or None
        when there is nothing left to try (the trainer then stops).

        Order matters for resuming: the failed trajectory's checkpoints go first (down to
        and including the healthy step), then the decision is committed, then the
        remedied state is saved as the healthy step. Killed before the commit, a resume
        replays the same failure deterministically into the same remedy; killed after
        it, `resume` finishes the save.
        """
        found = self.decide(run.cfg, record)
        if found is None:
            return None
        remedy, overrides = found
        from jaxgan.run import setup_run

        new_run = setup_run(apply_remedy(run.cfg, overrides))
        ckpt.wait()
        at = restore_point(self.healthy.steps(), record)
        step, state = self._restore_healthy(run, at, self.saved_under(at, self.applied))
        ckpt.delete_after(step - 1)
        self.healthy.delete_after(step)  # the failed trajectory's
        entry = {"step": step, "failed_at": int(record["step"]),
                 "verdict": record["verdict"], "remedy": remedy.name, "what": remedy.what,
                 "overrides": overrides}
        self.commit(entry)
        state = carry_optimizers(state, self.saved_under(step, self.applied[:-1]), new_run)
        ckpt.save(step, state, force=True)
        ckpt.wait()
        return step, state, new_run, entry

    def resume(self, run: Any, ckpt: Any) -> None:
        """Finish a remedy that was committed but whose remedied state was not saved yet
        (the newest main checkpoint is older than the remedy's step)."""
        if not self.applied:
            return
        last = self.applied[-1]
        latest = ckpt.latest_step()
        if latest is not None and latest >= last["step"]:
            return
        before = self.saved_under(last["step"], self.applied[:-1])
        step, state = self._restore_healthy(run, last["step"], before)
        ckpt.save(step, carry_optimizers(state, before, run), force=True)
        ckpt.wait()

    def _restore_healthy(self, run: Any, step: int, under: Config) -> tuple[int, Any]:
        """The healthy checkpoint at `step`, restored as the state of config `under`, the
        one it was saved under: a remedy since may have changed an optimizer, and with it
        the state's structure."""
        from jaxgan.checkpoint import abstract_like
        from jaxgan.state import init_state, make_models

        models = make_models(under)
        template = jax.eval_shape(lambda: init_state(models, under.seed, run.sample_shape))
        return self.healthy.restore(abstract_like(template, run.replicated), step)


__all__ = ["Remedy", "REMEDY_TABLE", "next_remedy", "apply_remedy", "set_hyperparams",
           "carry_optimizers", "config_at", "read_applied",
           "Autopilot", "is_failure", "is_healthy", "restore_point", "HEALTHY_KEPT"]
