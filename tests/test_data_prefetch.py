"""prefetch: order, error propagation, clean stop."""

import threading
import time

import numpy as np
import pytest

from jaxgan.data import ImageSource, prefetch


def test_prefetch_yields_items_in_order():
    assert list(prefetch(range(100), size=3)) == list(range(100))
    assert list(prefetch([], size=1)) == []


def test_prefetch_reraises_producer_errors_after_good_items():
    def gen():
        yield 1
        yield 2
        raise RuntimeError("bad shard 3")

    it = prefetch(gen())
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(RuntimeError, match="bad shard 3"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_prefetch_runs_ahead_and_stops_when_closed():
    produced = []

    def gen():
        for i in range(10_000):
            produced.append(i)
            yield i

    with prefetch(gen(), size=2) as it:
        assert next(it) == 0
        time.sleep(0.2)
        assert 2 <= len(produced) <= 5  # ran ahead, but bounded by the queue
    time.sleep(0.2)
    n = len(produced)
    time.sleep(0.2)
    assert len(produced) == n < 10  # stopped
    assert not any(t.name == "jaxgan-prefetch" and t.is_alive() for t in threading.enumerate())


def test_prefetched_batches_equal_direct_batches():
    images = np.arange(40, dtype=np.uint8).reshape(10, 2, 2, 1)
    src = ImageSource(images, seed=5)
    got = list(prefetch(src.batch(step, 4) for step in range(3, 8)))  # as the trainer does
    assert len(got) == 5
    for step, b in zip(range(3, 8), got, strict=True):
        np.testing.assert_array_equal(b["image"], src.batch(step, 4)["image"])
