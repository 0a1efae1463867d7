"""Preprocessing, batched/sharded feature extraction and the fid command, with random
weights in the real architecture (the real file cannot be downloaded here)."""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jaxgan.cli.fid import add_fid_parser
from jaxgan.metrics import InceptionFeatures, MetricsError, compute_statistics
from jaxgan.metrics import weights as W
from jaxgan.metrics.preprocess import to_inception_input
from jaxgan.metrics.torch_pickle import save_state_dict


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("inception")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(W.ENV_CACHE, str(root / "cache"))
        path = root / "random.pth"
        save_state_dict(W.random_state_dict(seed=0), path)
        yield path


@pytest.fixture(scope="module")
def extractor(weights_file):
    return InceptionFeatures(weights_file, batch_size=4)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(6, 16, 16, 3), dtype=np.uint8)


def test_resize_follows_torch_bilinear_half_pixel():
    # F.interpolate(align_corners=False) doubling [a, b]: a, 3/4 a + 1/4 b, 1/4 a + 3/4 b, b
    x = np.array([[0, 255]], np.uint8)[:, :, None].repeat(3, -1)[None]  # 1x1x2x3
    out = np.asarray(to_inception_input(np.repeat(x, 2, axis=1), size=4))
    np.testing.assert_allclose(out[0, 0, :, 0], [-1.0, -0.5, 0.5, 1.0], atol=1e-6)
    # shrinking uses two taps, no antialiasing: 4 -> 2 picks the mean of pixels 1 and 2... of
    # each half-pixel window: src = (i + 0.5) * 2 - 0.5 = 0.5, 2.5
    y = np.array([0, 100, 200, 40], np.uint8)[None, None, :, None].repeat(3, -1).repeat(2, 1)
    out = np.asarray(to_inception_input(y, size=2))
    np.testing.assert_allclose((out[0, 0, :, 0] + 1) / 2 * 255, [50.0, 120.0], atol=1e-4)
    const = np.full((1, 7, 9, 3), 77, np.uint8)
    np.testing.assert_allclose(np.asarray(to_inception_input(const)), 2 * 77 / 255 - 1, atol=1e-6)


def test_features_are_batch_invariant_and_padding_free(extractor, images):
    pool, logits = extractor([images])  # 6 images: one full batch of 4, one padded batch
    assert pool.shape == (6, 2048) and logits.shape == (6, 1008)
    assert np.isfinite(pool).all() and 0.05 < pool.std() < 20  # random weights, O(1) features
    single, _ = extractor(list(images[:1]), with_logits=False)
    np.testing.assert_allclose(single[0], pool[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "size, stride, cin, cout",
    [(15, 1, 3, 4), (13, 1, 5, 8), (15, 2, 3, 4), (17, 2, 6, 5), (16, 2, 2, 3)],
)
def test_unpadded_conv_reformulation_is_exact(size, stride, cin, cout):
    """The fast padding (stride 1: pad and crop; stride 2: a never-read padded edge, and
    plain VALID when the edge would be read, size 16) gives an unpadded conv's numbers."""
    import jax
    import jax.numpy as jnp

    from jaxgan.metrics.inception import BasicConv, _fast_padding

    assert _fast_padding(149, 3, 1, 0) == ((1, 1), 1)
    assert _fast_padding(35, 3, 2, 0) == ((0, 1), 0)
    assert _fast_padding(16, 3, 2, 0) == ((0, 0), 0)
    assert _fast_padding(35, 3, 1, 1) == ((1, 1), 0)
    rng = np.random.default_rng(size + stride)
    x = jnp.asarray(rng.standard_normal((2, size, size, cin)), jnp.float32)
    kernel = jnp.asarray(rng.standard_normal((3, 3, cin, cout)), jnp.float32)
    bias = jnp.asarray(rng.standard_normal(cout), jnp.float32)
    params = {"conv": {"kernel": kernel, "bias": bias}}
    out = BasicConv(cout, 3, stride=stride).apply({"params": params}, x)
    ref = jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    ref = jax.nn.relu(ref + bias)
    n = (size - 3) // stride + 1
    assert out.shape == ref.shape == (2, n, n, cout)
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-6, atol=1e-6)


def test_chunked_calls_round_the_batch_and_agree(extractor, images, monkeypatch):
    from jaxgan.metrics import features

    params = extractor.params
    wide = InceptionFeatures(params=params, batch_size=50, chunk=16)
    assert (wide.batch_size, wide.chunk) == (64, 16)  # one compiled shape for every call
    assert InceptionFeatures(params=params, batch_size=32, chunk=16).batch_size == 32
    small = InceptionFeatures(params=params, batch_size=5, chunk=2)
    assert (small.batch_size, small.chunk) == (6, 2)
    shapes = []
    forward = features._forward

    def counting(p, x):
        shapes.append(x.shape[0])
        return forward(p, x)

    monkeypatch.setattr(features, "_forward", counting)
    # 3 images in a buffer of 6: a chunk of 2 and one of 1 (+1 padding); the empty third
    # chunk is never run
    chunked, _ = small([images[:3]], with_logits=False)
    assert shapes == [2, 2]
    whole, _ = extractor([images[:3]], with_logits=False)
    assert chunked.shape == (3, 2048)
    np.testing.assert_allclose(chunked, whole, rtol=1e-4, atol=1e-5)


