"""HealthMonitor: the detectors run over a run's log records, one verdict per log step.

The trainer feeds every log record to `HealthMonitor.update` and shows the verdict;
`jaxgan doctor` replays a finished (or running) run's `metrics.jsonl` through the same
monitor, so the live verdict and the post-mortem one can never disagree.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.records import make_baseline

# Signals that come from evaluations rather than every log step: the latest value stands
# until the next evaluation, so records without them inherit it.
SPARSE_SIGNALS = ("modes_captured", "num_modes")

VERDICTS = ("healthy", "diverged", "convergence_failure", "vanishing_gradient",
            "mode_collapse", "oscillation")

# What practitioners try, most effective first, with the jaxgan config key where one exists.
REMEDIES: dict[str, list[str]] = {
    "healthy": [],
    "diverged": [
        "lower both learning rates (optim.g.lr, optim.d.lr), e.g. by 2-4x",
        "clip gradients by global norm (optim.g.grad_clip / optim.d.grad_clip)",
        "regularize D: gradient penalty (R1 or WGAN-GP) or spectral norm (model.spectral_norm)",
        "check the data scaling ([-1, 1] to match a tanh generator) and train.precision=float32",
        "train.on_nan=rollback to resume from the last good checkpoint",
    ],
    "convergence_failure": [
        "TTUR the other way round: lower D's learning rate (optim.d.lr) or raise G's",
        "weaken D: spectral norm (model.spectral_norm=true), a narrower D (model.d_width), "
        "fewer D steps (train.n_critic=1)",
        "one-sided label smoothing (real targets 0.9) or instance noise on D's inputs",
        "a gradient penalty (R1) or DiffAugment so D cannot memorize the real set",
        "a smaller batch (train.batch_size): noisier D gradients slow D down",
    ],
    "vanishing_gradient": [
        "the non-saturating loss (loss.name=non_saturating) instead of minimax",
        "a loss whose gradient does not vanish with a confident D: loss.name=hinge or "
        "wasserstein with a gradient penalty",
        "weaken D: spectral norm (model.spectral_norm=true), lower optim.d.lr (TTUR)",
        "instance noise or one-sided label smoothing to keep D's outputs unsaturated",
    ],
    "mode_collapse": [
        "minibatch standard deviation (or minibatch discrimination) in D",
        "a gradient penalty (R1 / WGAN-GP) or spectral norm (model.spectral_norm=true)",
        "TTUR: a lower G learning rate (optim.g.lr) than D's",
        "instance noise or DiffAugment; a class-conditional model (model.num_classes)",
        "a different loss (loss.name=hinge or wasserstein)",
    ],
    "oscillation": [
        "lower both learning rates, and Adam b1=0.0-0.5 (optim.*.b1)",
        "TTUR: D's learning rate ~4x G's (optim.d.lr vs optim.g.lr)",
        "a gradient penalty (R1) or spectral norm: they damp the players' rotation",
        "evaluate the EMA generator (train.ema_decay), which averages the cycle out",
    ],
}


@dataclass
class Verdict:
    """The monitor's judgement after one log record.

    `since_step` is the first step of the current uninterrupted run of this verdict;
    `warming_up` is true while the monitor is still collecting its early baseline, when the
    only possible verdicts are `healthy` and (NaN/Inf) `diverged`.
    """

    name: str
    since_step: int
    evidence: list[str] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)
    step: int = 0
    warming_up: bool = False

    @property
    def healthy(self) -> bool:
        return self.name == "healthy"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        if self.healthy:
            return "healthy (warming up)" if self.warming_up else "healthy"
        return f"{self.name} since step {self.since_step}"


def _remedies(name: str, profile: det.LossProfile) -> list[str]:
    out = list(REMEDIES[name])
    if name == "vanishing_gradient" and profile.name != "minimax":
        out = out[1:]  # already not minimax: the first remedy does not apply
    return out


class HealthMonitor:
    """Sliding-window failure detection over log records.

    Args:
      window: how many post-warm-up log records each detector looks at.
      warmup: how many first records only build the early baseline (the medians the
        "exploding" and "vanishing" rules compare with) and never raise a trend verdict, so
        the start-up transient (D winning easily against a random G) does not trigger.
      loss_name: the loss, if records do not carry `loss_name`.
    """

    def __init__(self, window: int = 10, warmup: int = 5, loss_name: str | None = None):
        if window < det.MIN_EVIDENCE_RECORDS:
            raise ValueError(f"health window must be >= {det.MIN_EVIDENCE_RECORDS}, got {window}")
        if warmup < 0:
            raise ValueError(f"health warmup must be >= 0, got {warmup}")
        self.window = window
        self.warmup = warmup
        self._loss_name = loss_name
        self._early: list[Mapping[str, Any]] = []
        self._recent: deque[Mapping[str, Any]] = deque(maxlen=window)
        self._baseline: dict[str, float] = {}
        self._count = 0
        self._sparse: dict[str, Any] = {}
        self.verdict: Verdict | None = None

    @property
    def baseline(self) -> dict[str, float]:
        """Medians of each signal over the warm-up records (empty until the first record)."""
        return dict(self._baseline)

    def update(self, record: Mapping[str, Any]) -> Verdict:
        """Take one log record, return the verdict as of its step."""
        step = int(det.value(record, "step") or 0)
        if self.verdict is not None and step <= self.verdict.step:
            self._rewind(step)
        self._count += 1
        record = self._fill_sparse(record)
        if self._loss_name is None and isinstance(record.get("loss_name"), str):
            self._loss_name = record["loss_name"]
        profile = det.profile_for(self._loss_name)
        warming = self._count <= self.warmup
        if warming or not self._early:
            if not det.nonfinite_signals(record):
                self._early.append(record)
                self._baseline = make_baseline(self._early)
        if warming:
            found = det.detect_diverged([record], self._baseline, profile)
            if found is None:
                found = det.Finding("healthy", [f"warming up: record {self._count}/{self.warmup}"])
        else:
            self._recent.append(record)
            found = self._judge(profile)
        return self._emit(found, step, warming, profile)

    def _fill_sparse(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        missing = {k: v for k, v in self._sparse.items() if k not in record}
        self._sparse.update({k: record[k] for k in SPARSE_SIGNALS if k in record})
        return {**record, **missing} if missing else record

    def _rewind(self, step: int) -> None:
        """The run went back (rollback after a NaN, or a resume): forget records from `step`
        on, as `jaxgan doctor` does when it reads the log, so live and replayed verdicts agree.
        """
        kept = [r for r in self._recent if int(det.value(r, "step") or 0) < step]
        self._recent.clear()
        self._recent.extend(kept)
        if self.verdict is not None and self.verdict.since_step >= step:
            self.verdict = None

    def _judge(self, profile: det.LossProfile) -> det.Finding:
        window = list(self._recent)
        current = self.verdict.name if self.verdict else "healthy"
        findings = {name: fn(window, self._baseline, profile, current == name)
                    for name, fn in det.DETECTORS}
        for name, _ in det.DETECTORS:
            found = findings[name]
            if found is not None:
                if name == "mode_collapse" and findings["oscillation"] is not None:
                    found.evidence += [f"supporting: {e}" for e in findings["oscillation"].evidence]
                return found
        return det.Finding("healthy", self._healthy_evidence(window[-1], profile))

    @staticmethod
    def _healthy_evidence(last: Mapping[str, Any], profile: det.LossProfile) -> list[str]:
        keys = ["d_loss", "g_loss"]
        keys += ["d_real_acc", "d_fake_acc"] if profile.accuracy_meaningful else []
        keys += ["diversity_ratio"]
        return [", ".join(f"{k}={det.fmt(det.value(last, k))}" for k in keys
                          if det.value(last, k) is not None)]

    def _emit(self, found: det.Finding, step: int, warming: bool,
              profile: det.LossProfile) -> Verdict:
        since = step
        if self.verdict is not None and self.verdict.name == found.name:
            since = self.verdict.since_step
        self.verdict = Verdict(found.name, since, found.evidence,
                               _remedies(found.name, profile), step, warming)
        return self.verdict
