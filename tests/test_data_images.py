"""ImageSource batches: determinism in (seed, step), epoch coverage, process slicing, resize."""

import numpy as np
import pytest

from jaxgan.data import DataError, ImageSource
from jaxgan.data.images import convert_channels, to_resolution


def _source(n: int = 50, seed: int = 0, labelled: bool = True) -> ImageSource:
    # Image i is filled with the value i, so a batch's pixels identify its indices.
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None],
                             (n, 4, 4, 1)).copy()
    labels = np.arange(n) % 7 if labelled else None
    return ImageSource(images, labels, 7 if labelled else 0, seed=seed)


def _ids(batch: dict) -> np.ndarray:
    return np.rint((batch["image"][:, 0, 0, 0] + 1) * 127.5).astype(int)


def test_batch_dtype_shape_and_range():
    b = _source().batch(0, 8)
    assert b["image"].dtype == np.float32 and b["image"].shape == (8, 4, 4, 1)
    assert b["label"].dtype == np.int32 and b["label"].shape == (8,)
    assert b["image"].min() >= -1.0 and b["image"].max() <= 1.0
    np.testing.assert_array_equal(b["label"], _ids(b) % 7)
    extremes = ImageSource(np.array([0, 255], np.uint8).reshape(2, 1, 1, 1))
    assert sorted(extremes.batch(0, 2)["image"].ravel().tolist()) == [-1.0, 1.0]


def test_same_seed_and_step_is_bit_identical_and_steps_differ():
    a, b = _source(seed=3), _source(seed=3)
    for step in (0, 5, 17, 1000):
        x, y = a.batch(step, 16), b.batch(step, 16)
        np.testing.assert_array_equal(x["image"], y["image"])
        np.testing.assert_array_equal(x["label"], y["label"])
    assert not np.array_equal(a.batch(0, 16)["image"], a.batch(1, 16)["image"])
    assert not np.array_equal(a.batch(0, 16)["image"], _source(seed=4).batch(0, 16)["image"])
    # Out-of-order calls (a resume at step 17) give the same batch as in-order ones.
    fresh = _source(seed=3)
    np.testing.assert_array_equal(fresh.batch(17, 16)["image"], a.batch(17, 16)["image"])


def test_one_epoch_visits_every_index_exactly_once():
    src = _source(n=50)
    ids = np.concatenate([_ids(src.batch(s, 10)) for s in range(5)])
    np.testing.assert_array_equal(np.sort(ids), np.arange(50))
    second = np.concatenate([_ids(src.batch(s, 10)) for s in range(5, 10)])
    np.testing.assert_array_equal(np.sort(second), np.arange(50))
    assert not np.array_equal(ids, second)  # a fresh permutation per epoch


def test_batches_straddling_epochs_follow_the_epoch_sequence():
    src = _source(n=50, seed=1)
    seq = np.concatenate([np.random.default_rng([1, e]).permutation(50) for e in range(4)])
    for step in range(12):  # B=16 does not divide 50: batches straddle epoch ends
        np.testing.assert_array_equal(_ids(src.batch(step, 16)), seq[step * 16:(step + 1) * 16])
    big = src.batch(0, 120)  # a batch larger than the dataset spans three epochs
    np.testing.assert_array_equal(_ids(big), seq[:120])


def test_process_slices_concatenate_to_the_global_batch():
    src = _source(n=50, seed=2)
    for step in (0, 3, 7):
        whole = src.batch(step, 16)
        for count in (2, 4):
            parts = [src.batch(step, 16, i, count) for i in range(count)]
            assert all(p["image"].shape[0] == 16 // count for p in parts)
            for key in ("image", "label"):
                np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]),
                                              whole[key])
    with pytest.raises(DataError, match="multiple of the process count"):
        src.batch(0, 15, 0, 2)


def test_unlabelled_batches_have_zero_labels():
    src = _source(labelled=False)
    assert src.num_classes == 0
    np.testing.assert_array_equal(src.batch(2, 8)["label"], np.zeros(8, np.int32))


def test_to_resolution_shapes_and_values():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(3, 20, 30, 3), dtype=np.uint8)
    out = to_resolution(rgb, 8, 3)
    assert out.shape == (3, 8, 8, 3) and out.dtype == np.uint8
    gray = to_resolution(rgb, 16, 1)
    assert gray.shape == (3, 16, 16, 1)
    # A constant image stays constant through crop + antialiased resize, either direction.
    const = np.full((2, 7, 7, 1), 200, np.uint8)
    np.testing.assert_array_equal(to_resolution(const, 32, 1), 200)
    np.testing.assert_array_equal(to_resolution(np.full((1, 64, 48, 1), 9, np.uint8), 8, 3), 9)
    # Antialiasing: a 1-pixel checkerboard shrunk 4x averages to mid-gray, not aliased 0/255.
    board = ((np.indices((32, 32)).sum(0) % 2) * 255).astype(np.uint8)[None, ..., None]
    small = to_resolution(board, 8, 1).astype(int)
    assert np.all(np.abs(small[:, 1:-1, 1:-1] - 127) <= 2)


def test_channel_conversion_uses_luma_and_repetition():
    px = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]]], np.uint8)
    np.testing.assert_array_equal(convert_channels(px, 1)[0, 0, :, 0], [76, 150, 29, 18])
    gray = np.array([[[[7], [250]]]], np.uint8)
    np.testing.assert_array_equal(convert_channels(gray, 3)[0, 0], [[7, 7, 7], [250] * 3])
    rgba = np.zeros((1, 2, 2, 4), np.uint8)
    assert convert_channels(rgba, 3).shape == (1, 2, 2, 3)


def test_bad_images_are_refused():
    with pytest.raises(DataError, match="no images"):
        ImageSource(np.zeros((0, 4, 4, 1), np.uint8))
    with pytest.raises(DataError, match="uint8"):
        ImageSource(np.zeros((2, 4, 4, 1), np.float32))
    with pytest.raises(DataError, match="3 labels for 2 images"):
        ImageSource(np.zeros((2, 4, 4, 1), np.uint8), np.zeros(3), 2)


def test_num_classes_is_inferred_and_checked():
    images = np.zeros((4, 2, 2, 1), np.uint8)
    assert ImageSource(images, np.array([0, 3, 1, 1])).num_classes == 4
    with pytest.raises(DataError, match=r"labels must be in \[0, 2\)"):
        ImageSource(images, np.array([0, 3, 1, 1]), 2)
