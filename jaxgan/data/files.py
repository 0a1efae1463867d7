"""Image sources from local files: a folder of images, or one .npz of uint8 arrays.

These are the escape hatches for data tfds cannot fetch (no network, a private dataset):
both need nothing but numpy and PIL, and every way the input can be wrong is reported as a
`DataError` naming the file and what was expected, before any compilation starts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, resize_image, to_resolution

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def list_images(folder: str | Path) -> list[Path]:
    """All image files under `folder` (recursive), sorted, so the order is reproducible."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"data.path={str(folder)!r} does not exist (expected a folder of "
                        f"{'/'.join(s[1:] for s in IMAGE_SUFFIXES)} images)")
    if not root.is_dir():
        raise DataError(f"data.path={str(folder)!r} is not a folder (data.source=folder "
                        f"expects a folder of images; use data.source=npz for an .npz)")
    files = sorted(p for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"data.path={str(folder)!r} contains no images (looked recursively "
                        f"for {', '.join(IMAGE_SUFFIXES)})")
    return files


def load_image(path: Path, resolution: int, channels: int) -> np.ndarray:
    """One file -> uint8 (R, R, channels); unreadable files raise DataError naming them."""
    try:
        with Image.open(path) as im:
            im.load()
            mode = "L" if channels == 1 else "RGB"
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grayscale: rescale
                arr = np.asarray(im, dtype=np.float64)
                top = 65535.0 if arr.max() > 255 else 255.0
                im = Image.fromarray(np.rint(arr * 255.0 / top).astype(np.uint8), "L")
            arr = np.asarray(im.convert(mode))
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
        raise DataError(f"cannot read image {str(path)!r}: {type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else 'unreadable'}") from None
    if arr.ndim == 2:
        arr = arr[..., None]
    return resize_image(arr, resolution)


def folder_source(path: str, resolution: int, channels: int, seed: int) -> ImageSource:
    """Every image under `path`, center-cropped to a square and resized; unlabelled."""
    files = list_images(path)
    images = np.stack([load_image(f, resolution, channels) for f in files])
    return ImageSource(images, None, 0, seed=seed, name=f"folder:{path}")


def _npz_error(path: str, what: str) -> DataError:
    return DataError(f"data.path={path!r}: {what} (expected an .npz with uint8 'images' of "
                     f"shape N x H x W x C with C 1 or 3, or N x H x W, and optional int "
                     f"'labels' of shape N)")


def load_npz_arrays(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The validated (images, labels or None) of an .npz file, images as N x H x W x C."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise _npz_error(path, "file does not exist" if not p.exists() else "is not a file")
    try:
        loaded = np.load(p, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _npz_error(path, "holds a single array, not an .npz archive (save it with "
                                   "np.savez(path, images=...))")
        with loaded as z:
            keys = list(z.files)
            if "images" not in keys:
                raise _npz_error(path, f"has no 'images' array (found keys: "
                                       f"{', '.join(keys) or 'none'})")
            images = z["images"]
            labels = z["labels"] if "labels" in keys else None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise _npz_error(path, f"cannot be read as .npz ({type(e).__name__}: "
                               f"{str(e).splitlines()[0] if str(e) else 'unreadable'})") from None
    if images.dtype != np.uint8:
        raise _npz_error(path, f"'images' has dtype {images.dtype}, not uint8 (scale to "
                               "0..255 and cast with .astype(np.uint8))")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise _npz_error(path, f"'images' has shape {images.shape}")
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise _npz_error(path, f"'images' is empty (shape {images.shape})")
    if labels is not None:
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise _npz_error(path, f"'labels' has shape {labels.shape} but 'images' has "
                                   f"{images.shape[0]} images")
        if not np.issubdtype(labels.dtype, np.integer):
            raise _npz_error(path, f"'labels' has dtype {labels.dtype}, not an integer type")
        if labels.min() < 0:
            raise _npz_error(path, f"'labels' has a negative value {int(labels.min())}")
    return images, labels


def npz_source(path: str, resolution: int, channels: int, seed: int) -> ImageSource:
    """An .npz of uint8 images (and optional integer labels, classes = max label + 1)."""
    images, labels = load_npz_arrays(path)
    images = to_resolution(images, resolution, channels)
    num_classes = int(labels.max()) + 1 if labels is not None else 0
    return ImageSource(images, labels, num_classes, seed=seed, name=f"npz:{path}")


__all__ = ["folder_source", "npz_source", "list_images", "load_image", "load_npz_arrays"]
