"""Image preprocessing identical to pytorch-fid's, and image-file reading.

Why exact: FID moves measurably with the resize filter. pytorch-fid reads files with PIL
``convert('RGB')`` (grayscale repeated, alpha dropped, palettes expanded), scales uint8 to
[0, 1], resizes with ``F.interpolate(mode='bilinear', align_corners=False)`` to 299x299
(no antialiasing, also when shrinking) and maps to [-1, 1] with ``2x - 1``. The resize
here is ``jax.image.resize(..., 'bilinear', antialias=False)``: half-pixel centres, edge
samples clamped, source coordinates in float32 like torch's, so it agrees with
``F.interpolate`` to ~4e-7 (a float64 resize matrix is *less* faithful: at a few hundred
pixels torch's own float32 coordinates move the weights by ~1e-5). It runs inside the jitted
forward pass, so each input size compiles once and the resize costs next to nothing.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, UnidentifiedImageError

from jaxgan.metrics.errors import MetricsError

INCEPTION_SIZE = 299
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp")


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
    n, h, w, c = x.shape
    if (h, w) != (size, size):
        x = jax.image.resize(x, (n, size, size, c), "bilinear", antialias=False)
    return 2.0 * x - 1.0


def to_inception_input_np(image_uint8: np.ndarray, size: int = INCEPTION_SIZE) -> np.ndarray:
    """One HWC image resized now (for rare sizes), with the same numbers as the jitted path."""
    return np.asarray(_resize_one(jnp.asarray(image_uint8[None]), size)[0])


_resize_one = jax.jit(to_inception_input, static_argnums=1)


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
