"""Folder and .npz sources from real files, including every user-error path."""

import numpy as np
import pytest
from PIL import Image

from jaxgan.config import DataConfig
from jaxgan.data import DataError, ImageSource, make_source


def _write_pngs(folder, n=5):
    """n images of different sizes and modes, pixel value 40 * i (so order is checkable)."""
    (folder / "sub").mkdir(parents=True)
    for i in range(n):
        size = (12 + 4 * i, 16)  # (width, height): non-square, varying
        value = 40 * i
        if i % 2:
            Image.new("RGB", size, (value, value, value)).save(folder / f"img{i}.png")
        else:
            sub = folder / "sub" if i == 4 else folder
            Image.new("L", size, value).save(sub / f"img{i}.jpg" if i == 2 else
                                             sub / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image")


def test_folder_source_loads_resizes_and_orders(tmp_path):
    _write_pngs(tmp_path)
    src = make_source(DataConfig(source="folder", path=str(tmp_path), resolution=8,
                                 channels=3), seed=0)
    assert isinstance(src, ImageSource) and len(src) == 5
    assert src.images.shape == (5, 8, 8, 3) and src.images.dtype == np.uint8
    assert src.labels is None and src.num_classes == 0
    # Sorted paths: img0, img1, img2.jpg, img3, sub/img4 -> constant images 0, 40, ... 160
    # (jpeg is lossy: allow a small error).
    means = src.images.reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose(means, [0, 40, 80, 120, 160], atol=2)
    b = src.batch(0, 4)
    assert b["image"].shape == (4, 8, 8, 3) and -1 <= b["image"].min() <= b["image"].max() <= 1
    gray = make_source(DataConfig(source="folder", path=str(tmp_path), resolution=16,
                                  channels=1), seed=0)
    assert gray.images.shape == (5, 16, 16, 1)


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        make_source(DataConfig(source="folder", path=str(tmp_path / "nope")), seed=0)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("x")
    with pytest.raises(DataError, match="contains no images"):
        make_source(DataConfig(source="folder", path=str(empty)), seed=0)
    bad = tmp_path / "bad"
    bad.mkdir()
    Image.new("L", (8, 8), 3).save(bad / "a.png")
    (bad / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    with pytest.raises(DataError, match=r"cannot read image .*b\.png"):
        make_source(DataConfig(source="folder", path=str(bad)), seed=0)
    truncated = tmp_path / "trunc"
    truncated.mkdir()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(truncated / "t.png")
    data = (truncated / "t.png").read_bytes()
    (truncated / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"t\.png"):
        make_source(DataConfig(source="folder", path=str(truncated)), seed=0)
    with pytest.raises(DataError, match="is not a folder"):
        make_source(DataConfig(source="folder", path=str(bad / "a.png")), seed=0)
    with pytest.raises(DataError, match="data.path must point"):
        make_source(DataConfig(source="folder", path=""), seed=0)


def test_npz_source_with_labels_and_2d_images(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 16, 16), dtype=np.uint8)
    labels = np.array([0, 1, 2, 0, 1, 4])
    np.savez(tmp_path / "d.npz", images=images, labels=labels)
    src = make_source(DataConfig(source="npz", path=str(tmp_path / "d.npz"), resolution=16,
                                 channels=1), seed=1)
    np.testing.assert_array_equal(src.images[..., 0], images)  # same size: untouched
    np.testing.assert_array_equal(src.labels, labels)
    assert src.num_classes == 5 and src.labels.dtype == np.int32
    b = src.batch(0, 6)
    ids = [int(np.flatnonzero((src.images == np.rint((im + 1) * 127.5)).all(axis=(1, 2, 3)))[0])
           for im in b["image"]]
    np.testing.assert_array_equal(b["label"], labels[ids])
    rgb = np.full((3, 32, 32, 3), (255, 0, 0), np.uint8)
    np.savez(tmp_path / "rgb.npz", images=rgb)
    src = make_source(DataConfig(source="npz", path=str(tmp_path / "rgb.npz"), resolution=8,
                                 channels=1), seed=1)
    assert src.images.shape == (3, 8, 8, 1) and src.labels is None
    np.testing.assert_array_equal(src.images, 76)  # luma of pure red


@pytest.mark.parametrize("arrays, message", [
    ({"imgs": np.zeros((2, 8, 8), np.uint8)}, r"no 'images' array \(found keys: imgs\)"),
    ({"images": np.zeros((2, 8, 8), np.float32)}, "dtype float32, not uint8"),
    ({"images": np.zeros((2, 8, 8, 2), np.uint8)}, r"'images' has shape \(2, 8, 8, 2\)"),
    ({"images": np.zeros((8, 8), np.uint8)}, r"'images' has shape \(8, 8\)"),
    ({"images": np.zeros((0, 8, 8), np.uint8)}, "empty"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.zeros(3, int)},
     r"'labels' has shape \(3,\) but 'images' has 2"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.zeros(2, float)},
     "not an integer type"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.array([0, -1])}, "negative"),
])
def test_npz_errors_name_what_is_wrong_and_expected(tmp_path, arrays, message):
    np.savez(tmp_path / "x.npz", **arrays)
    with pytest.raises(DataError, match=message) as e:
        make_source(DataConfig(source="npz", path=str(tmp_path / "x.npz")), seed=0)
    assert "expected an .npz with uint8 'images'" in str(e.value)
    assert "\n" not in str(e.value)


