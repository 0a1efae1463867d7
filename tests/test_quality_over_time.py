"""`benchmarks/quality_over_time.py`: it scores every kept checkpoint of a real run, and its
score of the last one equals the judge's score of what `jaxgan sample` writes for that run
(two paths to the same samples), so its table can stand beside the monitor's verdicts."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from judge import MNIST_DIR, MnistJudge, frechet_distance  # noqa: E402
from quality import EXE, load_data  # noqa: E402
from quality_over_time import main  # noqa: E402


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the shared MNIST test set is not here")
def test_scores_each_kept_checkpoint_as_jaxgan_sample_does(tmp_path):
    out = tmp_path / "qot.json"
    assert main(["--data", "mnist", "--seed", "1", "--every", "20", "--num", "200",
                 "--json", str(out), "--set", "train.steps=40", "train.log_every=10",
                 "train.sample_every=40", "model.g_width=8", "model.d_width=8"]) == 0
    res = json.loads(out.read_text())
    rows = res["rows"]
    assert [r["step"] for r in rows] == [20, 40]
    wd = res["workdir"]
    said = [json.loads(x).get("verdict") for x in open(os.path.join(wd, "metrics.jsonl"))]
    assert rows[-1]["verdict"] == [v for v in said if v][-1]
    # the same EMA samples by the real command, scored by a judge built here
    npz = tmp_path / "s.npz"
    r = subprocess.run([EXE, "sample", wd, "--num", "200", "--seed", "777", "--out", str(npz)],
                       capture_output=True, text=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0, r.stderr[-2000:]
    x = np.load(npz)["samples"][..., 0]
    judge = MnistJudge(load_data("mnist")[0])
    fd = frechet_distance(judge.features(x), judge.held_features)
    np.testing.assert_allclose(rows[-1]["ema_fd"], fd, rtol=1e-5)
    assert rows[-1]["ema_confident"] == judge.score(x).as_dict()["confident"]
    # 40 steps of width-8 networks are far from digits: a judge that passed noise would fail
    assert rows[-1]["ema_fd"] > 3 * res["fd_floor"]
    shutil.rmtree(os.path.dirname(wd))  # the script's own temporary folder
