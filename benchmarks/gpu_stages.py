"""The measurements of `gpu_check.py`, one function per stage, each writing its JSON.

Every stage runs in its own process (the driver gives each a timeout), and writes its file
again after every figure, so a stage cut short still leaves what it measured. Sizes come
from `SIZES`: the GPU's, or tiny ones for the CPU dry run (``--cpu``), which exercises the
same code paths in minutes and measures nothing worth quoting.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

SIZES: dict[str, dict[str, Any]] = {
    "gpu": {
        # the target's case (bf16, batch 256) first: a stage cut short keeps it
        "dcgan": {"resolution": 64, "width": 64, "nz": 100, "batches": [256, 64],
                  "precisions": ["bf16", "float32"], "steps": 50, "warmup": 3,
                  "torch_compile": "all", "layers_batch": 256},
        "toy": {"batch": 512, "spc": 100, "steps": 2000, "torch_steps": 300},
        "sweep": {"runs": 64, "steps": 2000, "spc": 100},
        "fid": {"images": 2048, "size": 32, "batch": 256, "rounds": 3},
        "matmul": 8192,
    },
    "cpu": {
        "dcgan": {"resolution": 16, "width": 8, "nz": 16, "batches": [4],
                  "precisions": ["float32", "bf16"], "steps": 5, "warmup": 1,
                  "torch_compile": "first", "layers_batch": 4,
                  "layers_precisions": ["float32"], "extra": ["health.enabled=false"]},
        "toy": {"batch": 64, "spc": 10, "steps": 50, "torch_steps": 20,
                "extra": ["health.enabled=false"]},
        "sweep": {"runs": 2, "steps": 40, "spc": 20,
                  "extra": ["model.mlp.depth=1", "model.mlp.hidden=16"]},
        "fid": {"images": 4, "size": 16, "batch": 4, "rounds": 1},
        "matmul": 512,
    },
}


def _write(out: Path, name: str, data: Any) -> None:
    tmp = out / f"{name}.json.tmp"
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(out / f"{name}.json")


def _bench(args: list[str]) -> dict[str, Any]:
    """`jaxgan bench --json ARGS` in this process (the command's own code path)."""
    from jaxgan.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["bench", "--json", *args])
    if rc != 0:
        raise RuntimeError(f"jaxgan bench {' '.join(args)} exited {rc}")
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def _dcgan_args(s: dict[str, Any], batch: int, precision: str, extra: list[str]) -> list[str]:
    return ["--config", "dcgan_cifar10", "--steps", str(s["steps"]), "--warmup",
            str(s["warmup"]), "data.source=random", f"data.resolution={s['resolution']}",
            "data.channels=3", f"train.batch_size={batch}", f"train.precision={precision}",
            f"model.g_width={s['width']}", f"model.d_width={s['width']}",
            f"model.latent_dim={s['nz']}", *s.get("extra", []), *extra]


