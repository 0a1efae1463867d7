"""`jaxgan doctor WORKDIR`: a run's health from its logs (`jaxgan.diagnostics.diagnose`),
the verdict timeline printed and the report written."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from jaxgan.diagnostics.doctor import (
    DiagnosticsError,
    diagnose,
    format_timeline,
    write_report,
)


def add_doctor_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `jaxgan doctor WORKDIR [--json] [--no-report] [--window N]`."""
    p = subparsers.add_parser(
        "doctor", help="diagnose a run's training health from its logs",
        description="Replay WORKDIR/metrics.jsonl (also of a run still going) through the "
                    "failure-mode detectors, print the verdict timeline and write "
                    "WORKDIR/doctor/report.md with plots.")
    p.add_argument("workdir", help="the run directory (WORKDIR of `jaxgan train`)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--no-report", action="store_true", help="do not write doctor/report.md")
    p.add_argument("--window", type=int, default=None,
                   help="detector window in log records (default: health.window of the run)")
    p.set_defaults(func=run_doctor)
    return p


def run_doctor(args: argparse.Namespace) -> int:
    """The `doctor` verb: 0 on success (whatever the verdict), 2 with one line on error."""
    try:
        report = diagnose(args.workdir, window=getattr(args, "window", None))
        path = None
        if not getattr(args, "no_report", False):
            try:
                path = write_report(args.workdir, report)
            except OSError as e:
                raise DiagnosticsError(f"cannot write the report under {args.workdir}: "
                                       f"{e.strerror or e}") from None
    except DiagnosticsError as e:
        print(f"jaxgan: {e}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        d = report.to_dict()
        d["report"] = str(path) if path else None
        print(json.dumps(d, indent=2))
    else:
        print(format_timeline(report))
        if path is not None:
            print(f"report: {path}")
    return 0
