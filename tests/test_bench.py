"""`jaxgan bench`: the report has the promised fields with sane values (no timing asserts)."""

from __future__ import annotations

import json
import math
import types

import jax
import pytest

import jaxgan.bench as bench_mod
from jaxgan.bench import (
    CPU_PEAK_SOURCE,
    MIN_CALLS,
    bench,
    device_peak,
    flops_per_step,
    prepare,
    step_flops,
)
from jaxgan.cli import main
from jaxgan.config import resolve

OVR = ["train.batch_size=8", "train.steps_per_call=2", "model.mlp.hidden=16"]
ONE = ["train.batch_size=8", "train.steps_per_call=1", "model.mlp.hidden=16"]


def test_bench_reports_every_field():
    cfg = resolve("toy_ring_vanilla", OVR)
    r = bench(cfg, steps=4, warmup=1, peak=1e9)
    for key in ("images_per_s", "steps_per_s", "compile_s", "flops_per_step", "mfu",
                "device_kind", "device_count", "calls", "ms_per_step_median"):
        assert key in r
    # --steps 4 is 2 calls of 2, but a spread needs several calls: MIN_CALLS of them
    assert r["calls"] == MIN_CALLS == 5 and r["steps"] == 10 and r["device_count"] >= 1
    assert r["ms_per_step_best_call"] <= r["ms_per_step_median"] <= r["ms_per_step_worst_call"]
    assert r["images_per_s"] == r["steps_per_s"] * 8
    assert r["compile_s"] > 0 and r["flops_per_step"] > 0
    assert math.isclose(r["mfu"], r["flops_per_step"] * r["steps_per_s"]
                        / (1e9 * r["device_count"]), rel_tol=1e-6)
    assert r["peak_source"] == "given"
    json.dumps(r)  # --json must be able to print it


def _cost(compiled):
    ca = compiled.cost_analysis()
    return (ca[0] if isinstance(ca, list | tuple) else ca)["flops"]


def test_flops_are_the_timed_programs_with_its_tricks():
    """The FLOPs divide the timed program's own count: R1's double backward is in it."""
    plain_cfg = resolve("toy_ring_vanilla", ONE)
    r1_cfg = resolve("toy_ring_vanilla", [*ONE, "tricks.r1_gamma=10"])
    plain = bench(plain_cfg, steps=1, warmup=0, peak=1e12)
    r1 = bench(r1_cfg, steps=1, warmup=0, peak=1e12)
    for cfg, r in ((plain_cfg, plain), (r1_cfg, r1)):
        assert r["flops_per_step"] == _cost(prepare(cfg).compiled) * jax.device_count()
    assert r1["flops_per_step"] > 1.01 * plain["flops_per_step"]  # R1 adds its backward


def test_flops_of_a_multi_step_call_count_every_iteration():
    """XLA counts a scan's body once; the per-step figure must count every iteration of
    the call at its own health level: with light signals every 4th iteration, a call of 16
    runs 12 health-off iterations, 3 light and the full last (`multistep.health_schedule`)."""
    full = flops_per_step(resolve("toy_ring_vanilla", ONE))
    off = flops_per_step(resolve("toy_ring_vanilla", [*ONE, "health.enabled=false"]))
    light = flops_per_step(resolve("toy_ring_vanilla", [*ONE, "health.light_every=1",
                                                        "train.steps_per_call=2"])) * 2 - full
    assert off < light < full
    call = prepare(resolve("toy_ring_vanilla", [*ONE, "train.steps_per_call=16",
                                                "health.light_every=4"]))
    raw = _cost(call.compiled) * jax.device_count() / 16  # what XLA alone says
    assert raw < 0.5 * off
    assert step_flops(call) == pytest.approx((12 * off + 3 * light + full) / 16, rel=0.02)


