"""Step speed, jaxgan vs PyTorch eager, measured alternately in ONE run.

Workloads (see `torch_peers.py` for the PyTorch side):

* ``dcgan64``: DCGAN 64x64x3, batch 64 (pytorch/examples/dcgan), images/s. jaxgan runs the
  trainer's own compiled step (health signals and EMA included) with the exact fast layer
  formulations (the defaults, spelled out: ``model.upsample=fast model.downsample=s2d``);
  its compile time is reported against the 15 s goal.
* ``toy64`` / ``toy512``: the toy_ring MLP GAN at batch 64 and 512, steps/s; jaxgan with
  ``train.steps_per_call`` iterations per dispatch.
* ``biggan_digits`` / ``biggan32``: BigGAN (`torch_biggan.py`, the same network in
  PyTorch), images/s: the biggan_digits preset as it is (8x8, batch 64, 2 D steps), and
  biggan_cifar10's 32x32 network and recipe (5 D steps, attention at 16x16, 4 x 20
  hierarchical latents, 128-wide embedding) at widths 4 x 8 in G and D and batch 16
  instead of 4 x 96 / 4 x 48 and 64, so that a round fits a shared 2-core CPU.
* ``stylegan2_digits``: StyleGAN2 with ADA (`torch_stylegan2.py`, the same network and
  iteration in PyTorch), images/s, the preset as it is (8x8, batch 32, 1 D step). What
  is timed: whole iterations (ADA-augmented D step, then the G step through the updated
  D), in rounds of a multiple of 16 consecutive iterations, so each round holds the lazy
  regularizers as jaxgan runs them: one R1 step (every 16 D updates), four path-length
  steps (every 4 G steps) and four adjustments of ADA's p; jaxgan's `lax.cond` runs only
  the branch taken, the peer an `if`.

The machine is shared, so each workload alternates jaxgan and PyTorch for `--rounds`
rounds and reports the median of each and the ratio of medians: background load hits both
alike. Usage::

    python benchmarks/step_speed.py [--only dcgan64,toy64,toy512] [--rounds 3] [--json F]
    python benchmarks/step_speed.py --only biggan_digits,biggan32 --rounds 3 --dcgan-steps 3
    python benchmarks/step_speed.py --only stylegan2_digits --rounds 3 --dcgan-steps 16
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from machine import cpu_model  # noqa: E402

DCGAN64 = ["data.resolution=64", "data.channels=3", "train.batch_size=64",
           "model.upsample=fast", "model.downsample=s2d"]
# the workloads timed against a family's PyTorch peer: (preset, overrides, iterations a
# round's count is a multiple of: the period of the lazy regularizers)
FAMILY = {"biggan_digits": ("biggan_digits", [], 1),
          "biggan32": ("biggan_cifar10", ["model.g_width=8", "model.d_width=8",
                                          "train.batch_size=16"], 1),
          "stylegan2_digits": ("stylegan2_digits", [], 16)}


def _jax_cfg(workload: str, spc: int, extra: list[str]):
    from jaxgan.config import resolve

    if workload == "dcgan64":
        return resolve("dcgan_cifar10", DCGAN64 + extra)
    if workload in FAMILY:
        preset, overrides, _ = FAMILY[workload]
        return resolve(preset, overrides + extra)
    batch = 64 if workload == "toy64" else 512
    return resolve("toy_ring_vanilla", [f"train.batch_size={batch}", f"train.steps_per_call={spc}",
                                *extra])


def _torch_peer(workload: str, cfg):
    from torch_peers import DCGANPeer, ToyPeer, family_peer

    if workload in FAMILY:
        return family_peer(cfg)
    if workload == "dcgan64":
        return DCGANPeer(batch=64)
    return ToyPeer(batch=64 if workload == "toy64" else 512)


def run_workload(workload: str, rounds: int, steps: int, spc: int, extra: list[str],
                 torch_threads: list[int]) -> dict:
    """Alternate jaxgan and torch; per round, time `steps` iterations of each.

    PyTorch runs at each of `torch_threads` intra-op thread counts and the faster median
    is its figure: on a loaded machine its default (one thread per core) can be far
    slower than one thread, and the peer should get its best showing.
    """
    import torch

    from jaxgan.bench import prepare

    cfg = _jax_cfg(workload, spc, extra)
    prep = prepare(cfg)
    per = cfg.train.steps_per_call
    period = FAMILY.get(workload, (None, None, 1))[2]
    steps = -(-steps // period) * period
    calls = max(1, steps // per)
    prep.run(1)  # warm-up
    peer = _torch_peer(workload, cfg)
    for _ in range(2):
        peer.step()
    jax_rate: list[float] = []
    torch_rate: dict[int, list[float]] = {t: [] for t in torch_threads}
    for _ in range(rounds):
        t = sum(prep.run(calls))
        jax_rate.append(calls * per / t)
        for th in torch_threads:
            torch.set_num_threads(th)
            t0 = time.perf_counter()
            for _ in range(calls * per):
                peer.step()
            torch_rate[th].append(calls * per / (time.perf_counter() - t0))
    best_th = max(torch_threads, key=lambda th: statistics.median(torch_rate[th]))
    jm, tm = statistics.median(jax_rate), statistics.median(torch_rate[best_th])
    unit, scale = ("steps/s", 1) if workload.startswith("toy") else \
        ("images/s", cfg.train.batch_size)
    return {"workload": workload, "unit": unit, "jaxgan": jm * scale, "torch": tm * scale,
            "ratio": jm / tm, "torch_threads": best_th,
            "jaxgan_rounds": [r * scale for r in jax_rate],
            "torch_rounds": {th: [r * scale for r in v] for th, v in torch_rate.items()},
            "compile_s": prep.compile_s, "steps_per_call": per,
            "steps_per_round": calls * per}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="dcgan64,toy64,toy512")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dcgan-steps", type=int, default=5)
    ap.add_argument("--toy-steps", type=int, default=2000)
    ap.add_argument("--spc", type=int, default=500, help="toy steps_per_call")
    ap.add_argument("--json", default="", help="also write the results to this file")
    ap.add_argument("--torch-threads", default="1,2", help="thread counts to try for torch")
    ap.add_argument("overrides", nargs="*", help="extra jaxgan KEY=VALUE for every workload")
    args = ap.parse_args()

    import jax
    import torch

    print(f"machine: {cpu_model()}, {torch.get_num_threads()} torch threads; jax "
          f"{jax.__version__} ({jax.devices()[0].device_kind}), torch {torch.__version__}",
          flush=True)
    results = []
    for w in args.only.split(","):
        steps = args.toy_steps if w.startswith("toy") else args.dcgan_steps
        r = run_workload(w, args.rounds, steps, args.spc, args.overrides,
                         [int(t) for t in args.torch_threads.split(",")])
        results.append(r)
        print(f"{w:8s} jaxgan {r['jaxgan']:10.1f} {r['unit']:9s} torch {r['torch']:10.1f}  "
              f"ratio {r['ratio']:.2f}x  (jaxgan compile {r['compile_s']:.1f} s; torch best at "
              f"{r['torch_threads']} threads; rounds jaxgan "
              f"{[round(x, 1) for x in r['jaxgan_rounds']]}, torch "
              f"{ {k: [round(x, 1) for x in v] for k, v in r['torch_rounds'].items()} })",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
