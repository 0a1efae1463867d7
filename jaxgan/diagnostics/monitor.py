"""HealthMonitor: the detectors run over a run's log records, one verdict per log step.

The trainer feeds every log record to `HealthMonitor.update` and shows the verdict (and the
warning below it, `at_risk`); `jaxgan doctor` replays a finished (or running) run's
`metrics.jsonl` through the same monitor, so the live verdict and the post-mortem one can
never disagree (`tests/test_diagnostics_zoo.py` compares them record by record).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.records import make_baseline
from jaxgan.diagnostics.risks import assess_risk

# Signals that come from evaluations rather than every log step: the latest value stands
# until the next evaluation, so records without them inherit it.
SPARSE_SIGNALS = ("modes_captured", "num_modes")

# The verdicts (healthy, then the detectors' in priority order) and their remedies are
# the detector registry's (`detectors.register_detector`); re-exported here.
VERDICTS, REMEDIES = det.VERDICTS, det.REMEDIES


@dataclass
class Verdict:
    """The monitor's judgement after one log record.

    `since_step` is the first step of the current uninterrupted run of this verdict;
    `evidence_from` the first step of the records this judgement read (the last `window`
    records, warm-up included, or the record itself while warming up): a state saved
    before it is one no evidence of the failure describes, where the autopilot goes back to;
    `warming_up` is true while the monitor is still collecting its early baseline, when the
    only possible verdicts are `healthy`, `diverged` and, from absolute levels alone, a
    saturated minimax G's `vanishing_gradient` (`dominance.early_saturation`). `at_risk`
    is the warning level below a verdict (`d_dominating`, `collapsing`, ...; "" when none,
    and only ever set while the verdict is `healthy`): a failure's condition holds in part
    of the window, not yet in enough of it to be a verdict; `at_risk_evidence` says what was seen.
    """

    name: str
    since_step: int
    evidence: list[str] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)
    step: int = 0
    warming_up: bool = False
    at_risk: str = ""
    at_risk_evidence: list[str] = field(default_factory=list)
    evidence_from: int = 0

    @property
    def healthy(self) -> bool:
        return self.name == "healthy"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        if self.healthy:
            if self.warming_up:
                return "healthy (warming up)"
            return f"healthy (at risk: {self.at_risk})" if self.at_risk else "healthy"
        return f"{self.name} since step {self.since_step}"


def _remedies(name: str, profile: det.LossProfile) -> list[str]:
    out = list(REMEDIES[name])
    if name == "vanishing_gradient" and profile.name != "minimax":
        out = out[1:]  # already not minimax: the first remedy does not apply
    return out


def _step(record: Mapping[str, Any]) -> int:
    return int(det.value(record, "step") or 0)


class HealthMonitor:
    """Sliding-window failure detection over log records.

    A pure function of the records it was given: the state after a sequence of records is
    the state after replaying them into a fresh monitor, which is how `jaxgan doctor` (and a
    resumed trainer) reproduce the live verdicts record by record. Records that are not
    training records (evaluations) are passed over; the trainer's NaN record is judged like
    any other; a record that goes back in steps (rollback, resume) drops the records from
    its step on, as the doctor does.

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
        self._given_loss = loss_name
        self._reset()

    def _reset(self) -> None:
        self._loss_name = self._given_loss
        self._early: list[Mapping[str, Any]] = []
        self._recent: deque[Mapping[str, Any]] = deque(maxlen=self.window)
        self._baseline: dict[str, float] = {}
        self._sparse: dict[str, Any] = {}
        self._kept: list[Mapping[str, Any]] = []  # the judged records, for an exact rewind
        self.verdict: Verdict | None = None

    @property
    def baseline(self) -> dict[str, float]:
        """Medians of each signal over the warm-up records (empty until the first record)."""
        return dict(self._baseline)

    def update(self, record: Mapping[str, Any]) -> Verdict:
        """Take one log record, return the verdict as of its step (for a record that is not
        a training record, the current verdict, unchanged)."""
        if not det.is_training_record(record):
            return self.verdict or Verdict("healthy", _step(record), ["no training record yet"],
                                           [], _step(record), True)
        record = det.decoded(record)
        if self._kept and _step(record) <= _step(self._kept[-1]):
            self._rewind(_step(record))
        self._kept.append(record)
        return self._judge_next(record)

    def _judge_next(self, record: Mapping[str, Any]) -> Verdict:
        step = _step(record)
        record = self._fill_sparse(record)
        if isinstance(record.get("loss_name"), str):  # the record's own loss comes first:
            self._loss_name = record["loss_name"]  # an autopilot remedy may have changed it
        profile = det.profile_for(self._loss_name)
        warming = len(self._kept) <= self.warmup
        if (warming or not self._early) and not det.insane(record, profile):
            self._early.append(record)
            self._baseline = make_baseline(self._early)
        risk, evidence_from = None, step
        current = self.verdict.name if self.verdict else "healthy"
        if warming:
            found = det.detect_diverged([record], self._baseline, profile) \
                or det.early_saturation(self._kept[-self.window:], profile,
                                        current == "vanishing_gradient")
            if found is None:
                found = det.Finding("healthy",
                                    [f"warming up: record {len(self._kept)}/{self.warmup}"])
        else:
            self._recent.append(record)
            found = self._judge(profile)
            # the window's first step, counting the warm-up records that precede a window
            # not yet full: a failure judged at the first records after the warm-up (D ahead
            # from the start) may have shown in them, unjudged
            evidence_from = _step(self._kept[-self.window:][0])
            if found.name == "healthy" and len(self._recent) < det.MIN_EVIDENCE_RECORDS:
                # Too few records since the warm-up to judge them alone: D ahead while G
                # loses reads absolute levels, so the warm-up records count for it too (a
                # D ahead from the start is named at the first record after the warm-up,
                # a start-up transient that has ended is not: the latest record must show it)
                early = self._kept[-self.window:]
                found = det.early_dominance(early, self._baseline, profile) \
                    or det.early_saturation(early, profile, current == "vanishing_gradient") \
                    or found
            if found.name == "healthy":
                risk = assess_risk(list(self._recent), self._baseline, profile)
        return self._emit(found, step, warming, profile, risk, evidence_from)

    def _fill_sparse(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        missing = {k: v for k, v in self._sparse.items() if k not in record}
        self._sparse.update({k: record[k] for k in SPARSE_SIGNALS if k in record})
        return {**record, **missing} if missing else record

    def _rewind(self, step: int) -> None:
        """The run went back (rollback after a NaN, or a resume): forget the records from
        `step` on and replay the rest, exactly as `jaxgan doctor` reads the log."""
        kept = [r for r in self._kept if _step(r) < step]
        self._reset()
        for r in kept:
            self._kept.append(r)
            self._judge_next(r)

    def _judge(self, profile: det.LossProfile) -> det.Finding:
        window = list(self._recent)
        current = self.verdict.name if self.verdict else "healthy"
        findings = {name: fn(window, self._baseline, profile, current == name)
                    for name, fn in det.DETECTORS}
        collapse, osc = findings["mode_collapse"], findings["oscillation"]
        if collapse is not None and osc is not None and all(
                e.startswith(("modes_captured", "classes_captured")) for e in collapse.evidence):
            # A G swung around by an oscillation covers a few modes at any one record: the
            # live toy count alone cannot tell that from a collapse, the swings can
            # (zoo_oscillation, seed 2: 1-3 of 8 modes among the 5-16 % of samples near one).
            osc.evidence += [f"supporting: {e}" for e in collapse.evidence]
            findings["mode_collapse"] = None
        for name, _ in det.DETECTORS:
            found = findings[name]
            if found is not None:
                if name == "mode_collapse" and findings["oscillation"] is not None:
                    found.evidence += [f"supporting: {e}" for e in findings["oscillation"].evidence]
                elif name in ("convergence_failure", "vanishing_gradient") and \
                        findings["mode_collapse"] is not None:
                    # D winning often ends in a collapse (a digits G reduced to one class):
                    # the verdict names the cause, the evidence keeps the consequence
                    found.evidence += [f"also mode_collapse: {e}"
                                       for e in findings["mode_collapse"].evidence]
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
              profile: det.LossProfile, risk: det.Finding | None = None,
              evidence_from: int | None = None) -> Verdict:
        since = step
        if self.verdict is not None and self.verdict.name == found.name:
            since = self.verdict.since_step
        self.verdict = Verdict(found.name, since, found.evidence,
                               _remedies(found.name, profile), step, warming,
                               risk.name if risk else "", list(risk.evidence) if risk else [],
                               step if evidence_from is None else evidence_from)
        return self.verdict
