"""Two JAX processes (gloo) streaming one prepared dataset train like one process.

Each process reads only its half of every global batch from the ArrayRecord files
(`StreamSource`); with the same mesh size (2 devices), the cluster's parameters equal
one process's bit for bit, as in tests/test_multihost.py for the on-device toy data.
"""

import numpy as np
from _reliability import assert_trees_equal, load_checkpoint, popen
from test_multihost import _finish, _free_port

from jaxgan.data.prepare import prepare


def test_two_streaming_processes_match_one_process(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "d.npz", images=rng.integers(0, 256, (70, 8, 8, 1), np.uint8))
    out = prepare("npz", str(tmp_path / "d.npz"), tmp_path / "prep", 8, 1, progress=False,
                  per_file=24)
    args = ["--config", "dcgan_digits", "model.g_width=8", "model.d_width=8",
            "model.latent_dim=8", "train.batch_size=16", "train.progress=false",
            "train.log_every=1", "train.checkpoint_every=3", "train.sample_every=100",
            "train.num_samples=16", "health.enabled=false", "data.source=arrayrecord",
            f"data.path={out}", "data.resolution=8", "data.channels=1", "data.stream=true",
            "train.steps=3"]
    port = _free_port()
    procs = [popen("train", "--workdir", str(tmp_path / "cluster"), "--coordinator",
                   f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i),
                   *args) for i in range(2)]
    procs.append(popen("train", "--workdir", str(tmp_path / "one"), *args, devices=2))
    _finish(procs)
    cluster, one = load_checkpoint(tmp_path / "cluster", 3), load_checkpoint(tmp_path / "one", 3)
    assert int(cluster["step"]) == 3
    assert assert_trees_equal(cluster, one) > 10
