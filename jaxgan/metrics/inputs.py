"""What the metrics read: folders of images, images .npz and statistics .npz, validated.

Every reader raises `MetricsError` with one line naming the file and what would be right;
`check_source` does so from the .npz headers alone, before any weights are looked for.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jaxgan.metrics.errors import MetricsError
from jaxgan.metrics.preprocess import list_images, read_image
from jaxgan.metrics.stats import Statistics

__all__ = ["iter_folder", "load_images_npz", "load_statistics", "check_source", "iter_source"]


def iter_folder(folder: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decode a folder's images one at a time (nothing is held beyond one image)."""
    for path in list_images(folder):
        yield read_image(path)


def load_images_npz(path: str | os.PathLike) -> np.ndarray:
    """The uint8 NHWC (or NHW) ``images`` array of an .npz, validated."""
    with np.load(path) as z:
        if "images" not in z.files:
            raise MetricsError(
                f"{path}: .npz has keys {sorted(z.files)}; expected 'images' (uint8 NHWC) "
                "or 'mu' and 'sigma' (statistics)"
            )
        images = z["images"]
    if images.dtype != np.uint8:
        raise MetricsError(f"{path}: 'images' has dtype {images.dtype}; expected uint8 in [0, 255]")
    if images.ndim not in (3, 4) or len(images) == 0:
        raise MetricsError(
            f"{path}: 'images' has shape {images.shape}; expected a non-empty N x H x W x C"
        )
    return images if images.ndim == 4 else images[..., None]


def load_statistics(path: str | os.PathLike) -> Statistics:
    """A statistics .npz with ``mu`` (d,) and ``sigma`` (d, d), as pytorch-fid writes."""
    with np.load(path) as z:
        if not {"mu", "sigma"} <= set(z.files):
            raise MetricsError(
                f"{path}: .npz has keys {sorted(z.files)}; expected 'mu' and 'sigma'"
            )
        mu, sigma = np.float64(z["mu"]), np.float64(z["sigma"])
        n = int(z["n"]) if "n" in z.files else 0
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise MetricsError(
            f"{path}: mu {mu.shape} and sigma {sigma.shape}; expected (d,) and (d, d)"
        )
    return Statistics(mu, sigma, n)


def _npz_keys(path: Path) -> set[str]:
    try:
        with np.load(path) as z:
            return set(z.files)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise MetricsError(f"{path}: not a readable .npz ({e})") from None


def _is_stats_npz(path: Path) -> bool:
    return {"mu", "sigma"} <= _npz_keys(path)


def _npz_header(path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array of an .npz from its header, without reading the data."""
    try:
        with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(f)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise MetricsError(f"{path}: not a readable .npz ({e})") from None
    return shape, dtype


def check_source(spec: str | os.PathLike) -> None:
    """Raise the one-line error a source would raise, now and cheaply (headers only).

    Why: ``jaxgan fid`` must report a missing folder or a wrong .npz as such, before it
    looks for (or downloads) the Inception weights and before the first side is computed.
    """
    path = Path(spec)
    if path.is_dir():
        list_images(path)
        return
    if not (path.suffix == ".npz" and path.is_file()):
        raise MetricsError(
            f"{path}: not found or not supported; expected a folder of images or an .npz"
        )
    keys = _npz_keys(path)
    if {"mu", "sigma"} <= keys:
        return
    if "images" not in keys:
        raise MetricsError(
            f"{path}: .npz has keys {sorted(keys)}; expected 'images' (uint8 NHWC) "
            "or 'mu' and 'sigma' (statistics)"
        )
    shape, dtype = _npz_header(path, "images")
    if dtype != np.uint8:
        raise MetricsError(f"{path}: 'images' has dtype {dtype}; expected uint8 in [0, 255]")
    if len(shape) not in (3, 4) or shape[0] == 0:
        raise MetricsError(
            f"{path}: 'images' has shape {shape}; expected a non-empty N x H x W x C"
        )


def iter_source(spec: str | os.PathLike, batch: int = 256) -> Iterator[np.ndarray]:
    """Images of a folder or an images .npz, as a stream of HWC images / NHWC batches."""
    path = Path(spec)
    if path.is_dir():
        return iter_folder(path)
    if path.suffix == ".npz" and path.is_file():
        images = load_images_npz(path)
        return (images[i : i + batch] for i in range(0, len(images), batch))
    raise MetricsError(
        f"{path}: not found or not supported; expected a folder of images or an .npz"
    )