def test_flops_of_a_lazy_regularizer_are_its_average_share():
    """XLA counts a `lax.cond` as its costliest branch, so lazy R1 (every 4 D updates) must
    count a quarter of R1 at every update, measured by two programs without conds: no R1
    and R1 at every update (a plain penalty, no lazy term)."""
    plain = flops_per_step(resolve("toy_ring_vanilla", ONE))
    eager = flops_per_step(resolve("toy_ring_vanilla", [*ONE, "tricks.r1_gamma=10"]))
    lazy_p = prepare(resolve("toy_ring_vanilla",
                             [*ONE, "tricks.r1_gamma=10", "tricks.r1_every=4"]))
    assert lazy_p.lazy_everys == (4,)
    raw = _cost(lazy_p.compiled) * jax.device_count()  # what XLA alone says: R1 always
    assert raw == pytest.approx(eager, rel=0.05)
    assert step_flops(lazy_p) == pytest.approx(plain + (eager - plain) / 4, rel=0.05)
    assert step_flops(lazy_p) < plain + 0.5 * (eager - plain)  # a broken count is near eager


def test_peaks_are_datasheet_figures_or_none():
    assert device_peak("NVIDIA H200", "gpu", "bf16") == (989e12,
                                                         "datasheet bf16 peak of NVIDIA H200")
    assert device_peak("NVIDIA H100 80GB HBM3", "gpu", "float32")[0] == 67e12
    assert device_peak("NVIDIA A100-SXM4-40GB", "gpu", "float32")[0] == 19.5e12
    assert device_peak("TPU v5 lite", "tpu", "bf16")[0] == 197e12
    assert device_peak("TPU v4", "tpu", "float32") == (None, "no float32 peak for TPU v4")
    assert device_peak("NVIDIA Z100", "gpu", "bf16") == (None, "no peak for NVIDIA Z100")


def _bench_cli(capsys, *extra):
    args = ["bench", "--config", "toy_ring_vanilla", *ONE, "--steps", "1", "--warmup", "0"]
    assert main([*args, *extra]) == 0
    return capsys.readouterr().out


def test_unlisted_accelerator_prints_unknown_mfu(monkeypatch, capsys):
    fake = types.SimpleNamespace(device_kind="NVIDIA Z100", platform="gpu")
    monkeypatch.setattr(bench_mod, "_first_device", lambda: fake)
    monkeypatch.setattr(bench_mod, "measure_matmul_peak", lambda: pytest.fail("measured"))
    out = _bench_cli(capsys)
    assert "  mfu: unknown (no peak for NVIDIA Z100)" in out.splitlines()
    r = json.loads(_bench_cli(capsys, "--json"))
    assert r["mfu"] is None and r["peak_flops_per_s"] is None
    # a listed accelerator gets its datasheet figure, for the run's precision
    monkeypatch.setattr(bench_mod, "_first_device",
                        lambda: types.SimpleNamespace(device_kind="NVIDIA H200", platform="gpu"))
    r = json.loads(_bench_cli(capsys, "--json"))
    assert r["peak_flops_per_s"] == 67e12 * r["device_count"] and r["mfu"] > 0
    assert r["peak_source"] == "datasheet float32 peak of NVIDIA H200"


def test_cpu_peak_is_labelled_as_measured(monkeypatch, capsys):
    monkeypatch.setattr(bench_mod, "measure_matmul_peak", lambda: 5e10)
    out = _bench_cli(capsys)
    line = next(x for x in out.splitlines() if x.startswith("  mfu: "))
    assert line.endswith(f"({CPU_PEAK_SOURCE})") and "measured on this CPU" in line


def test_flops_scale_with_batch():
    """XLA's count for one iteration grows with the batch (the MLP part is linear in it)."""
    small = flops_per_step(resolve("toy_ring_vanilla", ONE))
    big = flops_per_step(resolve("toy_ring_vanilla", [*ONE, "train.batch_size=32"]))
    assert 2.5 < big / small < 8


def test_cli_bad_steps_is_one_line(capsys):
    assert main(["bench", "--config", "toy_ring_vanilla", "--steps", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--steps" in err[0]
