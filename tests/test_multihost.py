"""Two JAX processes on this machine (gloo CPU collectives) train like one.

A real 2-process cluster through `jax.distributed.initialize`: each process feeds its own
half of the global batch, only process 0 writes logs and samples, orbax saves and restores
collectively. The run is resumed across a restart of both processes, and its parameters
equal those of one process with the same global batch.
"""

import json
import socket

import numpy as np
from _reliability import TOY, assert_trees_equal, load_checkpoint, popen

ARGS = [*TOY, "train.checkpoint_every=3"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cluster(workdir, steps: int) -> list:
    port = _free_port()
    return [popen("train", "--workdir", str(workdir), "--coordinator", f"127.0.0.1:{port}",
                  "--num-processes", "2", "--process-id", str(i), *ARGS,
                  f"train.steps={steps}") for i in range(2)]


def _finish(procs) -> list[tuple[str, str]]:
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
        assert "Traceback" not in err
    return outs


def test_two_processes_match_one_process_and_resume_collectively(tmp_path):
    wd = tmp_path / "cluster"
    # the references run beside the first half of the cluster run
    refs = [popen("train", "--workdir", str(tmp_path / "one2"), *ARGS, "train.steps=6",
                  devices=2),
            popen("train", "--workdir", str(tmp_path / "one1"), *ARGS, "train.steps=6")]
    _finish(_cluster(wd, 3))
    assert (wd / "checkpoints" / "3").is_dir()
    outs = _finish(_cluster(wd, 6))  # both processes restart and restore step 3 together
    _finish(refs)

    assert "jaxgan: step 6" in outs[0][0] and "jaxgan: step" not in outs[1][0]
    steps = [json.loads(line)["step"] for line in (wd / "metrics.jsonl").read_text()
             .splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # one writer, and the resume dropped nothing
    assert (wd / "samples" / "latest.png").is_file()

    cluster = load_checkpoint(wd, 6)
    assert int(cluster["step"]) == 6
    # same mesh size (2 devices): the same all-reduce, so bit-for-bit the same numbers
    assert assert_trees_equal(cluster, load_checkpoint(tmp_path / "one2", 6)) > 10
    # one device: the gradient mean is summed in another order, so equal up to rounding
    single = load_checkpoint(tmp_path / "one1", 6)
    import jax

    for x, y in zip(jax.tree.leaves(cluster), jax.tree.leaves(single), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)
