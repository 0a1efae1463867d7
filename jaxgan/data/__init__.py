"""Training data: image sources with deterministic batches, and 2-D toy mixtures.

`make_source(cfg.data, seed)` returns an `ImageSource` held in memory (digits, tfds,
folder, npz, and arrayrecord unless streamed), a `StreamSource` (arrayrecord streamed from
disk through Grain: `jaxgan.data.stream`) or a `ToySource` (toy_ring, toy_grid). Batch
`step` of each is a pure function of (seed, step), which is what makes resumed and
multi-process runs see the same data.
"""

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource
from jaxgan.data.prefetch import Prefetcher, prefetch
from jaxgan.data.sources import SOURCES, make_source
from jaxgan.data.toys import ToySource

__all__ = ["make_source", "ImageSource", "ToySource", "DataError", "prefetch", "Prefetcher",
           "SOURCES"]
