"""The doctor's PNG plots: the signals over training, with the verdicts as coloured bands.

Drawn with matplotlib's object API on an Agg canvas, never pyplot, so writing a report
neither needs a display nor changes the backend of the notebook that called it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from jaxgan.diagnostics import detectors as det

VERDICT_COLORS = det.VERDICT_COLORS  # the detector registry's (`register_detector`)

# (file stem, title, y label, [(key, style)], log scale)
PANELS: tuple[tuple[str, str, str, list[tuple[str, str]], bool], ...] = (
    ("losses", "Losses", "loss",
     [("d_loss", "-"), ("g_loss", "-"), ("d_loss_real", ":"), ("d_loss_fake", ":")], False),
    ("accuracy", "Discriminator accuracy and mean D output", "share / probability",
     [("d_real_acc", "-"), ("d_fake_acc", "-"), ("d_real_prob", "--"), ("d_fake_prob", "--")],
     False),
    ("grad_norms", "Gradient norms", "global L2 norm",
     [("g_grad_norm", "-"), ("d_grad_norm", "-")], True),
    ("diversity", "Generated diversity relative to real", "ratio / share",
     [("diversity_ratio", "-"), ("dup_frac", "-"), ("real_dup_frac", ":"),
      ("modes_share", "-"), ("pixel_spread", "--"), ("ema_pixel_spread", ":")], False),
)


def _series(records: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in records:
        if key == "modes_share":
            captured, modes = det.value(r, "modes_captured"), det.value(r, "num_modes")
            v = captured / modes if captured is not None and modes else None
        else:
            v = det.value(r, key)
        if v is not None:
            xs.append(int(r["step"]))
            ys.append(v if math.isfinite(v) else math.nan)  # NaN/Inf: a gap in the line
    return xs, ys


def _bands(ax: Any, timeline: Sequence[Any], last_step: int) -> list[str]:
    """Shade each non-healthy run from its first step to the next run's first step."""
    shown = []
    for i, seg in enumerate(timeline):
        if seg.verdict == "healthy":
            continue
        end = timeline[i + 1].start_step if i + 1 < len(timeline) else last_step
        if end <= seg.start_step:
            end = seg.start_step + max(1, last_step // 200)
        ax.axvspan(seg.start_step, end, color=VERDICT_COLORS.get(seg.verdict, "#7f7f7f"),
                   alpha=0.18, linewidth=0)
        if seg.verdict not in shown:
            shown.append(seg.verdict)
    return shown


def plot_panel(records: Sequence[dict[str, Any]], timeline: Sequence[Any], path: Path,
               title: str, ylabel: str, keys: Sequence[tuple[str, str]],
               log: bool = False, extra_keys: Sequence[str] = (),
               hline: tuple[float, str] | None = None) -> bool:
    """One PNG; False (and no file) when the records hold none of the keys."""
    fig = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for key, style in keys:
        xs, ys = _series(records, key)
        if xs:
            ax.plot(xs, ys, style, label=key, linewidth=1.4)
            drawn = True
    for key in extra_keys:  # per-layer norms: thin, unlabelled context lines
        xs, ys = _series(records, key)
        if xs:
            ax.plot(xs, ys, "-", linewidth=0.6, alpha=0.35, color="#555555")
    if not drawn:
        return False
    if hline is not None:
        ax.axhline(hline[0], color="#888888", linestyle="--", linewidth=0.8, label=hline[1])
    if log and all(y > 0 or math.isnan(y) for k, _ in keys for y in _series(records, k)[1]):
        ax.set_yscale("log")
    shown = _bands(ax, timeline, int(records[-1]["step"]))
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color=VERDICT_COLORS.get(v, "#7f7f7f"), alpha=0.3) for v in shown]
    labels += shown
    ax.legend(handles, labels, fontsize=7, loc="best", ncol=2)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return True


def plot_all(records: Sequence[dict[str, Any]], timeline: Sequence[Any],
             out_dir: Path) -> list[Path]:
    """The four standard panels that have data; returns the files written."""
    layer_keys = sorted({k for r in records for k in r
                         if k.startswith(("g_grad_norm/", "d_grad_norm/"))})
    written = []
    for stem, title, ylabel, keys, log in PANELS:
        path = out_dir / f"{stem}.png"
        extra = layer_keys if stem == "grad_norms" else ()
        hline = ((det.DIVERSITY_RATIO_MIN, "collapse threshold") if stem == "diversity"
                 else None)
        if plot_panel(records, timeline, path, title, ylabel, keys, log, extra, hline):
            written.append(path)
        elif path.exists():
            path.unlink()  # a stale plot from an earlier report would contradict this one
    return written
