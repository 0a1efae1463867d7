"""The live coverage signals of a training run, measured at every log record for the
mode-collapse detector: the mode count of a 2-D toy, the class count of a labelled image
dataset (through jaxgan's small classifier) and the pixel spread of an in-memory image
dataset, each for the training generator and, beside it as ``ema_*``, the EMA generator.

Why both generators: the detector watches the game through the training generator, but
the user's samples come from the EMA generator, an average of G's recent parameters that
need not draw what G draws (on the failure benchmark's toy_ring runs with G 10x faster than
D it is far less precise than G: near 5-8 of the 8 modes, almost none within 3 std of one,
benchmarks/RESULTS.md, session 12).

Why a probe built once per run (`CoverageProbe`) rather than a function per record: the
signals are paid for at every record, and what does not change between records (the
latents, the real images' reference spread, the compiled sampler) was most of their cost.
Both generators draw in one compiled call and come back in one transfer, the classifier
sees both sample sets in one pass, and only the generator's parameters are copied out of
the train state (benchmarks/health_overhead.py --records measures the share).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from jaxgan import streams

__all__ = ["CoverageProbe", "EMA_COVERAGE_KEYS", "TOY_SAMPLES", "IMAGE_SAMPLES"]

TOY_SAMPLES = 2500  # the VEEGAN/PacGAN protocol's sample count
IMAGE_SAMPLES = 256  # generated (and real, `spread.REAL_SAMPLES`) images per record

# The EMA generator's coverage signals: the ones that change between the two generators.
EMA_COVERAGE_KEYS = ("modes_captured", "toy_off_mode", "classes_captured", "class_confident",
                     "pixel_spread")

class CoverageProbe:
    """`probe(state, step)` -> the coverage signals of `state`'s generators (an empty dict
    where there is nothing to measure: a streamed dataset without a classifier).

    The samples are exactly `jaxgan.sampling.generate`'s for the same seed (the same fixed
    latents), so a record's counts can be reproduced from its checkpoint. The EMA counts are
    left out while the EMA is a copy of G (`train.ema_decay` 0, or before
    `train.ema_start`).
    """

    def __init__(self, run: Any, classifier: Any = None) -> None:
        self.run, self.classifier = run, classifier
        src = run.source
        self.is_toy = bool(src.is_toy)
        self.images = None if self.is_toy else getattr(src, "images", None)
        self.active = self.is_toy or classifier is not None or self.images is not None
        self._latents: tuple[jax.Array, jax.Array] | None = None
        self._real_spread: float | None = None

    # ----------------------------------------------------------------- cached per run
    def latents(self) -> tuple[jax.Array, jax.Array]:
        """The fixed latents (and labels) of every record, drawn once."""
        if self._latents is None:
            from jaxgan.sampling import fixed_latents

            n, offset = ((TOY_SAMPLES, streams.TOY_MODES_SEED_OFFSET) if self.is_toy
                         else (IMAGE_SAMPLES, streams.CLASS_SIGNAL_SEED_OFFSET))
            self._latents = fixed_latents(self.run.models, n, self.run.cfg.seed + offset)
        return self._latents

    def real_spread(self) -> float:
        """The mean pairwise pixel distance of a fixed subset of the real images (seeded by
        the run's seed), measured once."""
        if self._real_spread is None:
            from jaxgan.data.images import to_unit_range
            from jaxgan.diagnostics.spread import REAL_SAMPLES, mean_pairwise_distance

            images = self.images
            pick = np.random.default_rng(self.run.cfg.seed).choice(
                len(images), min(REAL_SAMPLES, len(images)), replace=False)
            self._real_spread = mean_pairwise_distance(to_unit_range(images[np.sort(pick)]))
        return self._real_spread

    # ----------------------------------------------------------------- per record
    def samples(self, state: Any, use_ema: tuple[bool, ...]) -> np.ndarray:
        """float32 samples of each requested generator (False: training G, True: EMA),
        stacked on a leading axis, from one compiled call and one device-to-host copy."""
        from jaxgan.guards import local_copy

        g, ema, stats = local_copy((state.g_params, state.ema_params, state.g_batch_stats))
        z, y = self.latents()
        params = tuple(ema if e else g for e in use_ema)
        from jaxgan.models.sampler import make_stacked_sampler

        sample = make_stacked_sampler(self.run.models)
        return np.asarray(sample(params, stats, z, y), np.float32)

    def count(self, fakes: np.ndarray) -> list[dict[str, Any]]:
        """The signals of each stacked sample set in `fakes`."""
        if self.is_toy:
            from jaxgan.diagnostics.toy_modes import mode_count

            centers = np.asarray(self.run.source.centers, np.float64)
            return [mode_count(np.asarray(f, np.float64), centers) for f in fakes]
        if self.images is not None and fakes.shape[2:] != self.images.shape[1:]:
            return [{} for _ in fakes]  # a growing generator (ProGAN) below the data's size
        out: list[dict[str, Any]] = [{} for _ in fakes]
        if self.classifier is not None:
            from jaxgan.diagnostics.class_modes import class_count

            flat = fakes.reshape(-1, *fakes.shape[2:])
            _, probs = self.classifier.apply(flat, batch_size=len(flat))
            for o, p in zip(out, probs.reshape(len(fakes), -1, probs.shape[-1]), strict=True):
                o.update(class_count(p))
        if self.images is not None:
            from jaxgan.diagnostics.spread import pixel_spread_of

            for o, f in zip(out, fakes, strict=True):
                o.update(pixel_spread_of(f, self.real_spread()))
        return out

    def __call__(self, state: Any, step: int) -> dict[str, Any]:
        if not self.active:
            return {}
        tc = self.run.cfg.train
        with_ema = tc.ema_decay > 0 and step >= tc.ema_start
        counts = self.count(self.samples(state, (False, True) if with_ema else (False,)))
        out = dict(counts[0])
        if with_ema and out:
            out.update({f"ema_{k}": counts[1][k] for k in EMA_COVERAGE_KEYS if k in counts[1]})
        return out
