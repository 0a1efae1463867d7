"""`jaxgan doctor WORKDIR`: replay a run's log through the HealthMonitor and report.

The doctor reads `WORKDIR/metrics.jsonl` (also of a run still writing it: a half-written last
line is skipped), replays every training record through the same `HealthMonitor` the trainer
runs live, and turns the verdicts into a timeline of uninterrupted runs. `write_report` adds
`WORKDIR/doctor/report.md` with PNG plots that show the verdicts as coloured bands, so the
evidence can be checked by eye.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.monitor import REMEDIES, HealthMonitor, Verdict

METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "config.json"
REPORT_DIR = "doctor"


class DiagnosticsError(ValueError):
    """A user-facing problem with the run directory; the CLI prints it as one line, exit 2."""


class Segment(NamedTuple):
    """An uninterrupted run of one verdict, from `start_step` to `end_step` (log steps)."""

    start_step: int
    end_step: int
    verdict: str
    evidence: list[str]


@dataclass
class DoctorReport:
    """What `diagnose` found: the verdict timeline of a run and how it was read."""

    workdir: Path
    timeline: list[Segment]
    final: Verdict
    loss_name: str
    window: int
    warmup: int
    num_records: int
    first_step: int
    last_step: int
    skipped_lines: int = 0
    truncated_last_line: bool = False
    warnings: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    verdicts: list[Verdict] = field(default_factory=list, repr=False)

    @property
    def failures(self) -> list[str]:
        """The distinct non-healthy verdicts seen, in order of first appearance."""
        seen: list[str] = []
        for s in self.timeline:
            if s.verdict != "healthy" and s.verdict not in seen:
                seen.append(s.verdict)
        return seen

    def to_dict(self) -> dict[str, Any]:
        return {
            "workdir": str(self.workdir),
            "loss_name": self.loss_name,
            "window": self.window,
            "warmup": self.warmup,
            "num_records": self.num_records,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "skipped_lines": self.skipped_lines,
            "truncated_last_line": self.truncated_last_line,
            "warnings": list(self.warnings),
            "final": self.final.to_dict(),
            "timeline": [s._asdict() for s in self.timeline],
            "remedies": {name: REMEDIES[name] for name in self.failures},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


@dataclass
class MetricsLog:
    """The training records of a metrics.jsonl and what reading it ran into."""

    records: list[dict[str, Any]]
    skipped_lines: int = 0
    truncated_last_line: bool = False
    notes: list[str] = field(default_factory=list)


def read_metrics(path: Path) -> MetricsLog:
    """Training records of a metrics.jsonl, oldest first.

    Every record the trainer writes is read, the trainer's own NaN record (`nonfinite: 1`,
    often nothing else) included, with "nan"/"inf" strings turned back into floats, so the
    replay sees what the live monitor saw. Robust to what real runs leave behind: a last
    line still being written (skipped, not an error), unreadable lines (counted), records
    that are not training records (evaluation lines; ignored; the autopilot's lines become
    notes), and a rolled-back, remedied or resumed
    run that logs some steps again (the later records replace the earlier ones from that
    step on, as the run itself did; a note keeps the replaced divergence visible).
    """
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    log = MetricsLog([])
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                log.truncated_last_line = True
            else:
                log.skipped_lines += 1
            continue
        if not isinstance(rec, dict) or det.value(rec, "step") is None:
            log.skipped_lines += 1
            continue
        if "autopilot" in rec:  # health.on_failure=remedy acted (jaxgan/autopilot.py)
            log.notes.append(f"autopilot: {rec.get('autopilot_verdict')} at step "
                             f"{rec.get('autopilot_failed_at')}; applied {rec['autopilot']} "
                             f"({rec.get('autopilot_overrides', '')}) and went back to the "
                             f"healthy step {rec['step']}")
            continue
        if not det.is_training_record(rec):  # evaluation records; the NaN record stays
            continue
        rec = dict(det.decoded(rec))
        rec["step"] = int(rec["step"])
        replaced = []
        while log.records and log.records[-1]["step"] >= rec["step"]:
            replaced.append(log.records.pop())
        if replaced:
            bad = [r["step"] for r in replaced if det.nonfinite_signals(r)]
            what = f"non-finite values at step {min(bad)}; " if bad else ""
            log.notes.append(f"{what}the run went back to step {rec['step']} (rollback or "
                             f"resume); the replaced records up to step "
                             f"{max(r['step'] for r in replaced)} are not in the timeline")
        log.records.append(rec)
    return log


def _health_config(workdir: Path, warnings: list[str]) -> dict[str, Any]:
    path = workdir / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        cfg = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.append(f"{path} unreadable ({e}); using the default health window")
        return {}
    if not isinstance(cfg, dict):
        return {}
    health = cfg.get("health") if isinstance(cfg.get("health"), dict) else {}
    out = {}
    for key in ("window", "warmup"):
        v = health.get(key, cfg.get(f"health.{key}"))
        if isinstance(v, int) and not isinstance(v, bool):
            out[key] = v
    loss = cfg.get("loss")
    if isinstance(loss, dict) and isinstance(loss.get("name"), str):
        out["loss_name"] = loss["name"]
    return out


def _timeline(verdicts: list[Verdict]) -> list[Segment]:
    """Uninterrupted runs of one verdict, each with the evidence of its first judgement
    (for a healthy run the first after warm-up: warm-up evidence says nothing)."""
    segments: list[Segment] = []
    warm = False
    for v in verdicts:
        if segments and segments[-1].verdict == v.name:
            last = segments[-1]
            evidence = v.evidence if warm and not v.warming_up else last.evidence
            segments[-1] = Segment(last.start_step, v.step, v.name, evidence)
        else:
            segments.append(Segment(v.step, v.step, v.name, list(v.evidence)))
        warm = v.warming_up
    return segments


def diagnose(workdir: str | Path, window: int | None = None,
             warmup: int | None = None) -> DoctorReport:
    """Replay `WORKDIR/metrics.jsonl` through a HealthMonitor and return the verdict timeline.

    The window (and warm-up) come from the arguments, else from the run's `config.json`
    (`health.window`), else the monitor's defaults, so the doctor judges a run the way the
    trainer did.
    """
    workdir = Path(workdir)
    if not workdir.exists():
        raise DiagnosticsError(f"run directory {workdir} does not exist")
    if not workdir.is_dir():
        raise DiagnosticsError(f"{workdir} is not a directory; pass the run's WORKDIR")
    path = workdir / METRICS_FILE
    if not path.is_file():
        raise DiagnosticsError(f"{workdir} has no {METRICS_FILE}; is it the WORKDIR of a "
                               "jaxgan training run?")
    log = read_metrics(path)
    records, skipped = log.records, log.skipped_lines
    if not records:
        raise DiagnosticsError(f"{path} holds no training records yet (the first is written "
                               "after train.log_every steps)")
    warnings: list[str] = list(log.notes)
    cfg = _health_config(workdir, warnings)
    window = window if window is not None else cfg.get("window", 10)
    warmup = warmup if warmup is not None else cfg.get("warmup", 5)
    # the latest loss for the report (an autopilot remedy may have changed it mid-run);
    # the monitor reads each record's own and needs this only for records without one
    loss_name = next((r["loss_name"] for r in reversed(records)
                      if isinstance(r.get("loss_name"), str)), cfg.get("loss_name"))
    try:
        monitor = HealthMonitor(window=window, warmup=warmup, loss_name=loss_name)
    except ValueError as e:
        raise DiagnosticsError(f"{workdir / CONFIG_FILE}: {e}") from None
    verdicts = [monitor.update(r) for r in records]
    if skipped:
        warnings.append(f"{skipped} unreadable line(s) in {path} skipped")
    return DoctorReport(
        workdir=workdir, timeline=_timeline(verdicts), final=verdicts[-1],
        loss_name=str(loss_name or "unknown"), window=window, warmup=warmup,
        num_records=len(records), first_step=int(records[0]["step"]),
        last_step=int(records[-1]["step"]), skipped_lines=skipped,
        truncated_last_line=log.truncated_last_line, warnings=warnings, records=records,
        verdicts=verdicts)


def format_timeline(report: DoctorReport) -> str:
    """The verdict timeline and what to try, for the terminal."""
    out = [f"jaxgan doctor: {report.workdir}  ({report.num_records} log records, steps "
           f"{report.first_step}-{report.last_step}, loss {report.loss_name}, "
           f"window {report.window})"]
    width = len(str(report.last_step))
    for s in report.timeline:
        ev = "; ".join(s.evidence)
        out.append(f"  steps {s.start_step:>{width}}-{s.end_step:<{width}}  "
                   f"{s.verdict:<19} {ev}".rstrip())
    final = report.final
    out.append(f"verdict: {final}")
    if final.at_risk:
        out.append(f"  at risk: {'; '.join(final.at_risk_evidence)}")
    for remedy in final.remedies:
        out.append(f"  try: {remedy}")
    for w in report.warnings:
        out.append(f"warning: {w}")
    if report.truncated_last_line:
        out.append("note: the last line of metrics.jsonl is incomplete (run still writing?)")
    return "\n".join(out)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def write_report(workdir: str | Path, report: DoctorReport | None = None) -> Path:
    """Write `WORKDIR/doctor/report.md` and its PNG plots; return the report's path."""
    from jaxgan.diagnostics import plots  # matplotlib only when a report is written

    if report is None:
        report = diagnose(workdir)
    out_dir = Path(workdir) / REPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    images = plots.plot_all(report.records, report.timeline, out_dir)
    final = report.final
    lines = [
        f"# jaxgan doctor: `{report.workdir}`", "",
        f"**Verdict: {final}** (latest log record: step {final.step})", "",
        f"{report.num_records} log records, steps {report.first_step}-{report.last_step}; "
        f"loss `{report.loss_name}`; health window {report.window} records after a warm-up "
        f"of {report.warmup}.", "",
    ]
    lines += [f"> warning: {w}" for w in report.warnings]
    if report.truncated_last_line:
        lines += ["> note: the last line of metrics.jsonl is incomplete (run still writing?)"]
    if not final.healthy:
        lines += ["", "Evidence now:", ""] + [f"- {e}" for e in final.evidence]
    elif final.at_risk:
        lines += ["", f"At risk ({final.at_risk}), not yet a verdict:", ""]
        lines += [f"- {e}" for e in final.at_risk_evidence]
    lines += ["", "## Timeline", "", "| steps | verdict | evidence |", "|---|---|---|"]
    for s in report.timeline:
        ev = "<br>".join(_md_escape(e) for e in s.evidence)
        lines.append(f"| {s.start_step}-{s.end_step} | {s.verdict} | {ev} |")
    share = _verdict_shares(report)
    lines += ["", "Share of log records: " + ", ".join(f"{k} {v:.0%}" for k, v in share.items())]
    if report.failures:
        lines += ["", "## What to try", ""]
        for name in report.failures:
            lines += [f"**{name}**", ""] + [f"- {r}" for r in REMEDIES[name]] + [""]
    lines += ["", "## Plots", "",
              "Coloured bands mark the verdicts (white: healthy)."]
    for img in images:
        lines += ["", f"![{img.stem}]({img.name})"]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _verdict_shares(report: DoctorReport) -> dict[str, float]:
    counts: dict[str, int] = {}
    for v in report.verdicts:
        counts[v.name] = counts.get(v.name, 0) + 1
    return {k: n / max(len(report.verdicts), 1) for k, n in counts.items()}
