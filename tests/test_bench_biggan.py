"""BigGAN in the benchmarks: the PyTorch peer of `benchmarks/step_speed.py` is jaxgan's
network (its parameter tensors, counted two ways), and `jaxgan bench` counts a BigGAN
step's FLOPs as PyTorch's flop counter counts the peer's same iteration, with MFU.

The bench runs in a subprocess with tests/_zoo_runner.py's cheap XLA pipeline: compiling
the step is most of its time, and FLOPs do not depend on how well the kernels are built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the peer needs torch (test-only dependency)")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))

from _zoo_runner import FAST_XLA  # noqa: E402
from torch_biggan import peer_kwargs  # noqa: E402

from jaxgan.config import resolve  # noqa: E402
from jaxgan.run import sample_shape  # noqa: E402
from jaxgan.state import init_state, make_models  # noqa: E402

CIFAR_SMALL = ["model.g_width=4", "model.d_width=4", "model.biggan_shared_dim=8",
               "model.latent_dim=8"]


def _jax_sizes(cfg) -> tuple[list[int], list[int]]:
    models = make_models(cfg)
    st = jax.eval_shape(lambda: init_state(models, 0, sample_shape(cfg)))
    return tuple(sorted(int(np.prod(x.shape)) for x in jax.tree.leaves(p))
                 for p in (st.g_params, st.d_params))


# The PyTorch side runs in a process of its own that never imports JAX: torch's optimizers
# import torch._dynamo and with it triton, whose LLVM crashed (SIGSEGV) a pytest worker in
# which XLA had already compiled (tests/test_bench_biggan.py in a shared xdist worker).
PEER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from torch_biggan import BigGANPeer, param_sizes
kw = json.loads(sys.argv[2])
peer = BigGANPeer(**kw)
out = {"g": param_sizes(peer.G), "d": param_sizes(peer.D)}
if sys.argv[3] == "step":
    before = [p.detach().clone() for p in peer.G.parameters()]
    out["losses"] = [float(peer.step()) for _ in range(2)]
    out["moved"] = max(float((p.detach() - b).abs().max())
                       for p, b in zip(peer.G.parameters(), before, strict=True))
    out["lag"] = max(float((e - p.detach()).abs().max())
                     for e, p in zip(peer.ema, peer.G.parameters(), strict=True))
print("PEER " + json.dumps(out))
"""


def _peer(kwargs: dict, mode: str = "sizes") -> dict:
    out = subprocess.run([sys.executable, "-c", PEER, str(HERE.parent / "benchmarks"),
                          json.dumps(kwargs), mode], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("PEER ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    return json.loads(lines[-1][len("PEER "):])


@pytest.mark.parametrize("preset, overrides, g_total, d_total", [
    ("biggan_digits", [], 113_858, 191_234),
    ("biggan_cifar10", [], 9_416_196, 2_415_170),  # the preset's own widths
    ("biggan_cifar10", CIFAR_SMALL, 18_292, 17_522),
    ("biggan_digits", ["model.biggan_hier=false", "model.num_classes=0",
                       "model.attention_res=8"], 117_890, 185_473),
])
def test_torch_peer_has_jaxgans_parameter_tensors(preset, overrides, g_total, d_total):
    """Same multiset of tensor sizes, so the same layers: shared embedding, hierarchical
    split, linear cBN, attention where configured, projection D; the totals are pinned."""
    cfg = resolve(preset, overrides)
    jg, jd = _jax_sizes(cfg)
    peer = _peer({**peer_kwargs(cfg), "batch": 2})
    assert peer["g"] == jg and peer["d"] == jd
    assert (sum(jg), sum(jd)) == (g_total, d_total)


def test_torch_peer_iteration_runs_and_updates_the_ema():
    cfg = resolve("biggan_cifar10", [*CIFAR_SMALL, "train.batch_size=4", "train.n_critic=2",
                                      "train.ema_start=1"])
    peer = _peer(peer_kwargs(cfg), "step")
    assert all(np.isfinite(peer["losses"])) and peer["moved"] > 0
    # step 0 is before ema_start: the EMA copies G; step 1 averages, so it lags G
    assert peer["lag"] > 0


BENCH = """
import json, sys
sys.path.insert(0, sys.argv[1])
from torch.utils.flop_counter import FlopCounterMode
from jaxgan.bench import bench
from jaxgan.config import resolve
from torch_biggan import BigGANPeer, peer_kwargs
cfg = resolve("biggan_digits", sys.argv[2:])
peer = BigGANPeer(**peer_kwargs(cfg))
with FlopCounterMode(display=False) as counter:
    peer.step()
r = bench(cfg, steps=1, warmup=0, peak=1e12)
print("RESULT " + json.dumps({"torch_flops": counter.get_total_flops(), **r}))
"""


def test_bench_counts_biggans_flops_as_pytorch_counts_the_same_iteration():
    """jaxgan bench on biggan_digits (2 D steps, attention, hinge, ortho reg, EMA) at tiny
    widths: XLA's count of the timed program is within 5 % of torch's flop counter on the
    peer's iteration (measured 0.973; XLA counts elementwise work too, torch's counter
    only matmuls and convolutions, and the two differentiate D's input differently), and
    MFU is achieved FLOP/s over the given peak."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " " + FAST_XLA).strip()}
    out = subprocess.run([sys.executable, "-c", BENCH, str(HERE.parent / "benchmarks"),
                          "model.g_width=2", "model.d_width=2", "train.batch_size=4",
                          "health.enabled=false"],
                         env=env, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    r = json.loads(lines[-1][len("RESULT "):])
    assert r["config"] == "biggan_digits" and r["batch_size"] == 4
    assert 0.95 < r["flops_per_step"] / r["torch_flops"] < 1.05
    assert r["mfu"] == pytest.approx(r["flops_per_step"] * r["steps_per_s"]
                                     / (1e12 * r["device_count"]), rel=1e-6)
