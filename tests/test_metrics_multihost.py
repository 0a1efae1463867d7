"""Inception features over two JAX processes (gloo CPU collectives) equal one process's.

Each process extracts only its share of the images (image i goes to process i % 2) and the
FID statistics are merged across processes from their exact float64 sums; the features
needed whole (KID, IS, precision/recall) are gathered back in stream order.
"""

import socket
import subprocess
import sys

import numpy as np
import pytest
from _reliability import env

from jaxgan.metrics import InceptionFeatures, compute_statistics
from jaxgan.metrics import weights as W
from jaxgan.metrics.distributed import process_share
from jaxgan.metrics.torch_pickle import save_state_dict

SCRIPT = """
import sys
import numpy as np
from jaxgan.parallel import maybe_initialize_distributed

assert maybe_initialize_distributed()  # JAXGAN_COORDINATOR, _NUM_PROCESSES, _PROCESS_ID
import jax
from jaxgan.metrics import InceptionFeatures, compute_statistics
from jaxgan.metrics.distributed import extract_all

weights, images, out = sys.argv[1:4]
x = np.load(images)
ext = InceptionFeatures(weights, batch_size=2)
stats = compute_statistics([x[:3], *x[3:]], extractor=ext)  # a batch, then single images
pool, logits = extract_all(ext, x)
np.savez(out, mu=stats.mu, sigma=stats.sigma, n=stats.n, pool=pool, logits=logits,
         processes=jax.process_count())
"""


def test_process_share_splits_images_not_items():
    items = [np.arange(3)[:, None, None, None] * np.ones((3, 2, 2, 1)), np.full((2, 2, 1), 3),
             np.arange(4, 8)[:, None, None, None] * np.ones((4, 2, 2, 1))]
    shares = [[int(a.reshape(-1, 4)[j, 0]) for a in process_share(items, i, 3)
               for j in range(len(a.reshape(-1, 4)))] for i in range(3)]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "random.pth"
    save_state_dict(W.random_state_dict(seed=1), path)
    return path


def test_two_processes_give_one_process_statistics_and_features(weights_file, tmp_path,
                                                                monkeypatch):
    x = np.random.default_rng(3).integers(0, 256, size=(5, 16, 16, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    port = _free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(weights_file), str(tmp_path / "x.npy"),
             str(tmp_path / f"out{i}.npz")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env(1, JAXGAN_COORDINATOR=f"127.0.0.1:{port}", JAXGAN_NUM_PROCESSES="2",
                    JAXGAN_PROCESS_ID=str(i), JAXGAN_CACHE_DIR=str(tmp_path / f"c{i}")))
        for i in range(2)
    ]
    # the one-process reference runs here, beside the cluster
    monkeypatch.setenv(W.ENV_CACHE, str(tmp_path / "cache"))
    ext = InceptionFeatures(weights_file, batch_size=2)
    one = compute_statistics([x[:3], *x[3:]], extractor=ext)
    pool, logits = ext([x])
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    a, b = (np.load(tmp_path / f"out{i}.npz") for i in range(2))
    assert int(a["processes"]) == 2 and int(a["n"]) == int(b["n"]) == one.n == 5
    for key in ("mu", "sigma", "pool", "logits"):  # every process holds the same result
        np.testing.assert_array_equal(a[key], b[key])
    scale = np.abs(one.sigma).max()
    np.testing.assert_allclose(a["mu"], one.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["sigma"], one.sigma, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(a["pool"], pool, rtol=1e-5, atol=1e-6)  # and in stream order
    np.testing.assert_allclose(a["logits"], logits, rtol=1e-5, atol=1e-5)
    assert np.abs(pool[0] - pool[1]).max() > 1e-2  # the rows differ: order is checked
