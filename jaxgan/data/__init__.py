"""Training data: in-memory image sources with deterministic batches, and 2-D toy mixtures.

`make_source(cfg.data, seed)` returns an `ImageSource` (digits, tfds, folder, npz) or a
`ToySource` (toy_ring, toy_grid). Batch `step` of either is a pure function of
(seed, step), which is what makes resumed and multi-process runs see the same data.
"""

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource
from jaxgan.data.prefetch import Prefetcher, prefetch
from jaxgan.data.sources import SOURCES, make_source
from jaxgan.data.toys import ToySource

__all__ = ["make_source", "ImageSource", "ToySource", "DataError", "prefetch", "Prefetcher",
           "SOURCES"]
