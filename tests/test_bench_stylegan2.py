"""StyleGAN2-ADA in the benchmarks: the PyTorch peer of `benchmarks/step_speed.py`
(`benchmarks/torch_stylegan2.py`) is jaxgan's network, its iteration runs the lazy
regularizers and ADA's heuristic as jaxgan's does, and its augmentation is the identity
at p = 0 and keeps images in range. The peer runs in a process without JAX
(tests/_torch_peer.py, shared with the BigGAN peer's test).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the peer needs torch (test-only dependency)")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))

from _torch_peer import jax_param_sizes, run_peer  # noqa: E402
from torch_stylegan2 import peer_kwargs  # noqa: E402

from jaxgan.config import resolve  # noqa: E402

TINY = ["model.g_width=4", "model.d_width=4", "train.batch_size=4"]


def _peer(kwargs: dict, steps: int = 0) -> dict:
    return run_peer("torch_stylegan2", "StyleGAN2Peer", kwargs, steps)


@pytest.mark.parametrize("preset, overrides, g_total, d_total", [
    ("stylegan2_digits", [], 37_829, 45_569),
    ("stylegan2_cifar10", [], 19_947_539, 21_507_073),  # the preset's own widths
    ("stylegan2_digits", ["model.num_classes=10", "data.resolution=16", "data.channels=3"],
     61_102, 66_528),
])
def test_torch_peer_has_jaxgans_parameter_tensors(preset, overrides, g_total, d_total):
    """Same multiset of tensor sizes, so the same layers: mapping (with the class embedding
    when conditional), modulated convs with noise strengths, ToRGBs, the constant; D's
    FromRGB, residual blocks, stddev conv, FC and output (the class map when
    conditional); the totals are pinned."""
    cfg = resolve(preset, overrides)
    jg, jd = jax_param_sizes(cfg)
    peer = _peer({**peer_kwargs(cfg), "batch": 4, "mbstd_group": 4})
    assert peer["g"] == jg and peer["d"] == jd
    assert (sum(jg), sum(jd)) == (g_total, d_total)


def test_torch_peer_iteration_runs_the_lazy_regs_and_ada():
    """5 iterations from p = 0.5 with the intervals shortened (R1 every 4 D updates, path
    length every 2 G steps, p adjusted every 2 steps): R1 at D updates 0 and 4, path
    length at 0, 2 and 4 (pl_mean leaves 0), two adjustments of p by exactly one step."""
    cfg = resolve("stylegan2_digits", [*TINY, "tricks.ada_p=0.5", "tricks.ada_kimg=1"])
    kw = {**peer_kwargs(cfg), "r1_every": 4, "pl_every": 2, "ada_interval": 2}
    peer = _peer(kw, steps=5)
    assert all(np.isfinite(peer["losses"])) and peer["moved"] > 0 and peer["lag"] > 0
    a = peer["attrs"]
    assert a["t"] == 5 and a["count"] == 1  # one D(real) since the last adjustment
    step = 4 * 2 / 1000  # batch x interval / (kimg x 1000)
    moves = (a["p"] - 0.5) / step
    assert abs(moves - round(moves)) < 1e-6 and abs(round(moves)) in (0, 2)
    assert a["pl_mean"] > 0


AUG = """
import sys
sys.path.insert(0, sys.argv[1])
import torch
from torch_stylegan2 import ada_augment
torch.manual_seed(0)
for c in (1, 3):
    x = torch.rand(16, c, 8, 8) * 2 - 1
    same = float((ada_augment(x, 0.0) - x).abs().max())
    y = ada_augment(x, 1.0)
    moved = float((y - x).abs().mean())
    print("AUG", c, same, float(y.min()), float(y.max()), moved)
"""


def test_peer_augmentation_is_the_identity_at_p0_and_keeps_range():
    import subprocess

    out = subprocess.run([sys.executable, "-c", AUG, str(HERE.parent / "benchmarks")],
                         capture_output=True, text=True, timeout=300)
    rows = [ln.split()[1:] for ln in out.stdout.splitlines() if ln.startswith("AUG ")]
    assert out.returncode == 0 and len(rows) == 2, out.stderr[-2000:]
    for _, same, lo, hi, moved in rows:
        assert float(same) < 1e-5  # bilinear sampling at the pixel centres, no colour
        assert -1.0 <= float(lo) and float(hi) <= 1.0 and float(moved) > 0.1
