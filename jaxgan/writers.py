"""What a run leaves in its workdir: metrics.jsonl, TensorBoard events and sample grids.

Only process 0 writes (the trainer creates writers there only). `metrics.jsonl` is the
source of truth that `jaxgan doctor` and notebooks read; TensorBoard gets the same scalars,
grouped into sections by the tag's first part (`tb_tag`: ``loss/d_loss``,
``d/d_real_acc``, ``g/g_grad_norm``, ``health/diversity_ratio``, ``train/wall_time``,
``eval/fid``; the part after the group is the metrics.jsonl key, so the two stay easy to
match), the resolved config as TensorBoard hparams (and as text), the sample grids (the
toys' scatter plots) as images, and `jaxgan eval`'s records (`tensorboard_record`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from jaxgan.schema import _flatten as flatten_config


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else str(f)  # JSON has no NaN; keep the fact visible
    if isinstance(v, np.integer):
        return int(v)
    return v


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a jsonl file; a partially written last line is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def last_training_record(path: str | Path) -> dict[str, Any]:
    """The newest record of a metrics.jsonl that is not an evaluation ({} if none)."""
    recs = [r for r in read_jsonl(path) if r.get("kind") != "eval"]
    return recs[-1] if recs else {}


# Keys that are not D's ("d_"), G's ("g_") or a loss ("d_loss*", "g_loss*").
_LOSS_TERMS = ("gp", "drift", "info_ce", "info_cont")  # regularizer and InfoGAN terms
_TRAIN = ("steps_per_s", "images_seen", "wall_time", "progan_stage")  # the run's progress


def tb_tag(key: str, kind: str | None = None) -> str:
    """The TensorBoard tag of a metrics.jsonl key: ``GROUP/key``."""
    if kind == "eval":
        group = "eval"
    elif key.startswith(("d_loss", "g_loss")) or key in _LOSS_TERMS:
        group = "loss"
    elif key.startswith("d_") or key == "gp_grad_norm":
        group = "d"
    elif key.startswith("g_"):
        group = "g"
    elif key in _TRAIN:
        group = "train"
    else:  # diversity, duplicates, non-finite flag, modes: the health signals
        group = "health"
    return f"{group}/{key}"


def _add_record(tb: Any, record: dict[str, Any]) -> None:
    step, kind = int(record["step"]), record.get("kind")
    for k, v in record.items():
        if k != "step" and isinstance(v, (int, float, np.number)):
            tb.add_scalar(tb_tag(k, kind), float(v), step)
    if "verdict" in record:
        text = str(record["verdict"])
        if record.get("verdict_evidence"):
            text += f" since step {record.get('verdict_since')}: {record['verdict_evidence']}"
        tb.add_text("health/verdict", text, step)
    if record.get("at_risk"):  # the warning below a verdict, while it lasts
        text = f"at_risk: {record['at_risk']}"
        if record.get("at_risk_evidence"):
            text += f": {record['at_risk_evidence']}"
        tb.add_text("health/at_risk", text, step)


TENSORBOARD_OFF = ("jaxgan: TensorBoard events off: tensorboardX is not installed (pip install "
                   "tensorboardX); metrics.jsonl has every record")
_told = False


def _tensorboard(logdir: Path) -> Any:
    from tensorboardX import SummaryWriter

    return SummaryWriter(str(logdir), flush_secs=10)


def _tensorboard_or_none(logdir: Path) -> Any:
    """The events writer, or None where tensorboardX is missing (an accelerator image may
    lack it): a run needs only metrics.jsonl, so it trains on and says so in one line on
    stderr, once per process."""
    global _told
    try:
        return _tensorboard(logdir)
    except ImportError:
        if not _told:
            print(TENSORBOARD_OFF, file=sys.stderr)
            _told = True
        return None


def tensorboard_record(workdir: str | Path, record: dict[str, Any]) -> None:
    """One record (an eval record of `jaxgan eval`) into the run's TensorBoard events, in
    an event file of its own beside the trainer's (safe while the run trains)."""
    try:
        tb = _tensorboard(Path(workdir) / "tensorboard")
    except ImportError:  # TensorBoard output is optional
        return
    try:
        _add_record(tb, record)
    finally:
        tb.close()


