"""The autopilot's remedy table: what `health.on_failure=remedy` changes when a verdict holds.

Why a table of data: a remedy must be something the trainer can apply between two steps
without changing the shapes of the state, so that the last healthy checkpoint restores into
the remedied run unchanged — learning rates and Adam's b1 (optax keeps no learning rate in
its state), the loss, the number of D steps per G step, and the D-side regularizers
(label smoothing, instance noise, R1, DiffAugment). Architecture changes (spectral norm,
packing, widths) would need a fresh state and are therefore advice in the doctor's report,
never remedies.

Each entry names the verdict it treats, says in one sentence what it does, and computes its
`KEY=VALUE` overrides from the run's current config (and step, for annealed terms), or
`None` when it does not apply (smoothing already on, the loss already non-saturating, ...).
The trainer tries a verdict's remedies in order, skipping those already applied, so a
second failure of the same kind gets the next remedy, not the same one again. A NaN/Inf
caught by the trainer's guard is a `diverged` verdict here too (the record it writes says
so): the autopilot answers it before `train.on_nan`, which decides only once the autopilot
has nothing left.

The remedies are the first entries of the monitor's advice (`diagnostics.monitor.REMEDIES`)
that can change mid-run; `tests/test_autopilot.py` checks that each changes the config key
it claims and that the changed step really behaves differently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax

from jaxgan.config import Config, apply_overrides, validate
from jaxgan.data.sources import on_device
from jaxgan.guards import is_injected

Edit = Callable[[Config, int], "list[str] | None"]


@dataclass(frozen=True)
class Remedy:
    """One mid-run change: `name` is what metrics.jsonl records, `what` what a person reads."""

    name: str
    what: str
    edit: Edit

    def overrides(self, cfg: Config, step: int) -> list[str] | None:
        return self.edit(cfg, step)


def _scale_lr(player: str, factor: float) -> Edit:
    def edit(cfg: Config, step: int) -> list[str]:
        del step
        out = []
        for p in player:
            lr = getattr(cfg.optim, p).lr
            out.append(f"optim.{p}.lr={lr * factor:.6g}")
        return out

    return edit


# The largest D:G learning-rate ratio of the published two-time-scale recipes (SAGAN 4e-4 /
# 1e-4, BigGAN 2e-4 / 5e-5). Halving alone leaves a D 50-100x faster than G 25-50x faster
# after each of its tries (the failure benchmark's D-fast runs: none rescued that way).
TTUR_MAX_RATIO = 4.0


def _slow_d(cfg: Config, step: int) -> list[str]:
    """Halve D's learning rate, and bring it to at most TTUR_MAX_RATIO x G's at once."""
    del step
    d, g = cfg.optim.d.lr, cfg.optim.g.lr
    return [f"optim.d.lr={min(d * 0.5, TTUR_MAX_RATIO * g):.6g}"]


def _fast_g(cfg: Config, step: int) -> list[str] | None:
    """Raise G's learning rate to D's at once, where D is faster: the other half of
    `_slow_d`. A G far slower than D does not use the room a weaker D leaves, and TTUR's
    bound is not enough: on the failure benchmark's digits run with G at 1e-5 and D at
    5e-4, G at D / 4 lost again by step 400-550 (as did a fresh run at G 1.25e-4 / D
    2.5e-4), while G level with D (the DCGAN recipe's equal rates) trained to 10 classes,
    84-86 % confident, at seeds 0 and 1 after this one remedy."""
    del step
    d, g = cfg.optim.d.lr, cfg.optim.g.lr
    return [f"optim.g.lr={d:.6g}"] if d > g else None


def _label_smoothing(cfg: Config, step: int) -> list[str] | None:
    del step
    if cfg.tricks.label_smoothing > 0 or not _has_labels_loss(cfg):
        return None
    return ["tricks.label_smoothing=0.1"]


def _instance_noise(cfg: Config, step: int) -> list[str] | None:
    """Gaussian noise on D's inputs, annealed to zero over the rest of the run: the noise
    makes the real and fake distributions overlap while D is too far ahead, then lets
    the run finish on clean inputs (the anneal counts from step 0, hence `step + rest`)."""
    if cfg.tricks.instance_noise > 0:
        return None
    rest = max(cfg.train.steps - step, 1)
    std = 0.05 if on_device(cfg.data.source) else 0.1
    return [f"tricks.instance_noise={std}",
            f"tricks.instance_noise_anneal_steps={step + rest}"]


def _r1(cfg: Config, step: int) -> list[str] | None:
    del step
    if cfg.tricks.r1_gamma > 0 or cfg.tricks.gp_weight > 0:
        return None
    gamma = 0.1 if on_device(cfg.data.source) else 1.0
    return [f"tricks.r1_gamma={gamma}"]


def _stronger_r1(cfg: Config, step: int) -> list[str] | None:
    """R1 10x stronger where it is on (StyleGAN2-ADA: gamma is what small datasets need
    more of), else the plain R1 remedy."""
    if cfg.tricks.r1_gamma > 0:
        return [f"tricks.r1_gamma={cfg.tricks.r1_gamma * 10:.6g}"]
    return _r1(cfg, step)


# DiffAugment's policy for limited data (Zhao et al. 2020): D sees only augmented reals
# and fakes, so it cannot memorize a small training set; images only (the 2-D toys have no
# colour or translation to augment), and only while the run has no augmentation of its own.
DIFFAUGMENT_POLICY = "color,translation,cutout"


def _diffaugment(cfg: Config, step: int) -> list[str] | None:
    del step
    if on_device(cfg.data.source) or cfg.tricks.diffaugment or cfg.tricks.ada:
        return None
    return [f"tricks.diffaugment={DIFFAUGMENT_POLICY}"]


def _non_saturating(cfg: Config, step: int) -> list[str] | None:
    del step
    return ["loss.name=non_saturating"] if cfg.loss.name == "minimax" else None


def _adam_b1_zero(cfg: Config, step: int) -> list[str] | None:
    del step
    out = [f"optim.{p}.b1=0.0" for p in "gd"
           if getattr(cfg.optim, p).name in ("adam", "adamw") and getattr(cfg.optim, p).b1 > 0]
    return out or None


def _fewer_d_steps(cfg: Config, step: int) -> list[str] | None:
    """Fewer D steps per G step: one for the losses whose recipes take one (DCGAN, LSGAN:
    several D steps per G step there only make D win faster), half as many for the
    Wasserstein and hinge critics, whose recipes (WGAN-GP, SNGAN, BigGAN) take several."""
    del step
    n = cfg.train.n_critic
    if n <= 1:
        return None
    return [f"train.n_critic={1 if _has_labels_loss(cfg) else n // 2}"]


def _has_labels_loss(cfg: Config) -> bool:
    """Label smoothing is defined for the losses that compare D's output with a target."""
    return cfg.loss.name in ("non_saturating", "minimax", "least_squares")


LOWER_BOTH = Remedy("lower_both_lrs", "lower both learning rates 4x", _scale_lr("gd", 0.25))
HALVE_BOTH = Remedy("halve_both_lrs", "halve both learning rates", _scale_lr("gd", 0.5))
SLOW_D = Remedy("slow_d", "halve D's learning rate, to at most 4x G's (TTUR towards G)",
                _slow_d)
FAST_G = Remedy("fast_g", "raise G's learning rate to D's", _fast_g)
SLOW_G = Remedy("slow_g", "halve G's learning rate (TTUR towards D)", _scale_lr("g", 0.5))
SMOOTH = Remedy("label_smoothing", "one-sided label smoothing: D's real target 0.9",
                _label_smoothing)
NOISE = Remedy("instance_noise", "instance noise on D's inputs, annealed to 0 by the end",
               _instance_noise)
R1 = Remedy("r1", "an R1 gradient penalty on real data", _r1)
STRONGER_R1 = Remedy("stronger_r1", "R1 10x stronger (or an R1 penalty where there is none)",
                     _stronger_r1)
NON_SAT = Remedy("non_saturating", "the non-saturating G loss instead of minimax",
                 _non_saturating)
B1_ZERO = Remedy("adam_b1_zero", "Adam b1=0 for both players (less momentum, less rotation)",
                 _adam_b1_zero)
DIFFAUG = Remedy("diffaugment", "DiffAugment (color, translation, cutout) on D's inputs",
                  _diffaugment)
FEWER_D = Remedy("fewer_d_steps", "fewer D steps per G step (train.n_critic: 1, or half "
                 "for Wasserstein and hinge critics)",
                 _fewer_d_steps)

# Verdict -> the remedies tried in order. `healthy` has none by definition.
REMEDY_TABLE: dict[str, tuple[Remedy, ...]] = {
    "diverged": (LOWER_BOTH, R1, LOWER_BOTH),
    "d_overfitting": (STRONGER_R1, SLOW_D, NOISE),
    "convergence_failure": (FAST_G, FEWER_D, SLOW_D, DIFFAUG, SMOOTH, NOISE, R1),
    "vanishing_gradient": (NON_SAT, FAST_G, FEWER_D, SLOW_D, DIFFAUG, NOISE, SMOOTH),
    "mode_collapse": (R1, NOISE, SLOW_G, HALVE_BOTH),
    "oscillation": (HALVE_BOTH, B1_ZERO, R1),
}


def next_remedy(verdict: str, cfg: Config, step: int, tried: Sequence[str] = ()
                ) -> tuple[Remedy, list[str]] | None:
    """The first remedy for `verdict` that applies to `cfg` and has not been `tried`
    (names; a name may appear in the table twice, so each use is counted), with its
    overrides; None when the table is exhausted for this run."""
    used = list(tried)
    for remedy in REMEDY_TABLE.get(verdict, ()):
        if remedy.name in used:
            used.remove(remedy.name)
            continue
        overrides = remedy.overrides(cfg, step)
        if overrides:
            return remedy, overrides
    return None


def apply_remedy(cfg: Config, overrides: Sequence[str]) -> Config:
    """The config with a remedy's overrides applied and validated (a new Config)."""
    return validate(apply_overrides(cfg, list(overrides)))


def set_hyperparams(state: Any, old: Config, new: Config) -> Any:
    """The state's injected optimizer hyperparameters moved from `old`'s to `new`'s.

    Learning rates are scaled by new/old rather than overwritten, so a NaN rollback's
    halving (`guards.scale_learning_rates`) survives a later remedy; Adam's b1 is set.
    """
    def player(opt_state: Any, o: Any, n: Any) -> Any:
        def visit(s: Any) -> Any:
            if not is_injected(s):
                return s
            hp = dict(s.hyperparams)
            if n.lr != o.lr:
                hp["learning_rate"] = hp["learning_rate"] * (n.lr / o.lr)
            if "b1" in hp and n.b1 != o.b1:
                hp["b1"] = jax.numpy.full_like(hp["b1"], n.b1)
            return s._replace(hyperparams=hp)

        return jax.tree.map(visit, opt_state, is_leaf=is_injected)

    return state.replace(g_opt_state=player(state.g_opt_state, old.optim.g, new.optim.g),
                         d_opt_state=player(state.d_opt_state, old.optim.d, new.optim.d))


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
            json.loads(self.path.read_text()) if self.path.exists() else [])
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
        """The config whose optimizer hyperparameters the healthy checkpoint at `step`
        holds: the user's with the remedies applied before it was saved. Those are the
        first k of `applied`, k the last with a restored step below `step` (a checkpoint
        is saved only after its remedy's restore, at a later step, and each later remedy
        that restored below `step` deleted it). The initial state (step 0) and a
        checkpoint at a remedy's own restored step predate that remedy. Restoring one
        older than the previous remedy must not undo that remedy's learning rates (a
        `fast_g` at step 0 and then a `slow_d` back at step 0 again: G at its old rate)."""
        k = max((i + 1 for i, e in enumerate(applied) if e["step"] < step), default=0)
        cfg = self.user_cfg
        for entry in applied[:k]:
            cfg = apply_remedy(cfg, entry["overrides"])
        return cfg

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
        new_cfg = apply_remedy(run.cfg, overrides)
        ckpt.wait()
        step, state = self._restore_healthy(
            run, restore_point(self.healthy.steps(), record))
        ckpt.delete_after(step - 1)
        self.healthy.delete_after(step)  # the failed trajectory's
        entry = {"step": step, "failed_at": int(record["step"]),
                 "verdict": record["verdict"], "remedy": remedy.name, "what": remedy.what,
                 "overrides": overrides}
        self.commit(entry)
        state = set_hyperparams(state, self.saved_under(step, self.applied[:-1]), new_cfg)
        ckpt.save(step, state, force=True)
        ckpt.wait()
        from jaxgan.run import setup_run

        return step, state, setup_run(new_cfg), entry

    def resume(self, run: Any, ckpt: Any) -> None:
        """Finish a remedy that was committed but whose remedied state was not saved yet
        (the newest main checkpoint is older than the remedy's step)."""
        if not self.applied:
            return
        last = self.applied[-1]
        latest = ckpt.latest_step()
        if latest is not None and latest >= last["step"]:
            return
        step, state = self._restore_healthy(run, last["step"])
        before = self.saved_under(step, self.applied[:-1])
        ckpt.save(step, set_hyperparams(state, before, run.cfg), force=True)
        ckpt.wait()

    def _restore_healthy(self, run: Any, step: int | None = None) -> tuple[int, Any]:
        from jaxgan.checkpoint import abstract_like
        from jaxgan.run import abstract_state

        return self.healthy.restore(abstract_like(abstract_state(run), run.replicated), step)


__all__ = ["Remedy", "REMEDY_TABLE", "next_remedy", "apply_remedy", "set_hyperparams",
           "Autopilot", "is_failure", "is_healthy", "restore_point", "HEALTHY_KEPT"]
