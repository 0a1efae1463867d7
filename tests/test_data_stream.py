"""The streaming source (Grain over ArrayRecord): same batches as the in-memory source,
each process reading only its share, exact resume, corrupt records in one line."""

import json

import jax
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan.data import DataError
from jaxgan.data.files import npz_source
from jaxgan.data.prepare import prepare
from jaxgan.data.records import open_records
from jaxgan.data.stream import StreamSource, arrayrecord_source, auto_streams
from jaxgan.run import float_images
from jaxgan.schema import DataConfig

N, RES = 90, 8  # 90 images: batches of 16 straddle epochs; 3 record files of 32


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 12, 12, 3), dtype=np.uint8)
    np.savez(root / "d.npz", images=images, labels=rng.integers(0, 5, N))
    out = prepare("npz", str(root / "d.npz"), root / "prep", RES, 1, progress=False,
                  per_file=32)
    return root, out


def _stream(out, seed=3, **kw) -> StreamSource:
    return StreamSource(open_records(out), RES, 1, seed=seed, **kw)


def test_prepare_writes_the_resized_images_and_labels(data):
    root, out = data
    rs = open_records(out)
    assert (rs.count, rs.resolution, rs.channels, rs.num_classes) == (N, RES, 1, 5)
    assert len(rs.files) == 3 and json.loads((out / "meta.json").read_text())["counts"] == \
        [32, 32, 26]
    mem = npz_source(str(root / "d.npz"), RES, 1, seed=0)
    np.testing.assert_array_equal(np.asarray(_stream(out).images), mem.images)
    np.testing.assert_array_equal(rs.labels, mem.labels)
    with pytest.raises(DataError, match="already exists"):  # never overwritten
        prepare("npz", str(root / "d.npz"), out, RES, 1, progress=False)


def test_prepare_a_folder_through_the_command_equals_the_folder_source(tmp_path, capsys):
    from PIL import Image

    from jaxgan.cli import main
    from jaxgan.data.files import folder_source

    rng = np.random.default_rng(2)
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    for i, (h, w) in enumerate([(20, 20), (17, 30), (40, 25), (9, 9), (64, 48)]):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
            tmp_path / "imgs" / ("sub" if i % 2 else "") / f"{i}.png")
    out = tmp_path / "prep"
    assert main(["prepare", "folder", str(tmp_path / "imgs"), "--out", str(out),
                 "--resolution", "16", "--encoding", "png", "--no-progress"]) == 0
    assert "data.source=arrayrecord" in capsys.readouterr().out
    rs = open_records(out)
    assert (rs.count, rs.encoding, rs.labels) == (5, "png", None)
    got = np.asarray(StreamSource(rs, 16, 3).images)
    np.testing.assert_array_equal(got, folder_source(str(tmp_path / "imgs"), 16, 3, 0).images)
    assert main(["prepare", "folder", str(tmp_path / "imgs"), "--out", str(out),
                 "--resolution", "16"]) == 2  # an existing folder is never overwritten
    assert "already exists" in capsys.readouterr().err


