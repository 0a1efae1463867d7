"""Background prefetching, so host-side batch assembly overlaps device compute.

`ImageSource.batch` is a numpy gather plus a float conversion; run in a daemon thread it
costs the training loop nothing while the previous step runs on the accelerator (numpy
releases the GIL for the heavy parts). The trainer prefetches the run's host batches
(`jaxgan.run.host_batches`: one per compiled call, per the batch plan of the config).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2


class Prefetcher(Generic[T]):
    """An iterator that keeps up to `size` items of `iterable` ready in a daemon thread.

    Producer exceptions are re-raised in the consumer at the position they occurred.
    `close()` (also called by `with`, and on garbage collection) stops the producer;
    the thread is a daemon, so an abandoned prefetcher never blocks interpreter exit.
    """

    def __init__(self, iterable: Iterable[T], size: int = 2) -> None:
        if size < 1:
            raise ValueError(f"prefetch size must be >= 1, got {size}")
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(iter(iterable),),
                                        name="jaxgan-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[int, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, it: Iterator[T]) -> None:
        try:
            for item in it:
                if not self._put((_ITEM, item)):
                    return
            self._put((_DONE, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put((_ERROR, e))

    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value
        self._finished = True
        self.close()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the producer thread; pending items are dropped."""
        self._finished = True
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        stop = getattr(self, "_stop", None)  # absent if __init__ raised
        if stop is not None:
            stop.set()


def prefetch(iterable: Iterable[T], size: int = 2) -> Prefetcher[T]:
    """Iterate `iterable` in a background thread, keeping `size` items ready."""
    return Prefetcher(iterable, size)


__all__ = ["prefetch", "Prefetcher"]
