"""`jaxgan bench`: the report has the promised fields with sane values (no timing asserts)."""

from __future__ import annotations

import json
import math

from jaxgan.bench import bench, flops_per_step
from jaxgan.cli import main
from jaxgan.config import resolve

OVR = ["train.batch_size=8", "train.steps_per_call=2", "model.mlp_hidden=16"]


def test_bench_reports_every_field():
    cfg = resolve("toy_ring", OVR)
    r = bench(cfg, steps=4, warmup=1, peak=1e9)
    for key in ("images_per_s", "steps_per_s", "compile_s", "flops_per_step", "mfu",
                "device_kind", "device_count"):
        assert key in r
    assert r["steps"] == 4 and r["device_count"] >= 1
    assert r["images_per_s"] == r["steps_per_s"] * 8
    assert r["compile_s"] > 0 and r["flops_per_step"] > 0
    assert math.isclose(r["mfu"], r["flops_per_step"] * r["steps_per_s"] / 1e9
                        / r["device_count"] * r["device_count"], rel_tol=1e-6)
    json.dumps(r)  # --json must be able to print it


def test_flops_scale_with_batch():
    """XLA's count for one iteration grows with the batch (the MLP part is linear in it)."""
    small = flops_per_step(resolve("toy_ring", OVR))
    big = flops_per_step(resolve("toy_ring", [*OVR, "train.batch_size=32"]))
    assert 2.5 < big / small < 8


def test_cli_bad_steps_is_one_line(capsys):
    assert main(["bench", "--config", "toy_ring", "--steps", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--steps" in err[0]
