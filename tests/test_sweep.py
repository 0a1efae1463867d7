"""`jaxgan sweep`: K vmapped runs equal the same K runs done one at a time.

The one-at-a-time reference is the trainer's own compiled step (`setup_run`), so the test
also pins that vmapping over GANState, with learning rates inside the optimizer state,
changes nothing but the speed. Tolerance: float32 rounding. The comparison is over a few
iterations on purpose: vmapped matmuls sum in a different order, and Adam turns rounding
differences in near-zero gradients into learning-rate-sized steps, so over hundreds of
iterations two float32 runs of the same GAN drift apart chaotically whatever the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxgan import parallel
from jaxgan.cli.sweep import _parse_grid
from jaxgan.config import ConfigError, resolve
from jaxgan.state import init_state
from jaxgan.sweep import expand_runs, sweep
from jaxgan.trainer import setup_run

SPC = 2
OVR = ["train.steps=4", f"train.steps_per_call={SPC}", f"train.log_every={SPC}",
       "train.batch_size=64"]


def _one_at_a_time(cfg):
    run = setup_run(cfg)
    state = parallel.create_replicated(
        lambda: init_state(run.models, cfg.seed, run.sample_shape), run.mesh)
    batch = parallel.host_to_global(
        {"image": np.zeros((SPC, 1, 64, 1), np.float32)}, run.mesh, 2)
    for _ in range(2):
        state, m = run.step_fn(state, batch)
    return state, {k: float(v) / SPC for k, v in jax.device_get(m).items()}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    wd = tmp_path_factory.mktemp("sweep")
    cfg = resolve("toy_ring_vanilla", OVR)
    rows = sweep(cfg, [0, 3], {"optim.d.lr": ["1e-3", "3e-4"]}, wd, quiet=True)
    return cfg, rows, wd


def test_sweep_runs_equal_single_runs(swept):
    cfg, rows, _ = swept
    assert [(r["seed"], r["optim.d.lr"]) for r in rows] == [
        ("0", "1e-3"), ("0", "3e-4"), ("3", "1e-3"), ("3", "3e-4")]
    for row in rows:
        single_cfg = resolve("toy_ring_vanilla", OVR + [f"seed={row['seed']}",
                                                f"optim.d.lr={row['optim.d.lr']}"])
        ref, metrics = _one_at_a_time(single_cfg)
        got = row["state"]
        assert int(got.step) == int(ref.step) == 4
        for a, b in zip(jax.tree.leaves((got.g_params, got.d_params)),
                        jax.tree.leaves((ref.g_params, ref.d_params)), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
        assert abs(row["d_loss"] - metrics["d_loss"]) < 1e-4
        assert abs(row["g_loss"] - metrics["g_loss"]) < 1e-4


def test_sweep_writes_each_run(swept):
    _, rows, wd = swept
    for i in range(4):
        d = wd / f"run_{i:02d}"
        recs = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in recs] == [2, 4]
        assert "verdict" in recs[-1]
        assert (d / "samples" / "latest.png").stat().st_size > 0
        assert json.loads((d / "config.json").read_text())["seed"] == int(rows[i]["seed"])
    summary = json.loads((wd / "summary.json").read_text())
    assert len(summary) == 4 and all("modes" in r for r in summary)


def test_sweep_refuses_structural_keys():
    cfg = resolve("toy_ring_vanilla", OVR)
    with pytest.raises(ConfigError, match="model.mlp.hidden"):
        expand_runs(cfg, 1, {"model.mlp.hidden": ["64", "128"]})
    with pytest.raises(ConfigError, match="train.batch_size"):
        _parse_grid(["train.batch_size=32,64"])
    fixed, grid = _parse_grid(["train.steps=10", "optim.g.lr=1e-3,2e-3"])
    assert fixed == ["train.steps=10"] and grid == {"optim.g.lr": ["1e-3", "2e-3"]}


def test_sweep_on_two_devices_equals_one(swept, tmp_path):
    """The runs axis split over 2 forced host devices (2 runs each) trains the same runs."""
    out = tmp_path / "two.npz"
    subprocess.run([sys.executable, str(Path(__file__).with_name("_multidevice_sweep.py")),
                    "2", str(out)], check=True, capture_output=True)
    got = np.load(out)
    assert int(got["spread"]) == 2
    _, rows, _ = swept
    ref = [np.asarray(x) for r in rows for x in jax.tree.leaves((r["state"].g_params,
                                                                 r["state"].d_params))]
    assert len(ref) == len(got.files) - 1
    for i, r in enumerate(ref):
        np.testing.assert_allclose(got[f"arr_{i}"], r, rtol=1e-5, atol=1e-6)