class MetricsWriter:
    """Appends one JSON object per log step; on resume, drops records past the checkpoint."""

    def __init__(self, workdir: str | Path, resume_step: int | None = None,
                 tensorboard: bool = True) -> None:
        self.path = Path(workdir) / "metrics.jsonl"
        if resume_step is not None and self.path.exists():
            # Records after the restored checkpoint describe steps that will be re-run.
            keep = [r for r in read_jsonl(self.path) if int(r.get("step", 0)) <= resume_step]
            tmp = self.path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in keep))
            tmp.replace(self.path)
        self._file = self.path.open("a")
        # the run's wall time so far: the last kept record's (0 for a fresh run)
        self.resumed_wall_time = 0.0
        if resume_step is not None:
            times = [r["wall_time"] for r in read_jsonl(self.path)
                     if isinstance(r.get("wall_time"), (int, float))]
            self.resumed_wall_time = float(times[-1]) if times else 0.0
        self._tb = _tensorboard_or_none(Path(workdir) / "tensorboard") if tensorboard else None

    def write(self, record: dict[str, Any]) -> None:
        rec = {k: _jsonable(v) for k, v in record.items()}
        self._file.write(json.dumps(rec) + "\n")
        self._file.flush()
        if self._tb is not None:
            _add_record(self._tb, record)

    def add_config(self, config: dict[str, Any]) -> None:
        """The resolved config as TensorBoard hparams (the HParams dashboard, one session
        per run directory, with the losses as its metrics) and as text (`config`)."""
        if self._tb is None:
            return
        from tensorboardX.summary import hparams

        flat = {k: ",".join(map(str, v)) if isinstance(v, list) else v
                for k, v in flatten_config(config).items()}
        experiment, session_start, _ = hparams(flat, {"loss/d_loss": 0.0, "loss/g_loss": 0.0})
        writer = self._tb._get_file_writer()
        writer.add_summary(experiment)
        writer.add_summary(session_start)
        text = json.dumps(config, indent=2, sort_keys=True)
        self._tb.add_text("config", "    " + text.replace("\n", "\n    "), 0)

    def add_image(self, tag: str, grid: np.ndarray, step: int) -> None:
        if self._tb is not None:
            self._tb.add_image(tag, grid, step, dataformats="HWC")

    def flush(self) -> None:
        self._file.flush()
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()



def make_grid(images: np.ndarray, ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """(N, H, W, C) images in [-1, 1] -> one uint8 (H', W', C) grid with padding."""
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    ncols = ncols or int(math.ceil(math.sqrt(n)))
    nrows = int(math.ceil(n / ncols))
    grid = np.zeros((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), np.uint8)
    pixels = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y:y + h, x:x + w] = pixels[i]
    return grid


def save_png(grid: np.ndarray, path: str | Path, min_size: int = 512) -> None:
    """Write a uint8 grid as PNG, upscaled (nearest) so small images are visible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    scale = max(1, -(-min_size // max(grid.shape[0], 1)))  # ceil: small grids get bigger
    if scale > 1:
        img = img.resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    tmp = path.with_name(path.name + ".tmp")
    img.save(tmp, format="PNG")
    tmp.replace(path)


def scatter_png(points: np.ndarray, path: str | Path, centers: np.ndarray | None = None,
                lim: float = 5.0) -> np.ndarray:
    """A scatter plot of 2-D samples (toy datasets) as a PNG; returns the RGB array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5)
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], s=30, c="red", marker="x")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    save_png(rgb, path, min_size=0)
    return rgb
