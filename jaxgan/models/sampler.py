"""The generator in inference mode, jit-compiled once per module: what every figure draws.

It sits with the models (and imports nothing of jaxgan) so that a model family's own
figures (InfoGAN's traversal) and `jaxgan.sampling` share one cached program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

__all__ = ["make_sampler", "make_stacked_sampler"]

_SAMPLERS: dict[tuple[int, str], tuple[object, Callable[..., jax.Array]]] = {}


def _cached(models: Any, kind: str, build: Callable[[Any], Callable[..., jax.Array]]
            ) -> Callable[..., jax.Array]:
    """`build(generator)`, compiled once per generator module and kind."""
    key = (id(models.generator), kind)
    hit = _SAMPLERS.get(key)
    if hit is not None and hit[0] is models.generator:
        return hit[1]
    fn = jax.jit(build(models.generator))
    _SAMPLERS[key] = (models.generator, fn)
    return fn


def make_sampler(models: Any) -> Callable[..., jax.Array]:
    """jit-compiled (params, batch_stats, z, y) -> samples, in inference mode.

    Cached per generator module, so the grids and mode counts a run draws at every log
    step compile once.
    """
    def build(g: Any) -> Callable[..., jax.Array]:
        def sample(params, batch_stats, z, y):
            return g.apply({"params": params, "batch_stats": batch_stats}, z, y, train=False)
        return sample

    return _cached(models, "one", build)


def make_stacked_sampler(models: Any) -> Callable[..., jax.Array]:
    """jit-compiled (tuple of params, batch_stats, z, y) -> samples of each parameter set
    (the training and the EMA generator) stacked on a leading axis, from one call: the
    live coverage signals draw both at every record (`jaxgan.coverage_probe`)."""
    def build(g: Any) -> Callable[..., jax.Array]:
        def sample(params, batch_stats, z, y):
            return jax.numpy.stack([g.apply({"params": p, "batch_stats": batch_stats}, z, y,
                                            train=False) for p in params])
        return sample

    return _cached(models, "stacked", build)
