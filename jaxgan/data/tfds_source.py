"""Any tensorflow-datasets image dataset (mnist, cifar10, celeb_a, ...) loaded into memory.

The whole split is read once, resized and converted chunk by chunk (so a dataset stored at
a higher resolution never sits in memory at full size), and then served by `ImageSource`,
which keeps the batch order a pure function of (seed, step).

Development and CI machines have no internet. tfds's downloader retries a dead connection
ten times with exponential backoff (minutes per file), so downloads here run with fewer
retries and any failure becomes one `DataError` line saying how to supply the data locally.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, to_resolution

_CHUNK = 2048  # examples decoded per tf.data batch when the image shape is fixed
_DOWNLOAD_RETRIES = 2


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


@contextlib.contextmanager
def _few_download_retries() -> Iterator[None]:
    """Fail in about a second, not minutes, when there is no network."""
    from tensorflow_datasets.core.download import downloader

    old = downloader.MAX_RETRIES
    downloader.MAX_RETRIES = min(old, _DOWNLOAD_RETRIES)
    try:
        yield
    finally:
        downloader.MAX_RETRIES = old


def _how_to_supply(name: str) -> str:
    return (f"to supply it locally, run `tfds build {name}` on a machine with network, copy "
            f"its data dir here and pass data.path=DIR, or convert it to an .npz (uint8 "
            f"'images' N x H x W x C, optional 'labels') and use data.source=npz "
            f"data.path=FILE.npz")


def _network_reason(e: BaseException) -> str:
    """A short cause, e.g. 'cannot resolve storage.googleapis.com' instead of urllib3's essay."""
    text = str(e)
    host = re.search(r"host='([^']+)'", text)
    if host:
        verb = "cannot resolve" if "resolve" in text.lower() else "cannot reach"
        return f"{verb} {host.group(1)}"
    return _one_line(e)[:160]


def _is_network_error(e: BaseException) -> bool:
    import tensorflow_datasets as tfds

    if isinstance(e, (OSError, tfds.download.DownloadError)):
        return True
    return any(w in str(e).lower() for w in ("connection", "resolve", "download", "timed out"))


def prepare_builder(name: str, data_dir: str | None = None):
    """`tfds.builder(name)`, prepared (downloaded and built) unless it already is."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir or None)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise DataError(f"data.name={name!r} is not a tfds dataset "
                        f"({str(e).splitlines()[0][:200]})") from None
    except ModuleNotFoundError as e:
        raise DataError(f"tfds cannot load {name!r}: missing module {e.name!r} "
                        f"(pip install {e.name})") from None
    try:
        with _few_download_retries():
            builder.download_and_prepare()
    except ModuleNotFoundError as e:
        # tfds 4.9.10 imports importlib_resources without declaring it (tensorflow/datasets#11212).
        raise DataError(f"tfds cannot prepare {name!r}: missing module {e.name!r} "
                        f"(pip install {e.name})") from None
    except Exception as e:  # noqa: BLE001 - any failure is the user's data to supply
        if _is_network_error(e):
            raise DataError(f"tfds dataset {name!r} could not be downloaded "
                            f"({_network_reason(e)}); {_how_to_supply(name)}") from None
        raise DataError(f"tfds could not prepare {name!r} ({_one_line(e)}); "
                        f"{_how_to_supply(name)}") from None
    return builder


def _feature_keys(builder, name: str) -> tuple[str, str | None, int]:
    """(image key, label key or None, num_classes) from the builder's feature spec."""
    import tensorflow_datasets as tfds

    features = builder.info.features
    items = dict(features.items()) if hasattr(features, "items") else {}
    image_keys = [k for k, f in items.items() if isinstance(f, tfds.features.Image)]
    if not image_keys:
        raise DataError(f"tfds dataset {name!r} has no image feature (features: "
                        f"{', '.join(items) or 'none'}); jaxgan needs an image dataset")
    image_key = "image" if "image" in image_keys else image_keys[0]
    label = items.get("label")
    if isinstance(label, tfds.features.ClassLabel):
        return image_key, "label", int(label.num_classes)
    return image_key, None, 0


def load_tfds_arrays(name: str, split: str, resolution: int, channels: int,
                     data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Split `split` of tfds `name` as uint8 (N, R, R, C) images, labels or None, classes."""
    import tensorflow_datasets as tfds

    builder = prepare_builder(name, data_dir)
    image_key, label_key, num_classes = _feature_keys(builder, name)
    known = sorted(builder.info.splits.keys())
    wanted = {part.split("[")[0].strip() for part in split.split("+")}
    if known and not wanted <= set(known):
        raise DataError(f"tfds dataset {name!r} has no split {split!r}; available splits: "
                        f"{', '.join(known)} (slices like 'train[:90%]' work too)")
    try:
        ds = builder.as_dataset(split=split, shuffle_files=False)
    except (ValueError, KeyError, AssertionError) as e:
        raise DataError(f"tfds dataset {name!r} cannot read split {split!r} ({_one_line(e)}); "
                        f"available splits: {', '.join(known) or 'unknown'}") from None
    keys = [image_key] + ([label_key] if label_key else [])
    ds = ds.map(lambda ex: {k: ex[k] for k in keys})
    fixed = builder.info.features[image_key].shape
    fixed = all(d is not None for d in fixed)
    images, labels = [], []
    if fixed:
        for chunk in tfds.as_numpy(ds.batch(_CHUNK)):
            images.append(to_resolution(chunk[image_key], resolution, channels))
            if label_key:
                labels.append(chunk[label_key])
    else:  # images of varying size: resize one by one
        for ex in tfds.as_numpy(ds):
            images.append(to_resolution(ex[image_key][None], resolution, channels))
            if label_key:
                labels.append(np.asarray(ex[label_key]).reshape(1))
    if not images:
        raise DataError(f"tfds dataset {name!r} split {split!r} has no examples")
    image_arr = np.concatenate(images)
    label_arr = np.concatenate(labels).astype(np.int32) if label_key else None
    return image_arr, label_arr, num_classes


def tfds_source(name: str, split: str, resolution: int, channels: int, seed: int,
                data_dir: str | None = None) -> ImageSource:
    """An `ImageSource` over a tfds catalog dataset."""
    images, labels, num_classes = load_tfds_arrays(name, split, resolution, channels, data_dir)
    return ImageSource(images, labels, num_classes, seed=seed, name=f"{name}:{split}")


__all__ = ["tfds_source", "load_tfds_arrays", "prepare_builder"]