def test_npz_missing_or_corrupt_file(tmp_path):
    with pytest.raises(DataError, match="file does not exist"):
        make_source(DataConfig(source="npz", path=str(tmp_path / "no.npz")), seed=0)
    np.save(tmp_path / "single.npy", np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(DataError, match="single array, not an .npz"):
        make_source(DataConfig(source="npz", path=str(tmp_path / "single.npy")), seed=0)
    (tmp_path / "junk.npz").write_bytes(b"definitely not a zip file")
    with pytest.raises(DataError, match="cannot be read as .npz"):
        make_source(DataConfig(source="npz", path=str(tmp_path / "junk.npz")), seed=0)


def test_unknown_source_and_bad_channels():
    with pytest.raises(DataError, match="not allowed"):
        make_source(DataConfig(source="imagenet"), seed=0)
    with pytest.raises(DataError, match="channels must be 1 or 3"):
        make_source(DataConfig(source="npz", path="x.npz", channels=2), seed=0)


def _write_idx(path, array):
    """An IDX file of unsigned bytes as MNIST ships it (magic 0x0000080N, big-endian dims)."""
    import gzip

    head = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                    for d in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(head + np.ascontiguousarray(array, np.uint8).tobytes())


def test_idx_source_reads_mnist_files_by_split(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 9]))
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", test)  # not gzipped, no labels
    src = make_source(DataConfig(source="idx", path=str(tmp_path), split="train",
                                 resolution=28, channels=1), seed=0)
    np.testing.assert_array_equal(src.images[..., 0], train)
    np.testing.assert_array_equal(src.labels, [0, 1, 2, 3, 9])
    assert src.num_classes == 10
    src = make_source(DataConfig(source="idx", path=str(tmp_path), split="test",
                                 resolution=32, channels=1), seed=0)
    assert src.images.shape == (3, 32, 32, 1) and src.labels is None
    with pytest.raises(DataError, match="2 images-idx3-ubyte files"):
        make_source(DataConfig(source="idx", path=str(tmp_path), split=""), seed=0)
    with pytest.raises(DataError, match="without a slice"):
        make_source(DataConfig(source="idx", path=str(tmp_path), split="train[:5]"), seed=0)
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x03" + bytes(8))  # 3 dimensions, 2 given
    with pytest.raises(DataError, match="ends inside its header"):
        make_source(DataConfig(source="idx", path=str(tmp_path / "bad"), split="test"), seed=0)
    _write_idx(bad, np.zeros((2, 4, 4), np.uint8))
    bad.write_bytes(bad.read_bytes()[:-1])
    with pytest.raises(DataError, match="holds 31 bytes after its header, expected 32"):
        make_source(DataConfig(source="idx", path=str(tmp_path / "bad"), split="test"), seed=0)
    (tmp_path / "bad" / "t10k-images-idx3-ubyte").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(DataError, match="not an IDX file"):
        make_source(DataConfig(source="idx", path=str(tmp_path / "bad"), split="test"), seed=0)
