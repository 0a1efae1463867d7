"""`ImageSource`: a whole image dataset in host memory, served as deterministic batches.

GAN datasets used for research (digits, MNIST, CIFAR-10, CelebA at 64x64) fit in host RAM
as uint8, so the data path is a gather from one array rather than a streaming pipeline.
That buys what a training library needs most: batch `step` is a pure function of
`(seed, step)`, so a resumed run sees bit-exactly the batches it would have seen, and one
process or N processes see the same global batch (each takes a contiguous slice).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from jaxgan.data.errors import DataError
from jaxgan.data.order import SampleOrder

# ITU-R BT.601 luma, the weights PIL's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 (N, H, W, C) -> (N, H, W, channels): RGB->L by luma, L->RGB by repetition.

    An alpha channel (C=4) is dropped and a 2-channel (L+alpha) image keeps its L.
    """
    c = images.shape[-1]
    if c == 4:
        images, c = images[..., :3], 3
    elif c == 2:
        images, c = images[..., :1], 1
    if c == channels:
        return images
    if c == 3 and channels == 1:
        luma = images.astype(np.float32) @ _LUMA
        return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
    if c == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    raise DataError(f"cannot convert images with {c} channels to {channels} channels "
                    "(expected 1 or 3)")


def center_crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """The largest centered square as a PIL box (left, upper, right, lower)."""
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return left, top, left + side, top + side


def resize_image(image: np.ndarray, resolution: int) -> np.ndarray:
    """One uint8 (H, W, C) image -> (R, R, C): centered square crop, then antialiased bilinear.

    PIL's bilinear filter widens its support when shrinking, i.e. it antialiases, which is
    what FID-style pipelines expect; cropping keeps faces and objects undistorted.
    """
    h, w, c = image.shape
    if h == w == resolution:
        return image
    pil = Image.fromarray(image[..., 0] if c == 1 else image)
    if h != w:
        pil = pil.crop(center_crop_box(h, w))
    out = np.asarray(pil.resize((resolution, resolution), Image.BILINEAR))
    return out.reshape(resolution, resolution, c)


def _resize_all(images: np.ndarray, resolution: int) -> np.ndarray:
    """`resize_image` over a batch; threads help because PIL releases the GIL to resample."""
    out = np.empty((len(images), resolution, resolution, images.shape[-1]), np.uint8)

    def work(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            out[i] = resize_image(images[i], resolution)

    workers = min(8, os.cpu_count() or 1)
    if workers == 1 or len(images) < 512:
        work(0, len(images))
        return out
    bounds = np.linspace(0, len(images), workers * 4 + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, bounds[:-1], bounds[1:]))
    return out


def to_resolution(images: np.ndarray, resolution: int, channels: int) -> np.ndarray:
    """uint8 (N, H, W, C) -> uint8 (N, R, R, channels), done once at load time.

    Channels are converted first when that shrinks the data (RGB->L), last otherwise.
    """
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(f"images must be uint8 (N, H, W, C), got {images.dtype} "
                        f"{images.shape}")
    if images.shape[-1] in (2, 4):  # drop alpha before anything else
        images = convert_channels(images, images.shape[-1] - 1)
    if images.shape[-1] > channels:
        images = convert_channels(images, channels)
    if images.shape[1:3] != (resolution, resolution):
        images = _resize_all(images, resolution)
    return np.ascontiguousarray(convert_channels(images, channels))


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [-1, 1] as ``x * float32(1 / 127.5) - 1``, in two rounded steps
    (the device-side conversion of streamed batches looks these values up, so both agree
    to the bit: `jaxgan.run.float_images`)."""
    image = images.astype(np.float32)
    image *= np.float32(1 / 127.5)
    image -= np.float32(1.0)
    return image


class ImageSource:
    """A labelled or unlabelled uint8 image set with deterministic, process-sliced batches.

    The sample order is `SampleOrder`'s: a sequence of per-epoch permutations, epoch `e`
    shuffled by `np.random.default_rng([seed, e])`; global batch `step` takes positions
    `[step * B, (step + 1) * B)` of that endless sequence (it may straddle two epochs),
    and process `i` of `P` takes its contiguous `B // P` slice.
    """

    is_toy = False

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None,
                 num_classes: int = 0, seed: int = 0, name: str = "") -> None:
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != images.shape[2]:
            raise DataError(f"{name or 'images'}: expected uint8 (N, R, R, C) images, got "
                            f"{images.dtype} {images.shape}")
        if len(images) == 0:
            raise DataError(f"{name or 'the dataset'} has no images")
        if labels is not None:
            labels = np.asarray(labels).astype(np.int32).reshape(-1)
            if labels.shape[0] != images.shape[0]:
                raise DataError(f"{name or 'the dataset'}: {labels.shape[0]} labels for "
                                f"{images.shape[0]} images")
        self.images = images
        self.labels = labels
        if labels is not None and num_classes <= 0:  # infer: classes are 0..max
            num_classes = int(labels.max()) + 1
        if labels is not None and (labels.min() < 0 or labels.max() >= num_classes):
            raise DataError(f"{name or 'the dataset'}: labels must be in [0, {num_classes}), "
                            f"got [{labels.min()}, {labels.max()}]")
        self.num_classes = int(num_classes) if labels is not None else 0
        self.seed = int(seed)
        self.name = name
        self.order = SampleOrder(len(images), self.seed)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def resolution(self) -> int:
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[3])

    def permutation(self, epoch: int) -> np.ndarray:
        """The sample order of `epoch` (`SampleOrder.permutation`)."""
        return self.order.permutation(epoch)

    def indices(self, step: int, global_batch: int, process_index: int = 0,
                process_count: int = 1) -> np.ndarray:
        """Dataset indices of this process's slice of global batch `step`."""
        return self.order.indices(step, global_batch, process_index, process_count)

    def batch(self, step: int, global_batch: int, process_index: int = 0,
              process_count: int = 1) -> dict[str, np.ndarray]:
        """This process's slice of global batch `step`: images in [-1, 1], int32 labels.

        A pure function of (seed, step): restarting at step k is just `batch(k)`.
        """
        idx = self.indices(step, global_batch, process_index, process_count)
        image = to_unit_range(np.take(self.images, idx, axis=0))
        if self.labels is None:
            label = np.zeros(len(idx), np.int32)
        else:
            label = np.take(self.labels, idx)
        return {"image": image, "label": label}

    def __repr__(self) -> str:
        return (f"ImageSource({self.name or 'images'}: {len(self)} x {self.resolution}x"
                f"{self.resolution}x{self.channels}, num_classes={self.num_classes})")


__all__ = ["ImageSource", "to_unit_range", "to_resolution", "convert_channels", "resize_image"]