def test_prepare_a_tfds_split_keeps_its_labels(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from jaxgan.data.tfds_source import tfds_source

    with tfds.testing.mock_data(num_examples=12):
        out = prepare("tfds", "mnist", tmp_path / "prep", 16, 1, progress=False)
        mem = tfds_source("mnist", "train", 16, 1, seed=0)
    rs = open_records(out)
    assert (rs.count, rs.num_classes) == (12, 10)
    np.testing.assert_array_equal(rs.labels, mem.labels)
    np.testing.assert_array_equal(np.asarray(StreamSource(rs, 16, 1).images), mem.images)


@pytest.mark.parametrize("pc", [1, 2])
def test_stream_batches_equal_the_in_memory_source(data, pc):
    """Same seed, same samples: the uint8 images and labels of every process's slice, and
    the device-side scaling equals the host's to the bit (so training is identical)."""
    root, out = data
    mem, st = npz_source(str(root / "d.npz"), RES, 1, seed=3), _stream(out)
    scale = jax.jit(float_images(lambda state, batch: batch["image"]))
    for step in (0, 1, 5, 11):
        for pi in range(pc):
            a, b = mem.batch(step, 16, pi, pc), st.batch_uint8(step, 16, pi, pc)
            assert b["image"].dtype == np.uint8
            np.testing.assert_array_equal(b["label"], a["label"])
            np.testing.assert_array_equal(np.asarray(scale(None, b)), a["image"])
            np.testing.assert_array_equal(st.batch(step, 16, pi, pc)["image"], a["image"])


def test_grain_pipeline_equals_direct_reads_and_reads_only_the_share(data):
    """`batches` (Grain, read-ahead threads) serves round k as `batch(*plan(k))`; the two
    processes' slices concatenate to the one-process batch, each reading only its own."""
    _, out = data
    st = _stream(out)
    plan = lambda k: (k, 16)  # noqa: E731
    for pi in range(2):
        got = list(st.batches(plan, 3, 10, pi, 2))
        assert len(got) == 7
        for k, b in zip(range(3, 10), got, strict=True):
            np.testing.assert_array_equal(b["image"], st.batch_uint8(k, 16, pi, 2)["image"])
    whole = st.batch_uint8(7, 16)["image"]
    halves = [st.batch_uint8(7, 16, pi, 2)["image"] for pi in range(2)]
    np.testing.assert_array_equal(np.concatenate(halves), whole)
    asked = []
    source = st._direct
    source.read(np.arange(1))  # open the reader, then count what it is asked for
    inner = source._source.__getitems__
    source._source.__getitems__ = lambda idx: asked.extend(idx) or inner(idx)
    st.batch_uint8(7, 16, 1, 2)
    assert sorted(asked) == sorted(st.order.indices(7, 16, 1, 2).tolist()) and \
        len(asked) == 8


def test_grain_worker_processes_give_the_same_batches(data):
    _, out = data
    st, mp = _stream(out), _stream(out, workers=1)
    plan = lambda k: (k, 16)  # noqa: E731
    for a, b in zip(st.batches(plan, 0, 4), mp.batches(plan, 0, 4), strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])


def test_stream_auto_true_false(data, monkeypatch):
    _, out = data
    cfg = DataConfig(source="arrayrecord", path=str(out), resolution=RES, channels=1)
    assert type(arrayrecord_source(cfg, 0)).__name__ == "ImageSource"  # auto: small
    cfg.stream = "true"
    assert isinstance(arrayrecord_source(cfg, 0), StreamSource)
    assert auto_streams(5 << 30, memory=16 << 30) and not auto_streams(3 << 30, 16 << 30)
    with pytest.raises(config_lib.ConfigError, match="data.stream=true streams a prepared"):
        config_lib.resolve("dcgan_digits", ["data.stream=true"])


def test_without_grain_it_is_one_line(data, monkeypatch):
    import importlib.util

    _, out = data
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "grain" else real(name, *a))
    cfg = DataConfig(source="arrayrecord", path=str(out), resolution=RES, channels=1)
    with pytest.raises(DataError, match="data.source=arrayrecord needs grain, not installed: "
                                        "pip install grain$"):
        arrayrecord_source(cfg, 0)


def _corrupt_copy(out, dst, index):
    """`out` copied with one byte of record `index`'s image flipped."""
    import shutil

    shutil.copytree(out, dst)
    record = _stream(dst)._direct
    record.read(np.arange(1))
    payload = bytes(record._source[index])[8:]
    for path in sorted(dst.glob("*.array_record")):
        blob = bytearray(path.read_bytes())
        at = blob.find(payload)
        if at > 0:
            blob[at + 5] ^= 0xFF
            path.write_bytes(bytes(blob))
            return dst
    raise AssertionError("record not found")


