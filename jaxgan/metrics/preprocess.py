"""Image preprocessing identical to pytorch-fid's, and image-file reading.

Why exact: FID moves measurably with the resize filter. pytorch-fid reads files with PIL
``convert('RGB')`` (grayscale repeated, alpha dropped, palettes expanded), scales uint8 to
[0, 1], resizes with ``F.interpolate(mode='bilinear', align_corners=False)`` to 299x299
(no antialiasing, also when shrinking) and maps to [-1, 1] with ``2x - 1``. Here the resize
is two small matrices built from torch's formula (half-pixel centres, source coordinates
clamped at 0, the upper neighbour clamped at the edge) applied as einsums inside the jitted
forward, so each image size compiles once and the resize costs next to nothing.
It equals ``jax.image.resize(..., 'bilinear', antialias=False)`` (checked in the tests).
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
from PIL import Image, UnidentifiedImageError

from jaxgan.metrics.errors import MetricsError

INCEPTION_SIZE = 299
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp")


def resize_matrix(in_size: int, out_size: int = INCEPTION_SIZE) -> np.ndarray:
    """(out, in) float32 weights of torch's bilinear ``align_corners=False`` 1-D resize."""
    scale = in_size / out_size
    src = np.maximum((np.arange(out_size, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    w1 = src - i0
    m = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    np.add.at(m, (rows, i0), 1.0 - w1)
    np.add.at(m, (rows, i1), w1)
    return m.astype(np.float32)


def to_rgb(images: np.ndarray) -> np.ndarray:
    """NHW, NHW1, NHW3 or NHW4 uint8 -> NHW3 uint8 (gray repeated, alpha dropped)."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise MetricsError(
            f"images have shape {x.shape}; expected N x H x W x C with C in 1, 3 or 4"
        )
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x[..., :3]


def to_inception_input(x_uint8: jnp.ndarray, size: int = INCEPTION_SIZE) -> jnp.ndarray:
    """NHWC uint8 -> NHWC float32 in [-1, 1] at ``size`` x ``size`` (traceable)."""
    x = x_uint8.astype(jnp.float32) / 255.0
    h, w = x.shape[1], x.shape[2]
    if (h, w) != (size, size):
        rh = jnp.asarray(resize_matrix(h, size))
        rw = jnp.asarray(resize_matrix(w, size))
        x = jnp.einsum("oh,nhwc->nowc", rh, x)
        x = jnp.einsum("pw,nowc->nopc", rw, x)
    return 2.0 * x - 1.0


def to_inception_input_np(image_uint8: np.ndarray, size: int = INCEPTION_SIZE) -> np.ndarray:
    """Host-side twin of :func:`to_inception_input` for one HWC image (odd-sized inputs)."""
    x = image_uint8.astype(np.float32) / np.float32(255.0)
    h, w = x.shape[:2]
    x = np.einsum("oh,hwc->owc", resize_matrix(h, size), x)
    x = np.einsum("pw,owc->opc", resize_matrix(w, size), x)
    return 2.0 * x - 1.0


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder`` (sorted), or a MetricsError naming the problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MetricsError(f"{folder}: not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise MetricsError(
            f"{folder}: no images found; expected files ending in {', '.join(IMAGE_EXTENSIONS)}"
        )
    return files


def read_image(path: str | Path) -> np.ndarray:
    """One file -> HxWx3 uint8, decoded like pytorch-fid (PIL ``convert('RGB')``)."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise MetricsError(f"{path}: not a readable image ({e})") from None
