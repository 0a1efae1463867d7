"""Feature extraction shared among the processes of a multi-host run.

Why: every process of a pod run takes part in an evaluation (the trainer's ``eval.every``
is reached by all of them together), and Inception is by far its slowest part. So each
process extracts the features of only its share of the images, on its own devices, with
no cross-host traffic per batch, and the results are combined once at the end:

* FID statistics: each process's exact ``(n, mean, scatter)`` in float64 is gathered and
  merged in process order (Chan's update), so every process ends with the same numbers,
  equal to one process's up to float64 rounding. The sums travel as their raw bytes,
  because JAX's collectives would round float64 to float32 without ``jax_enable_x64``.
* Metrics that need every feature (KID, IS, precision/recall): the rows are gathered and
  put back in stream order.

Image ``i`` of a stream (counting single images, also inside NHWC batches) belongs to
process ``i % process_count``. Every process must call these functions with the same
images: they are collectives. With one process they cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import jax
import numpy as np


def process_share(
    images: Iterable[np.ndarray], index: int | None = None, count: int | None = None
) -> Iterator[np.ndarray]:
    """This process's images of a stream of HWC images / NHWC batches (every ``count``-th).

    Items with 4 dimensions are batches (sliced), others single images (kept or skipped);
    the stream is still read in full, so a folder is decoded by every process.
    """
    index = jax.process_index() if index is None else index
    count = jax.process_count() if count is None else count
    seen = 0
    for item in images:
        arr = np.asarray(item)
        if arr.ndim == 4:
            mine = arr[(index - seen) % count :: count]
            seen += len(arr)
            if len(mine):
                yield mine
        else:
            if seen % count == index:
                yield arr
            seen += 1


def allgather_exact(x: np.ndarray) -> np.ndarray:
    """``(process_count, *x.shape)``: every process's ``x``, bit for bit (a collective)."""
    x = np.ascontiguousarray(x)
    if jax.process_count() == 1:
        return x[None]
    from jax.experimental import multihost_utils

    wire = np.uint32 if x.dtype.itemsize % 4 == 0 else np.uint8
    raw = x.reshape(-1).view(wire)
    got = np.asarray(multihost_utils.process_allgather(raw))
    return np.ascontiguousarray(got).view(x.dtype).reshape(-1, *x.shape)


def all_processes(flag: bool) -> bool:
    """True when ``flag`` holds on every process (a collective), e.g. a cache hit: a
    process that skipped a computation the others run would leave them waiting."""
    return bool(allgather_exact(np.array([int(flag)], np.int32)).min())


def combine_statistics(running):
    """Merge every process's :class:`~jaxgan.metrics.stats.RunningStatistics` (a collective).

    Returns a new object holding the statistics of all processes' images together, the
    same on every process.
    """
    from jaxgan.metrics.stats import RunningStatistics

    if jax.process_count() == 1:
        return running
    head = allgather_exact(
        np.array([running.n, 0 if running.mean is None else len(running.mean)], np.int64)
    )
    dim = int(head[:, 1].max())
    if dim == 0:
        return RunningStatistics()
    empty = running.n == 0
    means = allgather_exact(np.zeros(dim) if empty else np.asarray(running.mean, np.float64))
    scatters = allgather_exact(
        np.zeros((dim, dim)) if empty else np.asarray(running.scatter, np.float64)
    )
    out = RunningStatistics()
    for (n, _), mean, scatter in zip(head, means, scatters, strict=True):
        out.merge(int(n), mean, scatter)
    return out


def gather_rows(local: np.ndarray, total: int) -> np.ndarray:
    """All processes' rows in stream order, given this process's share of ``total`` rows
    (rows ``i`` with ``i % process_count == process_index``), e.g. per-image features."""
    count = jax.process_count()
    if count == 1:
        return local
    per = -(-total // count)
    padded = np.zeros((per, *local.shape[1:]), local.dtype)
    padded[: len(local)] = local
    got = allgather_exact(padded)  # (count, per, ...)
    return got.swapaxes(0, 1).reshape(count * per, *local.shape[1:])[:total]


def extract_all(
    extractor, images: np.ndarray, with_logits: bool = True, progress=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pool3 features (and logits) of every image of an NHWC uint8 array, each process
    extracting its share; the same full result on every process."""
    mine = next(process_share([images]), images[:0])
    pool, logits = extractor([mine], with_logits=with_logits, progress=progress)
    pool = gather_rows(pool, len(images))
    return pool, (gather_rows(logits, len(images)) if with_logits else None)
