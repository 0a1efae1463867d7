"""The generator in inference mode, jit-compiled once per module: what every figure draws.

It sits with the models (and imports nothing of jaxgan) so that a model family's own
figures (InfoGAN's traversal) and `jaxgan.sampling` share one cached program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

__all__ = ["make_sampler"]

_SAMPLERS: dict[int, tuple[object, Callable[..., jax.Array]]] = {}


def make_sampler(models: Any) -> Callable[..., jax.Array]:
    """jit-compiled (params, batch_stats, z, y) -> samples, in inference mode.

    Cached per generator module, so the grids and mode counts a run draws at every log
    step compile once.
    """
    hit = _SAMPLERS.get(id(models.generator))
    if hit is not None and hit[0] is models.generator:
        return hit[1]

    @jax.jit
    def sample(params, batch_stats, z, y):
        return models.generator.apply({"params": params, "batch_stats": batch_stats}, z, y,
                                      train=False)

    _SAMPLERS[id(models.generator)] = (models.generator, sample)
    return sample
