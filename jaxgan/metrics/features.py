"""Streaming, jit-compiled, device-sharded Inception feature extraction.

Why this shape: 50,000 images must never sit in memory at once, the compiled network must be
reused (one compile per input size), and every device must get work. Images arrive as any
iterable of uint8 arrays (single HWC images or NHWC batches); they are regrouped into fixed
size batches per image size (the last batch padded and the padding dropped), each batch is
cut into chunks of one compiled shape, placed with a ``NamedSharding`` over a 1-D ``data``
mesh of this process's devices, and the next batch is dispatched before the previous result
is copied back, so host decoding overlaps device compute. Items of the iterable with 4
dimensions are NHWC batches (grayscale as NHW1); items with 2 or 3 dimensions are one HW
or HWC image. Results come back per batch as float32 numpy arrays, in arrival order within
one image size; images of a rare size (past ``max_sizes`` distinct sizes) are resized on
the host and share one 299x299 batch stream, so a folder of many sizes still compiles few
times. An extractor uses only its own process's devices; several processes split the
images among themselves with :mod:`jaxgan.metrics.distributed`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import IO

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan.metrics.errors import MetricsError
from jaxgan.metrics.inception import FEATURE_DIM, NUM_LOGITS, FIDInceptionV3
from jaxgan.metrics.preprocess import to_inception_input, to_inception_input_np, to_rgb
from jaxgan.metrics.weights import load_params

_HOST_RESIZED = "host-resized"

# Images per device per compiled call on CPU. Why: on the 2-core development machine the
# network's CPU time per image was the same for 4, 8 and 16 images per call and 17 % higher
# at 32 (activations of the 147x147 stem layers outgrow the caches), so larger host batches
# are cut into chunks of 16; the last, partial batch also skips its empty chunks.
CPU_CHUNK = 16


@jax.jit
def _forward(params, x):
    """Always both outputs: the logits cost one small matmul, a second compile costs more."""
    if x.dtype == jnp.uint8:
        x = to_inception_input(x)
    return FIDInceptionV3().apply({"params": params}, x)


class InceptionFeatures:
    """Callable pool3 / logits extractor over a stream of uint8 images.

    ``weights`` is a path (see :func:`jaxgan.metrics.weights.find_weights`); ``params`` lets
    callers pass already-loaded Flax params instead. ``batch_size`` images are buffered on
    the host per dispatch; each compiled call takes ``chunk`` images per device (default:
    :data:`CPU_CHUNK` on CPU, the whole batch elsewhere), and ``batch_size`` is rounded up
    to a multiple of ``chunk`` times the device count so that every call has one shape.
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        batch_size: int = 50,
        params: dict | None = None,
        devices: list | None = None,
        max_sizes: int = 4,
        chunk: int | None = None,
    ):
        self.devices = list(devices or jax.local_devices())  # see metrics.distributed
        n = len(self.devices)
        per_device = max(1, -(-batch_size // n))
        if chunk is None:
            chunk = CPU_CHUNK if self.devices[0].platform == "cpu" else per_device
        chunk = max(1, min(chunk, per_device))
        self.chunk = chunk * n  # images per compiled call, over all devices
        self.batch_size = -(-per_device // chunk) * self.chunk
        self.max_sizes = max_sizes
        mesh = Mesh(np.array(self.devices), ("data",))
        self._data_sharding = NamedSharding(mesh, PartitionSpec("data"))
        params = params if params is not None else load_params(weights)
        self.params = jax.device_put(params, NamedSharding(mesh, PartitionSpec()))

    def _run(self, batch: np.ndarray, count: int) -> list:
        """Dispatch (asynchronously) the chunks holding the first ``count`` images."""
        c = self.chunk
        return [
            _forward(self.params, jax.device_put(batch[i : i + c], self._data_sharding))
            for i in range(0, count, c)
        ]

    def batches(
        self, images: Iterable[np.ndarray], with_logits: bool = True, progress=None
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Yield ``(pool3 (b, 2048), logits (b, 1008) or None)`` per processed batch;
        ``progress`` (a tqdm-like bar, see :func:`progress_bar`) advances by ``b``."""
        bs = self.batch_size
        buffers: dict = {}  # key -> (array of bs images, count)
        compiled_sizes: set = set()
        in_flight = None

        def collect(result):
            outs, count = result
            pool3 = np.concatenate([np.asarray(p) for p, _ in outs])[:count]
            if progress is not None:
                progress.update(count)
            if not with_logits:
                return pool3, None
            return pool3, np.concatenate([np.asarray(lg) for _, lg in outs])[:count]

        def submit(key):
            nonlocal in_flight
            buf, count = buffers.pop(key)
            result = (self._run(buf, count), count)  # dispatch is asynchronous
            previous, in_flight = in_flight, result
            return collect(previous) if previous is not None else None

        for item in images:
            arr = np.asarray(item)
            if arr.dtype != np.uint8:
                raise MetricsError(f"images have dtype {arr.dtype}; expected uint8 in [0, 255]")
            batch = to_rgb(arr[None] if arr.ndim in (2, 3) else arr)
            for img in batch:
                key = img.shape
                if key not in compiled_sizes:
                    if len(compiled_sizes) < self.max_sizes:
                        compiled_sizes.add(key)
                    else:
                        key, img = _HOST_RESIZED, to_inception_input_np(img)
                if key not in buffers:
                    shape = (bs, *img.shape)
                    buffers[key] = (np.zeros(shape, dtype=img.dtype), 0)
                buf, count = buffers[key]
                buf[count] = img
                buffers[key] = (buf, count + 1)
                if count + 1 == bs:
                    done = submit(key)
                    if done is not None:
                        yield done
        for key in list(buffers):
            if buffers[key][1]:
                done = submit(key)
                if done is not None:
                    yield done
        if in_flight is not None:
            yield collect(in_flight)

    def __call__(
        self, images: Iterable[np.ndarray], with_logits: bool = True, progress=None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """All features at once (for small sets; use :meth:`batches` to stream)."""
        pools, logits = [], []
        for p, lg in self.batches(images, with_logits=with_logits, progress=progress):
            pools.append(p)
            logits.append(lg)
        if not pools:
            return np.zeros((0, FEATURE_DIM), np.float32), (
                np.zeros((0, NUM_LOGITS), np.float32) if with_logits else None
            )
        return np.concatenate(pools), (np.concatenate(logits) if with_logits else None)


def progress_bar(total: int | None, desc: str, enabled: bool = True, file: IO | None = None):
    """A tqdm bar counting images, or None when it would only be noise.

    Why these conditions: a bar belongs to an interactive terminal (not to logs, pipes or
    ``--json`` output), to one process (on a pod every host extracts at once), and can be
    switched off (``train.progress=false``, ``jaxgan eval --no-progress``). It is left
    behind on neither stream: ``leave=False`` erases it when the extraction is done.
    """
    file = file if file is not None else sys.stderr
    if not enabled or jax.process_index() != 0 or not getattr(file, "isatty", bool)():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # optional: only the display is lost
        return None
    return tqdm(total=total, desc=desc, unit="img", leave=False, file=file, dynamic_ncols=True)
