"""The evaluation metrics by name: `register_metric` is their one source of truth.

``eval.metrics`` may name any registered metric (`jaxgan.config.validate` checks it before
anything runs); `jaxgan.evaluate` computes the named ones through `compute_metrics`. A
metric is registered with the function that computes it from an `EvalInputs` (the config,
the data source, the real images and the generated samples); metrics registered in one
`group` share one call of the group's function (FID, KID, IS and PRDC share one Inception
feature extraction), and groups run in the order they were registered.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jax
import numpy as np

from jaxgan.errors import ConfigError

__all__ = ["register_metric", "METRICS", "EvalInputs", "compute_metrics", "FID_METHOD"]

# The trace square root of FID (jaxgan.metrics.fid): "eigh" (eigenvalues of a symmetric
# product, always real) or "sqrtm" (scipy.linalg.sqrtm, pytorch-fid's); in each record.
FID_METHOD = "eigh"


@dataclass
class EvalInputs:
    """What a metric may read: the config, the data source, the samples (float in [-1, 1])
    and, for an image source, its first `eval.num_samples` real images (read on first use)."""

    cfg: Any
    source: Any
    fake: np.ndarray
    progress: bool

    @cached_property
    def real(self) -> np.ndarray:
        n = self.cfg.eval.num_samples
        return self.source.batch(0, min(n, len(self.source)))["image"]


Compute = Callable[[EvalInputs, Sequence[str]], dict[str, Any]]
METRICS: dict[str, str] = {}  # metric name -> its group
_GROUPS: dict[str, Compute] = {}


def register_metric(name: str, compute: Compute, group: str | None = None) -> None:
    """Make ``eval.metrics=NAME`` valid: `compute(inputs, names)` returns the record's
    entries for the selected `names` of its group (default: a group of its own)."""
    group = group or name
    METRICS[name] = group
    _GROUPS.setdefault(group, compute)


def compute_metrics(names: Sequence[str], inputs: EvalInputs) -> dict[str, Any]:
    """The record entries of the registered metrics `names`, group by group."""
    out: dict[str, Any] = {}
    for group, compute in _GROUPS.items():
        selected = [n for n in names if METRICS.get(n) == group]
        if selected:
            out.update(compute(inputs, selected))
    return out


def _mode_coverage(x: EvalInputs, names: Sequence[str]) -> dict[str, Any]:
    from jaxgan.metrics.mode_coverage import mode_coverage

    src = x.source
    if not src.is_toy:
        raise ConfigError("eval.metrics=mode_coverage needs a 2-D toy dataset")
    return {**mode_coverage(x.fake, src.centers, src.std), "num_modes": int(len(src.centers))}


def _classifier(x: EvalInputs, names: Sequence[str]) -> dict[str, Any]:
    from jaxgan.classifier import (
        classifier_metrics,
        default_path,
        load_classifier,
        train_classifier,
    )

    cfg = x.cfg
    path = default_path(cfg)
    if path.is_file():
        clf = load_classifier(path)
    else:
        print(f"jaxgan: training the {cfg.data.name or cfg.data.source} classifier once "
              f"(cached at {path})", file=sys.stderr)
        clf = train_classifier(cfg, path)
    return {**classifier_metrics(clf, x.real, x.fake),
            "classifier_test_accuracy": clf.test_accuracy}


def _uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _bar(total: int, desc: str, enabled: bool) -> Any:
    """A bar over this process's share of `total` images (None when off)."""
    from jaxgan.metrics.features import progress_bar

    share = len(range(jax.process_index(), total, jax.process_count()))
    return progress_bar(share, desc, enabled=enabled)


def _extract(extractor, images: np.ndarray, desc: str, progress: bool, with_logits: bool):
    from jaxgan.metrics.distributed import extract_all

    bar = _bar(len(images), desc, progress)
    try:
        return extract_all(extractor, images, with_logits=with_logits, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def _inception(x: EvalInputs, names: Sequence[str]) -> dict[str, Any]:
    """FID, KID, IS and precision/recall/density/coverage from one feature extraction."""
    cfg, src, fake, progress = x.cfg, x.source, x.fake, x.progress
    from jaxgan.metrics import (
        InceptionFeatures,
        density_coverage,
        fid_from_stats,
        inception_score,
        kid,
        precision_recall,
        reference_statistics,
    )
    from jaxgan.metrics.stats import RunningStatistics

    extractor = InceptionFeatures(None)
    out: dict[str, float] = {}
    f_fake, l_fake = _extract(extractor, _uint8(fake), "Inception: samples", progress, True)
    if "fid" in names:
        def reference_images():
            images = src.images
            if isinstance(images, np.ndarray):  # in memory: one array, as always
                return [_uint8(images.astype(np.float32) / 127.5 - 1.0)]
            # a streaming source (jaxgan.data.stream): read in chunks, never all at once
            return (_uint8(np.asarray(images[lo:lo + 4096]).astype(np.float32) / 127.5 - 1.0)
                    for lo in range(0, len(images), 4096))

        bar = _bar(len(src), "Inception: reference statistics", progress)
        try:
            ref = reference_statistics(cfg.data.name or cfg.data.source, cfg.data.split,
                                       cfg.data.resolution, reference_images, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        stats = RunningStatistics()
        stats.update(f_fake)
        s = stats.result()
        out["fid"] = fid_from_stats(ref.mu, ref.sigma, s.mu, s.sigma, method=FID_METHOD)
        out["fid_method"] = FID_METHOD
    if "is" in names:
        out.update(inception_score(l_fake))  # "is", "is_std"
    if "kid" in names or "prdc" in names:
        f_real, _ = _extract(extractor, _uint8(x.real), "Inception: real images", progress,
                             False)
        if "kid" in names:
            out.update(kid(f_real, f_fake))  # "kid", "kid_std"
        if "prdc" in names:
            out.update(precision_recall(f_real, f_fake))
            out.update(density_coverage(f_real, f_fake))
    return out


register_metric("mode_coverage", _mode_coverage)
register_metric("classifier", _classifier)
for _name in ("fid", "kid", "is", "prdc"):
    register_metric(_name, _inception, group="inception")
