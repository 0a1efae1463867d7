"""BigGAN in the benchmarks: the PyTorch peer of `benchmarks/step_speed.py` is jaxgan's
network (its parameter tensors, counted two ways), and `jaxgan bench` counts a BigGAN
step's FLOPs as PyTorch's flop counter counts the peer's same iteration, with MFU.

The peer runs in a process without JAX, the bench in a subprocess with a cheap XLA
pipeline (tests/_torch_peer.py, shared with the StyleGAN2 peer's test).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the peer needs torch (test-only dependency)")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))

from _torch_peer import bench_beside_torch, jax_param_sizes, run_peer  # noqa: E402
from torch_biggan import peer_kwargs  # noqa: E402

from jaxgan.config import resolve  # noqa: E402

CIFAR_SMALL = ["model.g_width=4", "model.d_width=4", "model.biggan.shared_dim=8",
               "model.latent_dim=8"]


def _peer(kwargs: dict, steps: int = 0) -> dict:
    return run_peer("torch_biggan", "BigGANPeer", kwargs, steps)


@pytest.mark.parametrize("preset, overrides, g_total, d_total", [
    ("biggan_digits", [], 113_858, 191_234),
    ("biggan_cifar10", [], 9_416_196, 2_415_170),  # the preset's own widths
    ("biggan_cifar10", CIFAR_SMALL, 18_292, 17_522),
    ("biggan_digits", ["model.biggan.hier=false", "model.num_classes=0",
                       "model.attention_res=8"], 117_890, 185_473),
])
def test_torch_peer_has_jaxgans_parameter_tensors(preset, overrides, g_total, d_total):
    """Same multiset of tensor sizes, so the same layers: shared embedding, hierarchical
    split, linear cBN, attention where configured, projection D; the totals are pinned."""
    cfg = resolve(preset, overrides)
    jg, jd = jax_param_sizes(cfg)
    peer = _peer({**peer_kwargs(cfg), "batch": 2})
    assert peer["g"] == jg and peer["d"] == jd
    assert (sum(jg), sum(jd)) == (g_total, d_total)


def test_torch_peer_iteration_runs_and_updates_the_ema():
    cfg = resolve("biggan_cifar10", [*CIFAR_SMALL, "train.batch_size=4", "train.n_critic=2",
                                      "train.ema_start=1"])
    peer = _peer(peer_kwargs(cfg), steps=2)
    assert all(np.isfinite(peer["losses"])) and peer["moved"] > 0
    # step 0 is before ema_start: the EMA copies G; step 1 averages, so it lags G
    assert peer["lag"] > 0


def test_bench_counts_biggans_flops_as_pytorch_counts_the_same_iteration():
    """jaxgan bench on biggan_digits (2 D steps, attention, hinge, ortho reg, EMA) at tiny
    widths: XLA's count of the timed program is within 5 % of torch's flop counter on the
    peer's iteration (measured 0.973; XLA counts elementwise work too, torch's counter
    only matmuls and convolutions, and the two differentiate D's input differently), and
    MFU is achieved FLOP/s over the given peak."""
    r = bench_beside_torch("torch_biggan", "BigGANPeer", "biggan_digits",
                           ["model.g_width=2", "model.d_width=2", "train.batch_size=4",
                            "health.enabled=false"])
    assert r["config"] == "biggan_digits" and r["batch_size"] == 4
    assert 0.95 < r["flops_per_step"] / r["torch_flops"] < 1.05
    assert r["mfu"] == pytest.approx(r["flops_per_step"] * r["steps_per_s"]
                                     / (1e12 * r["device_count"]), rel=1e-6)
