"""`SampleOrder`: which dataset index every position of an endless training stream reads.

One order, shared by the in-memory source (`ImageSource`) and the streaming one
(`jaxgan.data.stream`), so both serve the same samples for the same seed and the choice
between them (`data.stream=auto`) cannot change a run. The order is a global shuffle by
index, not a shuffle buffer: position `p` reads `permutation(p // n)[p % n]`, so batch `s`
is a pure function of `(seed, s)` (exact resume is recomputing it) and any process can
compute its own slice of any batch without reading anyone else's.
"""

from __future__ import annotations

import threading

import numpy as np

from jaxgan.data.errors import DataError


class SampleOrder:
    """Per-epoch permutations of `n` indices, epoch `e` shuffled by
    `np.random.default_rng([seed, e])`; global batch `step` of size `B` is positions
    `[step * B, (step + 1) * B)` (it may straddle two epochs), and process `i` of `P`
    takes its contiguous `B // P` slice. Picklable (Grain workers hold a copy)."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed = int(n), int(seed)
        self._perms: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, int]:
        return {"n": self.n, "seed": self.seed}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__(state["n"], state["seed"])

    def permutation(self, epoch: int) -> np.ndarray:
        """The sample order of `epoch`; the last few are cached (batches walk forward)."""
        with self._lock:
            perm = self._perms.get(epoch)
            if perm is None:
                perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
                if len(self._perms) >= 4:
                    self._perms.pop(min(self._perms))
                self._perms[epoch] = perm
            return perm

    def indices(self, step: int, global_batch: int, process_index: int = 0,
                process_count: int = 1) -> np.ndarray:
        """Dataset indices of this process's slice of global batch `step`."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        if global_batch <= 0 or global_batch % process_count:
            raise DataError(f"the global batch {global_batch} must be a positive multiple of "
                            f"the process count {process_count}")
        if not 0 <= process_index < process_count:
            raise ValueError(f"process_index {process_index} not in [0, {process_count})")
        local = global_batch // process_count
        start = step * global_batch + process_index * local
        n = self.n
        first, last = start // n, (start + local - 1) // n
        if first == last:
            off = start - first * n
            return self.permutation(first)[off:off + local]
        pos = np.arange(start, start + local, dtype=np.int64)
        epochs, offsets = pos // n, pos % n
        out = np.empty(local, dtype=np.int64)
        for e in range(first, last + 1):
            m = epochs == e
            out[m] = self.permutation(e)[offsets[m]]
        return out


__all__ = ["SampleOrder"]
