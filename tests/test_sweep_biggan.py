"""`jaxgan sweep` with BigGAN: two vmapped biggan_digits runs (attention, classes, 2 D
steps, ortho reg, EMA) through the real command, each run's losses equal to the same run
done alone by the trainer's compiled step, and `SNConv`'s 1x1 case (a matmul, so
that the vmapped step compiles on XLA:CPU) equal to the 1x1 convolution it replaces.

The sweep runs in a subprocess with tests/_zoo_runner.py's cheap XLA pipeline: compiling
is most of its time, and the test checks behaviour, not kernel speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
from _zoo_runner import FAST_XLA

from jaxgan import parallel
from jaxgan.config import resolve
from jaxgan.models.layers import SNConv
from jaxgan.run import host_batch
from jaxgan.state import init_state
from jaxgan.trainer import setup_run

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")


def test_sn_conv_1x1_is_the_convolution():
    """Values and the power-iteration state against `lax.conv_general_dilated` on the
    same normalized kernel."""
    x = np.random.default_rng(0).normal(size=(3, 4, 4, 8)).astype(np.float32)
    conv = SNConv(5, (1, 1))
    variables = conv.init(jax.random.PRNGKey(0), x)
    variables = jax.tree.map(lambda v: v + 0.1, variables)  # a nonzero bias too
    got, upd = conv.apply(variables, x, mutable=["batch_stats"])
    w = variables["params"]["kernel"]
    mat, u = np.asarray(w).reshape(8, 5), np.asarray(variables["batch_stats"]["sn_u"])
    v = mat @ u / np.linalg.norm(mat @ u)
    u = v @ mat / np.linalg.norm(v @ mat)
    kernel = (mat / (v @ mat @ u)).reshape(1, 1, 8, 5)
    want = jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    want = np.asarray(want) + np.asarray(variables["params"]["bias"])
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(upd["batch_stats"]["sn_u"], u, rtol=1e-5, atol=1e-6)


OVR = ["model.g_width=2", "model.d_width=2", "train.batch_size=4", "train.steps=2",
       "train.log_every=1", "train.num_samples=4", "train.ema_start=1"]


def _alone(seed: int) -> list[dict[str, float]]:
    """The per-iteration metrics of run `seed` trained alone by the trainer's step."""
    run = setup_run(resolve("biggan_digits", [*OVR, f"seed={seed}"]))
    state = parallel.create_replicated(
        lambda: init_state(run.models, run.cfg.seed, run.sample_shape), run.mesh)
    out = []
    for s in range(2):
        batch = parallel.host_to_global(host_batch(run.cfg, run.source, s), run.mesh, 2)
        state, m = run.step_fn(state, batch)
        out.append({k: float(v) for k, v in jax.device_get(m).items()})
    return out


def test_jaxgan_sweep_trains_two_biggan_runs(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " " + FAST_XLA).strip()}
    wd = tmp_path / "sweep"
    out = subprocess.run(
        [EXE, "sweep", "--config", "biggan_digits", "--seeds", "2", "--workdir", str(wd),
         *OVR],
        env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads((wd / "summary.json").read_text())
    assert [(r["seed"], r["step"]) for r in rows] == [("0", 2), ("1", 2)]
    assert all(np.isfinite([r["d_loss"], r["g_loss"]]).all() and r["verdict"] for r in rows)
    assert rows[0]["d_loss"] != rows[1]["d_loss"]  # two seeds, two trainings
    for i in range(2):
        recs = [json.loads(ln) for ln in
                (wd / f"run_{i:02d}" / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in recs] == [1, 2] and recs[-1]["loss_name"] == "hinge"
        assert (wd / f"run_{i:02d}" / "samples" / "latest.png").stat().st_size > 0
    # run 1 of the vmapped sweep is the run seed 1 alone, to float32 rounding (the vmapped
    # convolutions and matmuls sum in another order), iteration by iteration
    for rec, ref in zip(recs, _alone(1), strict=True):
        for key in ("d_loss", "g_loss", "d_real_acc", "d_fake_acc"):
            np.testing.assert_allclose(rec[key], ref[key], rtol=1e-4, atol=1e-5,
                                       err_msg=key)
