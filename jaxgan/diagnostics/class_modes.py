"""The live class count of an image run: how many of a labelled dataset's classes the
generator's samples cover, at every log record, for the mode-collapse detector (numpy
only; the probabilities come from `jaxgan.coverage_probe`).

Why a class count and not only the D-feature diversity: a generator collapsed onto three
digits still draws varied strokes, so its batch looks diverse to D's features, while a
small classifier trained on the real labels sees at once that seven classes are missing.
This is the image analogue of `jaxgan.diagnostics.toy_modes`: classes are counted among the
samples the classifier is confident about, however few they are, and the share of
confident samples is reported beside the count (`class_confident`) instead of suppressing
it, so the detector can tell "few classes" from "nothing recognizable yet".
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["class_count", "CLASS_CONFIDENT_PROB", "CLASS_SHARE", "CLASS_MIN_SAMPLES"]

CLASS_CONFIDENT_PROB = 0.9  # a sample counts for its class when p(class) >= this
CLASS_SHARE = 0.2  # of a class's fair share n_confident / K
CLASS_MIN_SAMPLES = 2  # one stray sample does not make a class


def class_count(probs: np.ndarray) -> dict[str, Any]:
    """`classes_captured`, `num_classes`, `class_confident` (share of samples with
    p >= CLASS_CONFIDENT_PROB) for (N, K) class probabilities of generated samples."""
    p = np.asarray(probs, np.float64)
    n, k = p.shape
    finite = np.isfinite(p).all(axis=1)
    confident = finite & (np.where(finite[:, None], p, 0.0).max(axis=1) >= CLASS_CONFIDENT_PROB)
    counts = np.bincount(p[confident].argmax(axis=1), minlength=k) if confident.any() \
        else np.zeros(k, np.int64)
    need = max(CLASS_SHARE * int(confident.sum()) / k, CLASS_MIN_SAMPLES)
    return {"classes_captured": int((counts >= need).sum()), "num_classes": int(k),
            "class_confident": float(confident.mean()) if n else 0.0}
