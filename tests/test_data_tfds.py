"""tfds sources: the embedded `jaxgan_digits` builder for real, catalog datasets mocked."""

import numpy as np
import pytest
import requests
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from jaxgan.config import DataConfig
from jaxgan.data import DataError, ImageSource, make_source
from jaxgan.data.digits import JaxganDigits, load_digits_arrays


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def test_digits_builder_matches_sklearn(digits_dir):
    images, labels = load_digits_arrays(digits_dir)
    builder = JaxganDigits(data_dir=digits_dir)
    assert builder.name == "jaxgan_digits" and str(builder.version) == "1.0.0"
    assert builder.is_prepared()
    info = builder.info
    assert info.splits["train"].num_examples == 1797
    assert info.features["label"].num_classes == 10
    ref = load_digits()
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[..., 0], np.rint(ref.images * 255 / 16).astype(np.uint8))
    np.testing.assert_array_equal(labels, ref.target)
    assert images.max() == 255 and images.min() == 0


def test_digits_source_resizes_and_serves_batches(digits_dir):
    cfg = DataConfig(source="digits", path=digits_dir, resolution=16, channels=3)
    src = make_source(cfg, seed=0)
    assert isinstance(src, ImageSource) and len(src) == 1797 and src.num_classes == 10
    assert src.images.shape == (1797, 16, 16, 3)
    np.testing.assert_array_equal(src.images[..., 0], src.images[..., 2])  # gray -> RGB
    b = src.batch(0, 32)
    assert b["image"].shape == (32, 16, 16, 3)
    assert b["image"].min() == -1.0 and b["image"].max() <= 1.0
    np.testing.assert_array_equal(np.bincount(src.labels), np.bincount(load_digits().target))
    with pytest.raises(DataError, match="only a 'train' split"):
        make_source(DataConfig(source="digits", path=digits_dir, split="test"), seed=0)


def test_mnist_under_mock_data():
    with tfds.testing.mock_data(num_examples=20):
        src = make_source(DataConfig(source="tfds", name="mnist", resolution=32, channels=1),
                          seed=0)
    assert src.images.shape == (20, 32, 32, 1) and src.num_classes == 10
    assert src.labels.shape == (20,) and 0 <= src.labels.min() and src.labels.max() < 10
    b = src.batch(1, 8, 1, 2)
    assert b["image"].shape == (4, 32, 32, 1) and b["image"].dtype == np.float32
    assert -1.0 <= b["image"].min() and b["image"].max() <= 1.0 and b["image"].std() > 0.1


def test_cifar_to_grayscale_under_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        src = make_source(DataConfig(source="tfds", name="cifar10", split="test", resolution=16,
                                     channels=1), seed=0)
    assert src.images.shape == (6, 16, 16, 1)


def test_tfds_errors_are_one_line(monkeypatch, tmp_path):
    with pytest.raises(DataError, match="not a tfds dataset"):
        make_source(DataConfig(source="tfds", name="no_such_dataset_xyz"), seed=0)


def test_tfds_path_with_a_real_prepared_builder(digits_dir):
    load_digits_arrays(digits_dir)  # registers and prepares jaxgan_digits in digits_dir
    cfg = DataConfig(source="tfds", name="jaxgan_digits", path=digits_dir, split="train[:100]",
                     resolution=8)
    src = make_source(cfg, seed=0)
    np.testing.assert_array_equal(src.labels, load_digits().target[:100])
    with pytest.raises(DataError, match="has no split 'validation'; available splits: train"):
        make_source(DataConfig(source="tfds", name="jaxgan_digits", path=digits_dir,
                               split="validation"), seed=0)


def test_tfds_download_failure_is_one_line(monkeypatch, tmp_path):

    def offline(self, *args, **kwargs):
        raise requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='storage.googleapis.com', port=443): Max retries exceeded "
            "(Caused by NameResolutionError(\"Failed to resolve 'storage.googleapis.com'\"))")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    with pytest.raises(DataError) as e:
        make_source(DataConfig(source="tfds", name="mnist", path=str(tmp_path)), seed=0)
    msg = str(e.value)
    assert "\n" not in msg
    assert "'mnist' could not be downloaded (cannot resolve storage.googleapis.com)" in msg
    assert "tfds build mnist" in msg and "data.path=DIR" in msg and "data.source=npz" in msg