def test_a_corrupt_record_is_one_line_and_nothing_is_lost(data, tmp_path, capsys):
    """A flipped byte in the first image of batch 2: steps 1 and 2 train and are saved,
    the third exits 2 with one line naming the record; what was written stays."""
    _, out = data
    seed = config_lib.resolve("dcgan_digits", []).seed
    bad_index = int(_stream(out, seed=seed).order.indices(2, 16)[0])
    bad = _corrupt_copy(out, tmp_path / "bad", bad_index)
    with pytest.raises(DataError, match=rf"record {bad_index} is corrupt \(RuntimeError: "):
        np.asarray(_stream(bad).images)  # riegeli's chunk hash caught it
    from jaxgan.data.records import encode_record

    rs = open_records(out)
    good = encode_record(np.zeros((RES, RES, 1), np.uint8), 2)
    assert rs.decode(good, 0)[1] == 2
    flipped = good[:12] + bytes([good[12] ^ 1]) + good[13:]
    with pytest.raises(DataError, match=r"record 7 is corrupt \(checksum mismatch\)"):
        rs.decode(flipped, 7)  # what riegeli's hashes do not cover, ours does

    from jaxgan.cli import main

    wd = tmp_path / "run"
    capsys.readouterr()
    rc = main(["train", "--workdir", str(wd), "model.g_width=8", "model.d_width=8",
               "model.latent_dim=8", "train.batch_size=16", "train.progress=false",
               "train.log_every=1", "train.checkpoint_every=1", "train.sample_every=100",
               "health.enabled=false", "data.source=arrayrecord",
               f"data.resolution={RES}", "data.channels=1", "data.stream=true",
               f"data.path={bad}", "train.steps=4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("jaxgan: data.path=")
    assert f"record {bad_index} is corrupt" in err[-1] and "Traceback" not in "\n".join(err)
    assert sorted(p.name for p in (wd / "checkpoints").iterdir() if p.name.isdigit()) == \
        ["1", "2"]
    assert [json.loads(line)["step"] for line in
            (wd / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_training_streamed_equals_in_memory_and_resumes_exactly(data, tmp_path):
    """The same run on the .npz (in memory, float on the host) and on its prepared copy
    (streamed, uint8 scaled on the device), and the streamed one stopped at step 2 and
    resumed: every leaf of the state bit-equal."""
    from jaxgan.trainer import train

    root, out = data
    common = ["model.g_width=8", "model.d_width=8", "model.latent_dim=8",
              "train.batch_size=16", "train.progress=false", "train.log_every=2",
              "train.checkpoint_every=2", "train.sample_every=100", "train.num_samples=16",
              "health.enabled=false", f"data.resolution={RES}", "data.channels=1"]
    npz = ["data.source=npz", f"data.path={root / 'd.npz'}"]
    stream = ["data.source=arrayrecord", f"data.path={out}", "data.stream=true"]

    def cfg(*extra):
        return config_lib.resolve("dcgan_digits", [*common, *extra])

    mem = train(cfg(*npz, "train.steps=4"), tmp_path / "mem")
    train(cfg(*stream, "train.steps=2"), tmp_path / "st")
    streamed = train(cfg(*stream, "train.steps=4"), tmp_path / "st")
    assert int(streamed.state.step) == 4
    a = jax.tree.leaves(jax.device_get(mem.state))
    b = jax.tree.leaves(jax.device_get(streamed.state))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_the_classifier_reads_a_bounded_random_subset_of_a_large_dataset(data, monkeypatch):
    """The health classifier of a dataset larger than `CLASSIFIER_IMAGES` trains on a
    fixed random subset, read by index (a streamed dataset is never read whole for it)."""
    from jaxgan import classifier

    _, out = data
    monkeypatch.setattr(classifier, "CLASSIFIER_IMAGES", 40)
    cfg = config_lib.resolve("dcgan_digits", ["data.source=arrayrecord", f"data.path={out}",
                                              f"data.resolution={RES}", "data.channels=1",
                                              "data.stream=true"])
    images, labels, k = classifier._labelled(cfg)
    idx = np.sort(np.random.default_rng(0).choice(N, 40, replace=False))
    full = np.asarray(_stream(out).images)
    assert images.shape == (40, RES, RES, 1) and k == 5
    np.testing.assert_array_equal(images, full[idx].astype(np.float32) / 127.5 - 1.0)
    np.testing.assert_array_equal(labels, open_records(out).labels[idx])
