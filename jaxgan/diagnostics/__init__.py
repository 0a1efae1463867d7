"""Training health: on-device signals, failure-mode detectors and the `jaxgan doctor` report.

The step computes the signals (`signals`), the trainer feeds each log record to a
`HealthMonitor` (`monitor`, rules in `detectors`), and `diagnose`/`write_report` (`doctor`)
replay a run's `metrics.jsonl` after the fact.
"""

from jaxgan.diagnostics import detectors as _detectors
from jaxgan.diagnostics.detectors import (
    DETECTORS,
    Finding,
    LossProfile,
    detect_convergence_failure,
    detect_diverged,
    detect_mode_collapse,
    detect_oscillation,
    detect_vanishing_gradient,
    profile_for,
)
from jaxgan.diagnostics.doctor import (
    DiagnosticsError,
    DoctorReport,
    Segment,
    diagnose,
    format_timeline,
    write_report,
)
from jaxgan.diagnostics.monitor import REMEDIES, VERDICTS, HealthMonitor, Verdict
from jaxgan.diagnostics.risks import RISK_NAMES, assess_risk
from jaxgan.diagnostics.signals import (
    batch_diversity,
    disc_stats,
    global_norm,
    nonfinite,
    per_layer_norms,
    update_ratio,
)

# The monitor lives in `monitor.py` (detectors.py holds the rules, and the monitor imports
# them); the older path `jaxgan.diagnostics.detectors.HealthMonitor` is kept working from
# here, where both are loaded, instead of by an import back from detectors to monitor.
_detectors.HealthMonitor, _detectors.Verdict = HealthMonitor, Verdict

__all__ = [
    "DiagnosticsError", "DoctorReport", "Segment", "diagnose",
    "format_timeline", "write_report",
    "DETECTORS", "REMEDIES", "RISK_NAMES", "VERDICTS", "Finding", "HealthMonitor",
    "LossProfile", "Verdict", "assess_risk",
    "batch_diversity", "detect_convergence_failure", "detect_diverged", "detect_mode_collapse",
    "detect_oscillation", "detect_vanishing_gradient", "disc_stats", "global_norm",
    "nonfinite", "per_layer_norms", "profile_for", "update_ratio",
]