def stage_env(out: Path, sizes: dict[str, Any]) -> None:
    """Device, versions, and the best matmul rates (bf16; float32 at JAX's default and at
    HIGHEST precision, since XLA may run default-precision float32 on TF32 tensor cores)."""
    import jax
    import jax.numpy as jnp

    dev = jax.devices()[0]
    info: dict[str, Any] = {"platform": dev.platform, "device_kind": dev.device_kind,
                            "device_count": jax.device_count(),
                            "python": platform.python_version(), "versions": {}}
    for dist in ("jax", "jaxlib", "jax-cuda13-plugin", "jax-cuda12-plugin", "flax", "optax",
                 "orbax-checkpoint", "chex", "numpy", "torch", "torchvision", "pytorch-fid",
                 "tensorflow", "tensorflow-cpu", "tensorflow-datasets", "tensorboardX"):
        try:  # from the installed metadata: importing torch here would cost seconds
            info["versions"][dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info["versions"][dist] = "absent"
    _write(out, "env", info)
    n = sizes["matmul"]
    rates = {}
    for label, dtype, prec in (("bf16", jnp.bfloat16, None), ("float32", jnp.float32, None),
                               ("float32_highest", jnp.float32, "highest")):
        a = jax.random.normal(jax.random.key(0), (n, n), dtype)
        f = jax.jit(lambda a, b, p=prec: jnp.matmul(a, b, precision=p))
        f(a, a).block_until_ready()
        best = float("inf")
        for _ in range(10):
            t = time.perf_counter()
            f(a, a).block_until_ready()
            best = min(best, time.perf_counter() - t)
        rates[label] = 2.0 * n**3 / best
        info["matmul_flops_per_s"], info["matmul_n"] = rates, n
        _write(out, "env", info)


def stage_dcgan(out: Path, sizes: dict[str, Any]) -> None:
    """DCGAN-64 by `jaxgan bench --json`, batches x precisions, the backend's default
    layers (model.upsample/downsample=auto)."""
    s, rows = sizes["dcgan"], []
    for batch in s["batches"]:
        for precision in s["precisions"]:
            r = _bench(_dcgan_args(s, batch, precision, []))
            rows.append(r)
            _write(out, "dcgan", rows)


def stage_layers(out: Path, sizes: dict[str, Any]) -> None:
    """The layer programs `auto` did not pick on this backend, at `layers_batch`: with the
    dcgan stage's figures that is fast/s2d against XLA's native convolutions."""
    import jax

    from jaxgan.schema import AUTO_LAYERS, NATIVE_LAYERS

    s = sizes["dcgan"]
    auto = AUTO_LAYERS.get(jax.default_backend(), NATIVE_LAYERS)
    other = NATIVE_LAYERS if auto != NATIVE_LAYERS else ("fast", "s2d")
    rows = []
    for precision in s.get("layers_precisions", s["precisions"]):
        r = _bench(_dcgan_args(s, s["layers_batch"], precision,
                               [f"model.upsample={other[0]}", f"model.downsample={other[1]}"]))
        r["layers"] = list(other)
        rows.append(r)
        _write(out, "layers", {"auto": list(auto), "other": list(other), "rows": rows})


def _torch_device() -> str:
    """"cuda" where there is a GPU; else "cpu" with one thread (the dry run: more threads
    thrash on the shared cores)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    torch.set_num_threads(1)
    return "cpu"


def _time_torch(peer: Any, steps: int, warmup: int) -> tuple[float, float]:
    """(seconds of the first `warmup` iterations, best-of-3 seconds per iteration over
    `steps`), each iteration synchronised, as jaxgan bench synchronises each call."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        peer.step()
        peer.sync()
    first = time.perf_counter() - t0
    per = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(max(1, steps // 3)):
            peer.step()
            peer.sync()
        per.append((time.perf_counter() - t) / max(1, steps // 3))
    return first, min(per)


def stage_torch(out: Path, sizes: dict[str, Any]) -> None:
    """The same DCGAN in PyTorch on the same device: eager and torch.compile."""
    import torch
    from torch_peers import DCGANDevicePeer

    s = sizes["dcgan"]
    device = _torch_device()
    # inductor on the GPU; the dry run traces with aot_eager (dynamo and AOT autograd, the
    # same wrapping) since inductor's C++ build takes minutes on the shared CPU
    backend = "inductor" if device == "cuda" else "aot_eager"
    rows = []
    settings = {"compile_backend": backend, "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32}
    first = True
    for batch in s["batches"]:
        for precision in s["precisions"]:
            for mode in ("eager", "compile"):
                if mode == "compile" and s["torch_compile"] == "first" and not first:
                    continue
                peer = DCGANDevicePeer(batch, s["resolution"], s["nz"], s["width"],
                                       s["width"], device, precision, mode == "compile",
                                       compile_backend=backend)
                warm = s["warmup"] + (2 if mode == "compile" else 0)
                first_s, per = _time_torch(peer, s["steps"], warm)
                row = {"batch_size": batch, "precision": precision, "mode": mode,
                       "images_per_s": batch / per, "ms_per_step": per * 1e3,
                       "warmup_s": first_s, "warmup_steps": warm, "device": device}
                if mode == "eager" and precision == s["precisions"][0]:
                    row["flops_per_step"] = peer.flops_per_step()
                rows.append(row)
                _write(out, "torch", {"settings": settings, "rows": rows})
            first = False


def stage_toy(out: Path, sizes: dict[str, Any]) -> None:
    """The toy MLP GAN (toy_ring_vanilla) by jaxgan bench against the PyTorch toy peer."""
    import torch
    from torch_peers import ToyPeer

    s = sizes["toy"]
    res: dict[str, Any] = {}
    res["jaxgan"] = _bench(["--config", "toy_ring_vanilla", "--steps", str(s["steps"]),
                            "--warmup", "1", f"train.batch_size={s['batch']}",
                            f"train.steps_per_call={s['spc']}", *s.get("extra", [])])
    _write(out, "toy", res)
    device = _torch_device()
    peer = ToyPeer(batch=s["batch"], device=device)
    for _ in range(5):
        peer.step()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    t = time.perf_counter()
    for _ in range(s["torch_steps"]):
        peer.step()
    sync()
    res["torch"] = {"steps_per_s": s["torch_steps"] / (time.perf_counter() - t),
                    "device": device, "batch_size": s["batch"]}
    _write(out, "toy", res)


def stage_sweep(out: Path, sizes: dict[str, Any]) -> None:
    """`jaxgan.sweep` of N toy runs (one vmapped program, compile included) against the
    same N runs one after another, each trained by the trainer's compiled step."""
    import jax
    import numpy as np

    from jaxgan import parallel
    from jaxgan.config import resolve
    from jaxgan.state import init_state
    from jaxgan.sweep import sweep
    from jaxgan.trainer import setup_run

    s = sizes["sweep"]
    ovr = [f"train.steps={s['steps']}", f"train.steps_per_call={s['spc']}",
           f"train.log_every={s['steps']}", "health.enabled=false", *s.get("extra", [])]
    seeds = list(range(s["runs"]))
    res: dict[str, Any] = {"runs": s["runs"], "steps": s["steps"], "steps_per_call": s["spc"]}
    t0 = time.perf_counter()
    rows = sweep(resolve("toy_ring_vanilla", ovr), seeds, {}, None, quiet=True)
    jax.block_until_ready(rows[-1]["state"])
    res["sweep_s"] = time.perf_counter() - t0
    _write(out, "sweep", res)
    # sequential: one compile (the first run's), reused by every run: the cheapest way to
    # run them one by one; a user's separate `jaxgan train` commands also compile each time
    cfg = resolve("toy_ring_vanilla", ovr)
    run = setup_run(cfg)
    tc = cfg.train
    batch = parallel.host_to_global(
        {"image": np.zeros((tc.steps_per_call, 1, tc.batch_size, 1), np.float32)}, run.mesh, 2)
    t0 = time.perf_counter()
    compile_s = None
    for seed in seeds:
        state = parallel.create_replicated(
            lambda seed=seed: init_state(run.models, seed, run.sample_shape), run.mesh)
        for _ in range(tc.steps // tc.steps_per_call):
            state, m = run.step_fn(state, batch)
            if compile_s is None:
                jax.block_until_ready(m)
                compile_s = time.perf_counter() - t0
        jax.block_until_ready((state, m))
        res["sequential_runs_done"] = seed + 1
    res["sequential_s"] = time.perf_counter() - t0
    res["sequential_first_call_s"] = compile_s
    res["ratio"] = res["sweep_s"] / res["sequential_s"]
    _write(out, "sweep", res)


def stage_fid(out: Path, sizes: dict[str, Any]) -> None:
    """FID feature extraction, jaxgan against pytorch-fid, same random weights in the real
    layout, same images, both on the device (as benchmarks/fid_throughput.py on CPU)."""
    import numpy as np

    from jaxgan.metrics.features import InceptionFeatures
    from jaxgan.metrics.torch_pickle import save_state_dict
    from jaxgan.metrics.weights import random_state_dict

    s = sizes["fid"]
    tmp = Path(tempfile.mkdtemp())
    os.environ.setdefault("JAXGAN_CACHE_DIR", str(tmp / "cache"))
    weights = tmp / "random.pth"
    save_state_dict(random_state_dict(0), weights)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (s["images"], s["size"], s["size"], 3), dtype=np.uint8)
    b = s["batch"]
    res: dict[str, Any] = {"images": s["images"], "size": s["size"], "batch": b}
    t0 = time.perf_counter()
    ours = InceptionFeatures(weights, batch_size=b)

    def run_jaxgan() -> np.ndarray:
        return ours((images[i:i + b] for i in range(0, len(images), b)),
                    with_logits=False)[0]

    a = run_jaxgan()
    res["jaxgan_first_s"] = time.perf_counter() - t0  # weights, compile, first pass
    rates = []
    for _ in range(s["rounds"]):
        t = time.perf_counter()
        run_jaxgan()
        rates.append(len(images) / (time.perf_counter() - t))
    res["jaxgan_images_per_s"] = statistics.median(rates)
    _write(out, "fid", res)
    try:
        import torch
        from pytorch_fid import inception as pfid
    except ImportError as e:
        res["pytorch_fid"] = f"absent: {e} (gpu_check.sh installs benchmarks/wheels/*.whl)"
        _write(out, "fid", res)
        return
    device = _torch_device()
    state = torch.load(weights)
    pfid.load_state_dict_from_url = lambda *a, **k: state  # no download: same weights
    model = pfid.InceptionV3([3]).eval().to(device)

    def run_pytorch_fid() -> np.ndarray:
        feats = []
        with torch.no_grad():
            for i in range(0, len(images), b):
                x = torch.from_numpy(images[i:i + b]).permute(0, 3, 1, 2).to(device)
                feats.append(model(x.float() / 255.0)[0].squeeze(3).squeeze(2).cpu().numpy())
        return np.concatenate(feats)

    ref = run_pytorch_fid()
    res["max_rel_diff"] = float(np.abs(a - ref).max() / np.abs(ref).max())
    rates = []
    for _ in range(s["rounds"]):
        t = time.perf_counter()
        run_pytorch_fid()
        rates.append(len(images) / (time.perf_counter() - t))
    res["pytorch_fid_images_per_s"] = statistics.median(rates)
    res["ratio"] = res["jaxgan_images_per_s"] / res["pytorch_fid_images_per_s"]
    res["device"] = device
    _write(out, "fid", res)


STAGES = {"env": stage_env, "dcgan": stage_dcgan, "torch": stage_torch, "sweep": stage_sweep,
          "fid": stage_fid, "toy": stage_toy, "layers": stage_layers}
