"""FID feature-extraction throughput: jaxgan vs pytorch-fid, same images, same machine.

Both run the same network with the same random weights (the real file cannot be fetched
offline; speed does not depend on the weight values) on the same uint8 images, including
the resize to 299 and the [-1, 1] scaling, and return the 2048-d pool3 features. Runs are
interleaved (jaxgan, pytorch-fid, jaxgan, ...) so background load hits both alike; the
first call of each is a warm-up (jit compile / allocator) and is not timed. Prints images/s
per run, the median of each, and the median of the per-round ratios jaxgan / pytorch-fid
(the ratio of back-to-back runs is steadier than either rate on a shared machine).

    python benchmarks/fid_throughput.py [--images 256] [--size 32] [--batch 32] [--rounds 3]
                                        [--chunk N]

jaxgan buffers ``--batch`` images per dispatch and runs them in compiled calls of its
default chunk (16 images per device on CPU) unless ``--chunk`` says otherwise.

Needs torch, torchvision and pytorch-fid (benchmark-only dependencies).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import cpu_model  # benchmarks/ is on sys.path when run as a script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=None, help="jaxgan images per call")
    args = parser.parse_args()

    import flax
    import jax
    import jaxlib
    import pytorch_fid
    import torch
    import torchvision
    from pytorch_fid import inception as pfid

    from jaxgan.metrics.features import InceptionFeatures
    from jaxgan.metrics.torch_pickle import save_state_dict
    from jaxgan.metrics.weights import random_state_dict

    tmp = Path(tempfile.mkdtemp())
    os.environ.setdefault("JAXGAN_CACHE_DIR", str(tmp / "cache"))
    weights = tmp / "random.pth"
    save_state_dict(random_state_dict(0), weights)
    state = torch.load(weights)
    pfid.load_state_dict_from_url = lambda *a, **k: state  # no download: same random weights
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    model = pfid.InceptionV3([3]).eval()
    ours = InceptionFeatures(weights, batch_size=args.batch, chunk=args.chunk)

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(args.images, args.size, args.size, 3), dtype=np.uint8)

    def run_jaxgan() -> np.ndarray:
        batches = (images[i : i + args.batch] for i in range(0, len(images), args.batch))
        return ours(batches, with_logits=False)[0]

    def run_pytorch_fid() -> np.ndarray:
        # pytorch-fid's get_activations loop body, minus the file decoding: uint8 -> [0, 1]
        # like ToTensor, the model resizes to 299 and scales to [-1, 1] itself
        out = []
        with torch.no_grad():
            for i in range(0, len(images), args.batch):
                x = torch.from_numpy(images[i : i + args.batch]).permute(0, 3, 1, 2)
                pred = model(x.float() / 255.0)[0]
                out.append(pred.squeeze(3).squeeze(2).numpy())
        return np.concatenate(out)

    a, b = run_jaxgan(), run_pytorch_fid()  # warm-up, and a sanity check
    rel = np.abs(a - b).max() / np.abs(b).max()
    rates: dict[str, list[float]] = {"jaxgan": [], "pytorch-fid": []}
    for r in range(args.rounds):
        for name, fn in (("jaxgan", run_jaxgan), ("pytorch-fid", run_pytorch_fid)):
            t = time.perf_counter()
            fn()
            rate = len(images) / (time.perf_counter() - t)
            rates[name].append(rate)
            print(f"round {r + 1} {name:12s} {rate:8.2f} images/s", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"machine: {cpu_model()}, {threads} cores; torch threads {torch.get_num_threads()}")
    print(
        f"versions: jax {jax.__version__}, jaxlib {jaxlib.__version__}, "
        f"flax {flax.__version__}, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}, pytorch-fid {pytorch_fid.__version__}, "
        f"python {platform.python_version()}"
    )
    print(
        f"{args.images} images {args.size}x{args.size}, batch {args.batch} "
        f"(jaxgan: {ours.chunk} per call), max rel diff {rel:.1e}"
    )
    print(f"median jaxgan {med['jaxgan']:.2f} images/s, pytorch-fid {med['pytorch-fid']:.2f}")
    pairs = [j / t for j, t in zip(rates["jaxgan"], rates["pytorch-fid"], strict=True)]
    print(f"per-round ratios: {', '.join(f'{r:.2f}' for r in pairs)}")
    print(
        f"ratio jaxgan / pytorch-fid (median of per-round ratios): {statistics.median(pairs):.2f}"
    )


if __name__ == "__main__":
    main()
