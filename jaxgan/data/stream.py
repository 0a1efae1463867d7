"""`StreamSource`: a prepared ArrayRecord dataset read batch by batch through Grain.

For datasets larger than a host's memory (FFHQ, LSUN, ImageNet at 128+), and for pod
slices where each host should read only its share. Nothing is loaded up front but the
labels; a batch is read when it is needed:

* the order is `SampleOrder`'s, the same global shuffle by index as the in-memory source,
  so batch `s` is a pure function of `(seed, s)`: a resumed run recomputes its position
  from the step (no iterator state to checkpoint), N processes together read the global
  batch one process would, and streaming and in-memory training see the same samples;
* each process asks Grain's `ArrayRecordDataSource` for its own slice's records only;
* one Grain element is one process batch: `grain.MapDataset.range(rounds)` mapped by
  `ReadRound` (read, check, decode, resize) in Grain's read threads, or in
  ``data.workers`` Grain worker processes (`mp_prefetch`), with prefetch, in order;
* batches leave as uint8 (a quarter of float32's bytes to the device); the step converts
  them to [-1, 1] on the device (`jaxgan.run.step_factory`).

Why not Grain's own `IndexSampler` with `ShardByJaxProcess` and a checkpointed
`DataLoader` iterator: that shards the *dataset* (each process shuffles its own
contiguous 1/N of the records), so N processes would train on other batches than one
process, and the loader's state would have to ride in every checkpoint. Sharding each
*batch* by process keeps both properties with nothing to save.

`data.stream=auto` streams when the images would take more than a quarter of this host's
memory (`auto_streams`), and loads them into an `ImageSource` otherwise; both give the same
batches, so the choice changes memory and start-up time, not the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, to_resolution, to_unit_range
from jaxgan.data.order import SampleOrder
from jaxgan.data.records import RecordSet, open_records, require_grain
from jaxgan.schema import DataConfig

Plan = Callable[[int], tuple[int, int]]  # critic round k -> (source batch index, global batch)
Batch = dict[str, np.ndarray]


class ReadRound:
    """Grain map function: critic round `k` -> this process's uint8 batch of it.

    Picklable for Grain's worker processes; the record reader opens on first use in each.
    """

    def __init__(self, records: RecordSet, order: SampleOrder, plan: Plan,
                 process_index: int, process_count: int, resolution: int, channels: int):
        self.records, self.order, self.plan = records, order, plan
        self.pi, self.pc = process_index, process_count
        self.resolution, self.channels = resolution, channels
        self._source: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_source": None}

    def read(self, idx: np.ndarray) -> Batch:
        """Records `idx` as ``{"image": uint8 (n, R, R, C), "label": int32 (n,)}``."""
        if self._source is None:
            import grain

            self._source = grain.sources.ArrayRecordDataSource(self.records.paths)
        try:
            raw = self._source.__getitems__([int(i) for i in idx])
        except Exception:  # noqa: BLE001 - riegeli's chunk hash, a truncated file, ...
            raise self._unreadable(idx) from None
        pairs = [self.records.decode(r, int(i)) for r, i in zip(raw, idx, strict=True)]
        images = np.stack([p[0] for p in pairs])
        if images.shape[1:] != (self.resolution, self.resolution, self.channels):
            images = to_resolution(images, self.resolution, self.channels)
        return {"image": images, "label": np.array([p[1] for p in pairs], np.int32)}

    def _unreadable(self, idx: np.ndarray) -> DataError:
        """The one-line error for a failed read, naming the first record that fails."""
        for i in sorted(int(i) for i in idx):
            try:
                self._source[i]
            except Exception as e:  # noqa: BLE001
                why = str(e).splitlines()[0][:120] if str(e) else ""
                return self.records.corrupt_error(i, f"{type(e).__name__}: {why}")
        return self.records.corrupt_error(int(idx[0]), "the batched read failed")

    def __call__(self, k: int) -> Batch:
        index, global_batch = self.plan(int(k))
        return self.read(self.order.indices(index, global_batch, self.pi, self.pc))


class RecordImages:
    """`source.images` of a streaming source: the shape and dtype readers ask for, and
    records by index; `np.asarray` / `astype` read the whole split (small datasets only)."""

    dtype = np.dtype(np.uint8)

    def __init__(self, reader: ReadRound, count: int) -> None:
        self._reader, self._count = reader, count

    @property
    def shape(self) -> tuple[int, int, int, int]:
        r = self._reader
        return (self._count, r.resolution, r.resolution, r.channels)

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key: Any) -> np.ndarray:
        idx = np.arange(self._count)[key]
        return self._reader.read(np.atleast_1d(idx))["image"].reshape(
            *np.shape(idx), *self.shape[1:])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.concatenate([self[lo:lo + 4096] for lo in range(0, self._count, 4096)])
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype: Any) -> np.ndarray:
        return np.asarray(self).astype(dtype)


class StreamSource:
    """A host image source read from ArrayRecord files as it trains (see the module doc).

    `batch(step, global_batch, pi, pc)` is one batch read directly (random access), in
    [-1, 1] like every source's; `batches(plan, first, last, pi, pc)` is the trainer's
    path: rounds `[first, last)` through a Grain pipeline with read-ahead, as uint8 (the
    step scales them on the device, `jaxgan.run.float_images`).
    """

    is_toy = False

    def __init__(self, records: RecordSet, resolution: int, channels: int, seed: int = 0,
                 workers: int = 0, threads: int | None = None) -> None:
        self.records = records
        self.order = SampleOrder(records.count, seed)
        self.seed, self.workers = int(seed), int(workers)
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.labels = records.labels
        self.num_classes = records.num_classes if records.labels is not None else 0
        self.resolution, self.channels = int(resolution), int(channels)
        self.name = f"arrayrecord:{records.root}"
        self._direct = self._reader(lambda k: (k, 0), 0, 1)
        self.images = RecordImages(self._direct, records.count)

    def __len__(self) -> int:
        return self.records.count

    def _reader(self, plan: Plan, pi: int, pc: int) -> ReadRound:
        return ReadRound(self.records, self.order, plan, pi, pc, self.resolution,
                         self.channels)

    def batch_uint8(self, step: int, global_batch: int, process_index: int = 0,
                    process_count: int = 1) -> Batch:
        """This process's slice of global batch `step`, uint8: a pure function of
        (seed, step), and the same samples as `ImageSource.batch`."""
        return self._direct.read(self.order.indices(step, global_batch, process_index,
                                                    process_count))

    def batch(self, step: int, global_batch: int, process_index: int = 0,
              process_count: int = 1) -> Batch:
        """`batch_uint8` in [-1, 1] (the `Source` contract, for readers such as FID's
        real images): to the bit `ImageSource.batch`."""
        out = self.batch_uint8(step, global_batch, process_index, process_count)
        return {"image": to_unit_range(out["image"]), "label": out["label"]}

    def batches(self, plan: Plan, first: int, last: int, process_index: int = 0,
                process_count: int = 1) -> Iterator[Batch]:
        """Rounds `first..last-1` in order (round k is ``batch(*plan(k))``), read ahead by
        Grain: `threads` read threads, and `workers` worker processes when > 0."""
        import grain

        if last <= first:
            return
        ds = grain.MapDataset.range(first, last).map(
            self._reader(plan, process_index, process_count))
        if self.workers > 0:
            _absl_flags_parsed()
            it_ds = ds.to_iter_dataset(grain.ReadOptions(num_threads=1,
                                                         prefetch_buffer_size=2))
            it_ds = it_ds.mp_prefetch(grain.MultiprocessingOptions(
                num_workers=self.workers, per_worker_buffer_size=2))
        else:
            it_ds = ds.to_iter_dataset(grain.ReadOptions(
                num_threads=self.threads, prefetch_buffer_size=2 * self.threads))
        it = iter(it_ds)
        try:
            if self.workers == 0:
                yield from it
            else:  # out of Grain's shared memory at once: a batch still referenced at
                for batch in it:  # exit would be reported as leaked and unlinked late
                    yield {k: np.array(v) for k, v in batch.items()}
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def __repr__(self) -> str:
        return (f"StreamSource({self.records.root}: {len(self)} x {self.resolution}x"
                f"{self.resolution}x{self.channels}, num_classes={self.num_classes})")


def _absl_flags_parsed() -> None:
    """Grain's worker processes read an absl flag, which raises in programs that never
    parse absl flags (google/grain#1355, fixed after 0.2.18): mark them parsed, as
    Grain's own tests do, keeping every default."""
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()


def auto_streams(nbytes: int, memory: int | None = None) -> bool:
    """`data.stream=auto`: stream when the uint8 images would take more than a quarter of
    this host's physical memory (`memory`, default read from the OS)."""
    if memory is None:
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            memory = 16 << 30
    return nbytes > memory // 4


def load_all(source: StreamSource) -> ImageSource:
    """The whole prepared dataset in memory (`data.stream=false`), read through the same
    decoder, so its batches equal the streaming source's."""
    images = np.asarray(source.images)
    return ImageSource(images, source.labels, source.num_classes, seed=source.seed,
                       name=source.name)


def arrayrecord_source(cfg: DataConfig, seed: int) -> StreamSource | ImageSource:
    """``data.source=arrayrecord``: the prepared dataset at `cfg.path`, streamed or held in
    memory by `cfg.stream` (auto | true | false)."""
    if not cfg.path:
        raise DataError("data.path must point to a prepared dataset folder when "
                        "data.source=arrayrecord (make one with `jaxgan prepare`)")
    require_grain("data.source=arrayrecord")
    records = open_records(cfg.path)
    if cfg.workers < 0:
        raise DataError(f"data.workers must be >= 0, got {cfg.workers}")
    source = StreamSource(records, cfg.resolution, cfg.channels, seed, cfg.workers)
    nbytes = records.count * cfg.resolution ** 2 * cfg.channels
    if cfg.stream == "true" or (cfg.stream == "auto" and auto_streams(nbytes)):
        return source
    return load_all(source)


__all__ = ["StreamSource", "ReadRound", "RecordImages", "arrayrecord_source", "auto_streams",
           "load_all"]
