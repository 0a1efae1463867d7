"""The PyTorch peers of `benchmarks/step_speed.py` (`torch_biggan`, `torch_stylegan2`)
against jaxgan, shared by the family bench tests: jaxgan's parameter tensor sizes, a peer
built and stepped in a process of its own, and `jaxgan bench`'s FLOP count beside torch's
flop counter on the peer's same iteration.

Why subprocesses: torch's optimizers import torch._dynamo and with it triton, whose LLVM
crashed (SIGSEGV) a pytest worker in which XLA had already compiled; the peer process never
imports JAX. The FLOP process imports both, torch's step first; its bench uses
tests/_zoo_runner.py's cheap XLA pipeline (FLOPs do not depend on how well kernels build).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

from jaxgan.run import sample_shape
from jaxgan.state import init_state, make_models

HERE = Path(__file__).parent
BENCHMARKS = HERE.parent / "benchmarks"


def jax_param_sizes(cfg) -> tuple[list[int], list[int]]:
    """Sorted sizes of G's and D's parameter tensors, from shapes only (no compile)."""
    models = make_models(cfg)
    st = jax.eval_shape(lambda: init_state(models, 0, sample_shape(cfg)))
    return tuple(sorted(int(np.prod(x.shape)) for x in jax.tree.leaves(p))
                 for p in (st.g_params, st.d_params))


PEER = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
cls = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])
kw = json.loads(sys.argv[4])
peer = cls(**kw)
def sizes(m):  # trainable tensors only (spectral norm's u and v are buffers)
    return sorted(p.numel() for p in m.parameters())
out = {"g": sizes(peer.G), "d": sizes(peer.D)}
if int(sys.argv[5]):
    before = [p.detach().clone() for p in peer.G.parameters()]
    out["losses"] = [float(peer.step()) for _ in range(int(sys.argv[5]))]
    out["moved"] = max(float((p.detach() - b).abs().max())
                       for p, b in zip(peer.G.parameters(), before, strict=True))
    out["lag"] = max(float((e - p.detach()).abs().max())
                     for e, p in zip(peer.ema, peer.G.parameters(), strict=True))
    out["attrs"] = {k: float(v) for k, v in vars(peer).items()
                    if isinstance(v, (int, float)) or getattr(v, "ndim", None) == 0}
print("PEER " + json.dumps(out))
"""


def _result(out: subprocess.CompletedProcess, tag: str) -> dict:
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(tag + " ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    return json.loads(lines[-1][len(tag) + 1:])


def run_peer(module: str, cls: str, kwargs: dict, steps: int = 0) -> dict:
    """Build `module.cls(**kwargs)` without JAX; its tensor sizes and, after `steps`
    iterations, the losses, how far G moved, how far the EMA lags and the peer's scalars."""
    out = subprocess.run([sys.executable, "-c", PEER, str(BENCHMARKS), module, cls,
                          json.dumps(kwargs), str(steps)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    return _result(out, "PEER")


BENCH = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from torch.utils.flop_counter import FlopCounterMode
from jaxgan.bench import bench
from jaxgan.config import resolve
mod = importlib.import_module(sys.argv[2])
cfg = resolve(sys.argv[4], sys.argv[5:])
peer = getattr(mod, sys.argv[3])(**mod.peer_kwargs(cfg))
with FlopCounterMode(display=False) as counter:
    peer.step()
r = bench(cfg, steps=1, warmup=0, peak=1e12)
print("RESULT " + json.dumps({"torch_flops": counter.get_total_flops(), **r}))
"""


def bench_beside_torch(module: str, cls: str, preset: str, overrides: list[str]) -> dict:
    """`jaxgan bench` of `preset` + `overrides` (one iteration timed) with the peer's first
    iteration counted by torch's flop counter (``torch_flops``)."""
    from _zoo_runner import FAST_XLA

    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " " + FAST_XLA).strip()}
    out = subprocess.run([sys.executable, "-c", BENCH, str(BENCHMARKS), module, cls, preset,
                          *overrides], env=env, capture_output=True, text=True, timeout=900)
    return _result(out, "RESULT")
