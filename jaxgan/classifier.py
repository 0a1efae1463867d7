"""A small classifier that jaxgan trains on a labelled dataset, for metrics without Inception.

Inception features are the wrong yardstick for 16x16 grayscale digits (and the weights may
not be available offline), so for labelled image datasets jaxgan trains its own small CNN
(`jaxgan classifier --config PRESET`) and evaluates generators in its feature space:

* classifier Fréchet distance: FID's formula on the CNN's 128-d penultimate features;
* classifier score: IS's formula, exp(E_x KL(p(y|x) || p(y))), on the CNN's softmax; its
  ceiling is the number of classes;
* class coverage: the share of classes that receive at least a fifth of their fair share
  of confidently classified samples, and the KL divergence from uniform of the predicted
  class histogram (the image analogue of the toys' mode coverage).

The classifier is saved as a msgpack file keyed by dataset, resolution and channels, so
every run on that dataset is measured with the same network.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn
from flax import serialization

from jaxgan.errors import ConfigError
from jaxgan.schema import Config

FEATURES = 128


class SmallCNN(nn.Module):
    """Two conv blocks and a 128-unit feature layer: >95 % on digits in seconds."""

    num_classes: int

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = nn.relu(nn.Conv(32, (3, 3))(x))
        h = nn.avg_pool(h, (2, 2), (2, 2)) if h.shape[1] >= 8 else h
        h = nn.relu(nn.Conv(64, (3, 3))(h))
        h = nn.avg_pool(h, (2, 2), (2, 2)) if h.shape[1] >= 8 else h
        feats = nn.relu(nn.Dense(FEATURES)(h.reshape(h.shape[0], -1)))
        return feats, nn.Dense(self.num_classes)(feats)


@dataclass
class Classifier:
    module: SmallCNN
    params: Any
    test_accuracy: float
    path: Path

    def apply(self, images: np.ndarray, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """(features, probabilities) of float images in [-1, 1], NHWC."""
        fn = self._forward
        feats, probs = [], []
        for i in range(0, len(images), batch_size):
            f, logits = fn(self.params, jnp.asarray(images[i:i + batch_size], jnp.float32))
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(jax.nn.softmax(logits), np.float64))
        return np.concatenate(feats), np.concatenate(probs)

    @functools.cached_property
    def _forward(self):
        """The compiled forward pass, built once per classifier: the live class count calls
        `apply` at every log record, and a fresh `jax.jit` each time would retrace."""
        return jax.jit(lambda p, x: self.module.apply({"params": p}, x))


def default_path(cfg: Config) -> Path:
    """Where the classifier of cfg's dataset is cached: the cache folder of the Inception
    weights (``$JAXGAN_CACHE_DIR``, else the older ``$JAXGAN_CACHE``, else ~/.cache/jaxgan)."""
    from jaxgan.metrics.weights import ENV_CACHE

    root = Path(os.environ.get(ENV_CACHE) or os.environ.get("JAXGAN_CACHE")
                or Path.home() / ".cache" / "jaxgan")
    name = cfg.data.name or cfg.data.source
    if cfg.data.path and cfg.data.source in ("npz", "folder"):  # one classifier per file
        import hashlib

        resolved = str(Path(cfg.data.path).expanduser().resolve())
        name += "_" + hashlib.sha1(resolved.encode()).hexdigest()[:10]
    return root / "classifiers" / (f"{name}_{cfg.data.split.replace(':', '_')}_"
                                   f"{cfg.data.resolution}px_{cfg.data.channels}ch.msgpack")


# The classifier trains on at most this many images (every dataset jaxgan ships presets
# for has fewer); a streamed dataset larger than memory is never read whole for it.
CLASSIFIER_IMAGES = 65536


def _labelled(cfg: Config):
    from jaxgan.data import make_source

    source = make_source(cfg.data, cfg.seed)
    if source.is_toy or source.labels is None or source.num_classes < 2:
        raise ConfigError(f"data.source={cfg.data.source} has no class labels; the classifier "
                          "metrics need a labelled dataset (digits, mnist, cifar10, an .npz "
                          "with labels)")
    images, labels = source.images, source.labels
    if len(images) > CLASSIFIER_IMAGES:  # a large (streamed) dataset: a fixed random subset
        idx = np.sort(np.random.default_rng(0).choice(len(images), CLASSIFIER_IMAGES,
                                                      replace=False))
        images, labels = images[idx], labels[idx]
    images = np.asarray(images).astype(np.float32) / 127.5 - 1.0
    return images, labels.astype(np.int32), source.num_classes


def train_classifier(cfg: Config, out: str | Path | None = None, steps: int = 600,
                     batch_size: int = 128, seed: int = 0) -> Classifier:
    """Train on 90 % of the dataset, report accuracy on the held-out 10 %, save."""
    images, labels, k = _labelled(cfg)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = max(len(images) // 10, 1)
    test, train = order[:n_test], order[n_test:]
    module = SmallCNN(k)
    params = module.init(jax.random.PRNGKey(seed), jnp.zeros((1, *images.shape[1:])))["params"]
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x, y):
        def loss(p):
            _, logits = module.apply({"params": p}, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(steps):
        idx = rng.choice(train, size=min(batch_size, len(train)), replace=False)
        params, opt_state = step(params, opt_state, images[idx], labels[idx])
    path = Path(out) if out else default_path(cfg)
    clf = Classifier(module, params, 0.0, path)
    _, probs = clf.apply(images[test])
    clf.test_accuracy = float(np.mean(probs.argmax(1) == labels[test]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{jax.process_index()}")  # hosts may share a disk
    tmp.write_bytes(serialization.msgpack_serialize(
        {"params": jax.device_get(params), "num_classes": k,
         "test_accuracy": clf.test_accuracy, "shape": list(images.shape[1:])}))
    tmp.replace(path)
    return clf


HEALTH_STEPS = 300  # as accurate as 600 on the digits (98.9 % held out), in a fifth the time


def health_classifier(cfg: Config, source: Any) -> Classifier | None:
    """The classifier behind the live class count (`health.class_signal`), or None where
    the data has no labels (toys, unlabelled folders). Loaded from `default_path` when a
    run on this dataset trained it before, else trained now (seconds) and cached there; a
    cache that cannot be written only costs the next run the same seconds."""
    if source.is_toy or getattr(source, "labels", None) is None or source.num_classes < 2:
        return None
    path = default_path(cfg)
    if path.is_file():
        try:
            clf = load_classifier(path)
            if clf.module.num_classes == source.num_classes:
                return clf
        except ConfigError:
            pass  # corrupt or foreign: retrain over it
    if jax.process_index() == 0:
        print(f"jaxgan: training the health classifier for the live class count (once per "
              f"dataset; cached at {path})...", file=sys.stderr, flush=True)
    try:
        return train_classifier(cfg, path, steps=HEALTH_STEPS)
    except OSError:  # a read-only cache folder
        return _train_in_memory(cfg)


def _train_in_memory(cfg: Config) -> Classifier:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return train_classifier(cfg, Path(tmp) / "classifier.msgpack", steps=HEALTH_STEPS)


def load_classifier(path: str | Path) -> Classifier:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no classifier at {path}; train one with `jaxgan classifier "
                          "--config PRESET`")
    try:
        raw = serialization.msgpack_restore(path.read_bytes())
    except Exception:
        raise ConfigError(f"{path} is not a jaxgan classifier file (corrupt or another "
                          "format); retrain it with `jaxgan classifier`") from None
    return Classifier(SmallCNN(int(raw["num_classes"])), raw["params"],
                      float(raw["test_accuracy"]), path)


def classifier_metrics(clf: Classifier, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Fréchet distance, score and class coverage of `fake` against `real` (both [-1, 1])."""
    from jaxgan.metrics import fid_from_stats

    f_real, _ = clf.apply(real)
    f_fake, p_fake = clf.apply(fake)
    fd = fid_from_stats(f_real.mean(0), np.cov(f_real, rowvar=False),
                        f_fake.mean(0), np.cov(f_fake, rowvar=False))
    p_y = p_fake.mean(0)
    kl = np.sum(p_fake * (np.log(p_fake + 1e-12) - np.log(p_y + 1e-12)), axis=1)
    k = p_fake.shape[1]
    confident = p_fake.max(1) > 0.5
    hist = np.bincount(p_fake.argmax(1)[confident], minlength=k).astype(np.float64)
    share = hist / max(hist.sum(), 1.0)
    covered = share >= 0.2 / k
    nz = share > 0
    return {"classifier_fd": float(fd), "classifier_score": float(np.exp(kl.mean())),
            "class_coverage": float(covered.mean()),
            "class_kl_uniform": float(np.sum(share[nz] * np.log(share[nz] * k)))}
