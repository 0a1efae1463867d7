"""`jaxgan_digits`: a tfds dataset of the 8x8 handwritten digits that ship with scikit-learn.

scikit-learn's wheel contains the UCI optical-recognition digits (1,797 images, 8x8, values
0..16), so this is real data that prepares in seconds with no network: the default dataset
of presets, tests and CI. Going through a real tfds builder (rather than reading sklearn
directly) means the embedded default exercises the same code path as any tfds dataset.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

_DESCRIPTION = """\
The 8x8 handwritten digits of the UCI ML hand-written digits dataset as shipped by
scikit-learn (`sklearn.datasets.load_digits`): 1,797 grayscale images, values 0..16
rescaled to 0..255 (round(v * 255 / 16)), with their digit labels.
"""

_CITATION = """\
@misc{uci_digits,
  author = {Alpaydin, E. and Kaynak, C.},
  title = {Optical Recognition of Handwritten Digits},
  year = {1998},
  howpublished = {UCI Machine Learning Repository},
}
"""


def default_data_dir() -> str:
    """Where jaxgan prepares tfds data: `$JAXGAN_DATA_DIR`, else `~/.cache/jaxgan/tfds`."""
    env = os.environ.get("JAXGAN_DATA_DIR")
    if env:
        return env
    return str(Path.home() / ".cache" / "jaxgan" / "tfds")


@contextlib.contextmanager
def prepare_lock(data_dir: str, name: str) -> Iterator[None]:
    """Serialize dataset preparation between processes sharing `data_dir`.

    Two processes of one multi-process run on one machine would otherwise both build the
    dataset and race on tfds's final rename. Remote (`gs://...`) dirs are not locked.
    """
    if "://" in data_dir:
        yield
        return
    import fcntl

    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, f".{name}.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sklearn_digits_uint8() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as uint8 (1797, 8, 8, 1) in 0..255 and int64 labels (1797,)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return images, digits.target.astype(np.int64)


class JaxganDigits(tfds.core.GeneratorBasedBuilder):
    """tfds builder `jaxgan_digits`: one `train` split holding all 1,797 images."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: sklearn's 8x8 digits scaled to 0..255."}

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls) -> epath.Path:
        """This file. tfds's own lookup imports `importlib_resources`, which tfds 4.9.10 does
        not install, for any builder defined outside the tfds package."""
        return epath.Path(__file__)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(8, 8, 1), dtype=np.uint8),
                "label": tfds.features.ClassLabel(num_classes=10),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,  # keep sklearn's order: example i is load_digits() i
            homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):  # noqa: ARG002
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        images, labels = sklearn_digits_uint8()
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            yield i, {"image": image, "label": int(label)}


def load_digits_arrays(data_dir: str | None = None,
                       split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Prepare `jaxgan_digits` (once, no network) and return its uint8 images and labels."""
    data_dir = data_dir or default_data_dir()
    with prepare_lock(data_dir, "jaxgan_digits"):
        builder = JaxganDigits(data_dir=data_dir)
        builder.download_and_prepare()
    data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
    return data["image"], data["label"]


__all__ = ["JaxganDigits", "default_data_dir", "load_digits_arrays", "sklearn_digits_uint8"]