def test_progress_bar_only_on_a_terminal_and_counts_images(extractor, images):
    import io

    from jaxgan.metrics.features import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert progress_bar(3, "Inception", file=io.StringIO()) is None  # a pipe or a log
    assert progress_bar(3, "Inception", enabled=False, file=Terminal()) is None
    screen = Terminal()
    bar = progress_bar(3, "Inception", file=screen)
    pool, _ = extractor([images[:3]], with_logits=False, progress=bar)
    assert bar.n == 3 == len(pool)
    bar.close()
    assert "Inception" in screen.getvalue()


def test_gray_alpha_and_host_resize(weights_file, extractor, images):
    gray = images[:2, :, :, 0]
    rgba = np.concatenate([images[:2], np.full((2, 16, 16, 1), 7, np.uint8)], -1)
    # HW images, NHW1 and NHWC4 batches share one batch stream of 16x16 RGB images
    pool, _ = extractor([*gray, gray[..., None], rgba[:1], images[:1]], with_logits=False)
    np.testing.assert_allclose(pool[:2], pool[2:4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pool[4], pool[5], rtol=1e-5, atol=1e-6)
    # past max_sizes distinct sizes, images are resized on the host: same numbers
    host = InceptionFeatures(weights_file, batch_size=4, max_sizes=0)
    np.testing.assert_allclose(host([images[:1]])[0], pool[5:], rtol=1e-4, atol=1e-5)
    with pytest.raises(MetricsError, match="expected uint8"):
        extractor([images.astype(np.float32)])


def test_sharded_extraction_on_two_devices(weights_file, extractor, images, tmp_path):
    expected, _ = extractor([images[:3]])
    script = (
        "import sys, numpy as np, jax\n"
        "from jaxgan.metrics import InceptionFeatures\n"
        "assert len(jax.devices()) == 2\n"
        "x = np.load(sys.argv[2])\n"
        "ext = InceptionFeatures(sys.argv[1], batch_size=3)\n"
        "assert ext.batch_size == 4\n"
        "np.save(sys.argv[3], ext([x], with_logits=False)[0])\n"
    )
    np.save(tmp_path / "x.npy", images[:3])
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(weights_file),
            str(tmp_path / "x.npy"),
            str(tmp_path / "out.npy"),
        ],
        check=True,
        env=env,
        timeout=300,
    )
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-4, atol=1e-5)


def _run_cli(argv, capsys):
    parser = argparse.ArgumentParser()
    add_fid_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_fid_command(weights_file, extractor, images, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, im in enumerate(images[:4]):
        Image.fromarray(im).save(folder / f"{i}.png")
    np.savez(tmp_path / "other.npz", images=images[2:])
    stats = compute_statistics([images[:4]], extractor=extractor)
    stats.save(tmp_path / "stats.npz")

    # two FIDs only: each is a 2048 x 2048 eigendecomposition
    code, out = _run_cli(
        [
            "fid",
            str(folder),
            str(tmp_path / "stats.npz"),
            "--weights",
            str(weights_file),
            "--json",
            "--batch-size",
            "4",
        ],
        capsys,
    )
    assert code == 0 and abs(json.loads(out)["fid"]) < 1e-6  # same images, same batches
    code, out = _run_cli(
        [
            "fid",
            str(folder),
            str(tmp_path / "other.npz"),
            "--weights",
            str(weights_file),
            "--batch-size",
            "4",
        ],
        capsys,
    )
    assert code == 0 and out.startswith("FID: ") and float(out.split()[1]) > 1.0
    with pytest.raises(MetricsError, match="weights file not found"):
        _run_cli(["fid", str(folder), str(folder), "--weights", str(tmp_path / "no.pth")], capsys)


def test_reference_statistics_are_cached_by_key(weights_file, images, tmp_path):
    from jaxgan.metrics import reference_statistics
    from jaxgan.metrics.reference import reference_path

    first = reference_statistics(
        "digits",
        "test",
        16,
        lambda: [images[:4]],
        weights=weights_file,
        batch_size=4,
        folder=tmp_path,
    )
    (path,) = tmp_path.glob("*.npz")
    assert path == reference_path("digits", "test", 16, W.sha256_of(weights_file), folder=tmp_path)
    assert path.name.startswith("digits_test_16px_pytorch-fid-bilinear299_")

    def must_not_run():
        raise AssertionError("cached statistics should have been used")

    second = reference_statistics(
        "digits", "test", 16, must_not_run, weights=weights_file, folder=tmp_path
    )
    np.testing.assert_array_equal(first.mu, second.mu)
    np.testing.assert_array_equal(first.sigma, second.sigma)
    assert second.n == 4
