"""The real `jaxgan` command end to end, and its one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jaxgan.cli import main

TINY = ["data.resolution=8", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
        "train.batch_size=8", "train.num_samples=16"]


def jaxgan(*args, cwd=None):
    exe = os.path.join(os.path.dirname(sys.executable), "jaxgan")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=900,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})


def test_train_then_sample_end_to_end(tmp_path):
    wd = tmp_path / "run"
    r = jaxgan("train", "--workdir", str(wd), "train.steps=4", "train.log_every=2",
               "train.sample_every=2", "train.checkpoint_every=2", *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    records = [json.loads(line) for line in (wd / "metrics.jsonl").read_text().splitlines()]
    assert [rec["step"] for rec in records] == [2, 4]
    for key in ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_grad_norm",
                "d_grad_norm", "steps_per_s"):
        assert all(np.isfinite(rec[key]) for rec in records), key
    assert 0.0 <= records[-1]["d_real_acc"] <= 1.0
    grid = Image.open(wd / "samples" / "step_0000004.png")
    assert grid.size[0] >= 256 and grid.mode == "L"
    assert (wd / "samples" / "latest.png").read_bytes() == \
        (wd / "samples" / "step_0000004.png").read_bytes()
    assert any(p.name.startswith("events.out.tfevents") for p in (wd / "tensorboard").iterdir())
    assert sorted(p.name for p in (wd / "checkpoints").iterdir() if p.name.isdigit()) == \
        ["2", "4"]
    assert json.loads((wd / "config.json").read_text())["train"]["steps"] == 4

    r = jaxgan("sample", str(wd), "--num", "10", "--out", str(tmp_path / "s.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    samples = np.load(tmp_path / "s.npz")["samples"]
    assert samples.shape == (10, 8, 8, 1) and samples.dtype == np.float32
    # 4 steps of an 8-width generator: small but not constant outputs
    assert samples.min() >= -1.0 and samples.max() <= 1.0 and samples.std() > 1e-4
    r = jaxgan("sample", str(wd), "--num", "9", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0 and Image.open(tmp_path / "s.png").size[0] > 0

    # a checkpoint can be read without jaxgan, with plain orbax
    import orbax.checkpoint as ocp

    raw = ocp.PyTreeCheckpointer().restore(str(wd / "checkpoints" / "4" / "default"))
    assert int(raw["step"]) == 4 and "g_params" in raw


@pytest.mark.parametrize("args,message", [
    (["train", "--config", "nope"], "unknown preset 'nope'"),
    (["train", "train.steps=abc"], "train.steps must be an integer"),
    (["train", "data.resolution=48"], "data.resolution must be a power of two"),
    (["train", "bogus.key=1"], "unknown config key 'bogus.key'"),
    (["train", "--bogus-flag"], "unrecognized arguments"),
    (["sample", "/nonexistent/run"], "holds no config.json"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_real_command_bad_preset_no_traceback():
    r = jaxgan("train", "--config", "nope")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("jaxgan: unknown preset")
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("argv,flag,overrides", [
    (["train", "a.b=1", "--force", "c.d=2"], ("force", True), ["a.b=1", "c.d=2"]),
    (["bench", "a.b=1", "--json", "c.d=2"], ("json", True), ["a.b=1", "c.d=2"]),
    (["sweep", "--config", "toy_ring", "a.b=1,2", "--seeds", "3", "c.d=2"], ("seeds", 3),
     ["a.b=1,2", "c.d=2"]),
    (["eval", "RUN", "k=1", "--json", "j=2"], ("json", True), ["k=1", "j=2"]),
])
def test_options_and_overrides_in_any_order(argv, flag, overrides):
    """What users type: options between KEY=VALUEs must not cut the overrides short."""
    from jaxgan.cli import build_parser

    args = build_parser().parse_args(argv)
    assert getattr(args, flag[0]) == flag[1]
    assert args.overrides == overrides
