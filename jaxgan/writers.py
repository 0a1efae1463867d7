"""What a run leaves in its workdir: metrics.jsonl, TensorBoard events and sample grids.

Only process 0 writes (the trainer creates writers there only). `metrics.jsonl` is the
source of truth that `jaxgan doctor` and notebooks read; TensorBoard gets the same scalars.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


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
        self._tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(str(Path(workdir) / "tensorboard"), flush_secs=10)

    def write(self, record: dict[str, Any]) -> None:
        rec = {k: _jsonable(v) for k, v in record.items()}
        self._file.write(json.dumps(rec) + "\n")
        self._file.flush()
        if self._tb is not None:
            step = int(record["step"])
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float, np.number)):
                    self._tb.add_scalar(k, float(v), step)
                elif k == "verdict":
                    self._tb.add_text("verdict", str(v), step)

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
