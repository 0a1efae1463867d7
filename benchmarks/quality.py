"""Sample quality side by side: the pytorch/examples DCGAN recipe against jaxgan's DCGAN.

Why: a GAN library is only worth its speed if what it trains is at least as good as the
reference implementation at the same budget. Both sides train on the same uint8 images
(the embedded digits at 16x16, or the real MNIST test set of `../shared/data/mnist` at
32x32), with the same widths, latent size, batch and number of iterations, at several
seeds, and are scored by one judge that neither trained against (`judge.py`):

* Fréchet distance between the judge's hidden-layer features of 1,000 samples and of the
  held-out real images (lower is better; the held-out set against the judge's training
  set gives the floor),
* the share of samples classified with probability >= 0.9, the number of classes holding
  >= 3 % of the samples and the class entropy (bits).

The sides:

* ``torch``: pytorch/examples `dcgan/main.py` at this resolution (ConvTranspose/BatchNorm/
  ReLU generator, Conv/BatchNorm/LeakyReLU discriminator, N(0, 0.02) init, BCE, Adam 2e-4
  beta1 0.5, D step then G step), samples drawn as the example draws them (generator in
  train mode, so batch norm uses the batch's statistics).
* ``jaxgan-plain``: jaxgan with the same recipe (no EMA, no tricks): the implementations
  compared.
* ``jaxgan``: the jaxgan preset as shipped (EMA generator and its tricks): what a user gets.

    python benchmarks/quality.py --data digits --seeds 0 1 2
    python benchmarks/quality.py --data mnist --seeds 0 1 2 --steps 600 --width 32

Results go to `benchmarks/RESULTS.md` (by hand) and, with `--json FILE`, to a file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import DigitsJudge, MnistJudge, frechet_distance  # noqa: E402

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")
MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def load_data(name: str) -> tuple[np.ndarray, int, str]:
    """(uint8 images (N, R, R), resolution, jaxgan preset) for the two benchmark datasets."""
    from jaxgan.data.images import to_resolution

    if name == "digits":
        from sklearn.datasets import load_digits

        raw = np.rint(load_digits().images * (255.0 / 16.0)).astype(np.uint8)
        return to_resolution(raw[..., None], 16, 1)[..., 0], 16, "dcgan_digits"
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    return to_resolution(raw[..., None], 32, 1)[..., 0], 32, "dcgan_mnist"


def train_torch(images: np.ndarray, steps: int, batch: int, nz: int, ngf: int, ndf: int,
                seed: int, num: int, threads: int) -> np.ndarray:
    """The pytorch/examples DCGAN loop on `images`; returns `num` samples in [-1, 1]."""
    import torch
    from torch_peers import dcgan_pair

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    res = images.shape[1]
    net_g, net_d = dcgan_pair(res, nz, ngf, ndf, nc=1)
    crit = torch.nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]
    rng = np.random.default_rng(seed)
    order, pos = rng.permutation(len(data)), 0
    for _ in range(steps):
        if pos + batch > len(order):  # a DataLoader with drop_last, reshuffled each epoch
            order, pos = rng.permutation(len(data)), 0
        real = data[order[pos:pos + batch]]
        pos += batch
        net_d.zero_grad()
        ones, zeros = torch.ones(batch), torch.zeros(batch)
        err_real = crit(net_d(real), ones)
        err_real.backward()
        fake = net_g(torch.randn(batch, nz, 1, 1))
        err_fake = crit(net_d(fake.detach()), zeros)
        err_fake.backward()
        opt_d.step()
        net_g.zero_grad()
        crit(net_d(fake), ones).backward()
        opt_g.step()
    out = []
    with torch.no_grad():
        for _ in range(0, num, batch):
            out.append(net_g(torch.randn(batch, nz, 1, 1)).numpy())
    return np.concatenate(out)[:num, 0]


def train_jaxgan(npz: Path, res: int, preset: str, overrides: list[str], seed: int,
                 root: Path, num: int) -> np.ndarray:
    wd = root / f"{preset}_{abs(hash(tuple(overrides))) % 10**6}_s{seed}"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    cmd = [EXE, "train", "--config", preset, "--workdir", str(wd), "--force", f"seed={seed}",
           "data.source=npz", f"data.path={npz}", f"data.resolution={res}",
           "data.channels=1", "train.progress=false", *overrides]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    out = wd / "samples.npz"
    r = subprocess.run([EXE, "sample", str(wd), "--num", str(num), "--out", str(out),
                        "--seed", "777"], capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return np.load(out)["samples"][..., 0]


def score(judge, samples: np.ndarray) -> dict[str, float]:
    s = judge.score(samples).as_dict()
    fd = frechet_distance(judge.features(samples), judge.held_features)
    return {"fd": fd, "confident": s["confident"], "classes_3pct": s["classes_3pct"],
            "entropy_bits": s["entropy_bits"]}


def save_grid(samples: np.ndarray, path: Path) -> None:
    """The first 64 samples in [-1, 1] as an 8x8 grid PNG (small enough to check in)."""
    from jaxgan.writers import make_grid, save_png

    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(make_grid(np.asarray(samples[:64], np.float32)[..., None], ncols=8), path,
             min_size=256)


# The DCGAN both implementations train (latent, G width, D width, batch): the
# pytorch/examples sizes at this resolution, whatever architecture the preset ships.
DCGAN_DIMS = {"digits": (64, 64, 64, 64), "mnist": (100, 64, 64, 64)}

# What jaxgan-plain turns off so that it is the torch recipe: EMA and every preset trick;
# it also sets the preset's model back to the DCGAN (the preset may ship another one).
PLAIN = ["model.generator=dcgan", "model.discriminator=dcgan", "model.infogan.categorical=0",
         "model.infogan.continuous=0", "train.ema_decay=0", "tricks.label_smoothing=0",
         "tricks.instance_noise=0",
         "tricks.diffaugment=", "tricks.r1_gamma=0", "model.pack=1",
         "model.spectral_norm=false", "loss.name=non_saturating", "train.n_critic=1",
         "optim.g.lr=2e-4", "optim.d.lr=2e-4", "optim.g.b1=0.5", "optim.d.b1=0.5"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=["digits", "mnist"], default="digits")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=None, help="iterations (default: preset's)")
    p.add_argument("--num", type=int, default=1000)
    p.add_argument("--sides", nargs="+", default=["torch", "jaxgan-plain", "jaxgan"])
    p.add_argument("--json", default=None)
    p.add_argument("--torch-threads", type=int, default=os.cpu_count() or 1,
                   help="PyTorch's intra-op threads (on a loaded machine 1 can be faster)")
    p.add_argument("--width", type=int, default=None, help="G and D width of every side "
                   "(default: the pytorch/examples sizes, DCGAN_DIMS)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="overrides of the preset side (`jaxgan`) only: a re-tune to compare")
    p.add_argument("--save", default=None, help="write each run's samples (.npz) here")
    p.add_argument("--grids", default=None, help="write an 8x8 sample grid (PNG) of each "
                   "side's first seed into this folder")
    args = p.parse_args(argv)
    from jaxgan.config import resolve

    images, res, preset = load_data(args.data)
    cfg = resolve(preset, [], 1)
    steps = args.steps or cfg.train.steps
    nz, ngf, ndf, batch = DCGAN_DIMS[args.data]
    ngf, ndf = (args.width, args.width) if args.width else (ngf, ndf)
    widths = [f"model.g_width={ngf}", f"model.d_width={ndf}"]
    plain = PLAIN + [f"model.latent_dim={nz}", *widths, f"train.batch_size={batch}"]
    root = Path(tempfile.mkdtemp(prefix="jaxgan-quality-"))
    npz = root / f"{args.data}.npz"
    np.savez(npz, images=images[..., None])
    judge = DigitsJudge() if args.data == "digits" else MnistJudge(images)
    floor = frechet_distance(judge.train_features, judge.held_features)
    print(f"{args.data} {res}x{res}: {len(images)} images; {steps} iterations, batch {batch}, "
          f"nz {nz}, widths {ngf}/{ndf}; judge held-out accuracy "
          f"{judge.held_out_accuracy:.3f}, FD(judge train, held-out) {floor:.2f}")
    rows = []
    for side in args.sides:
        for seed in args.seeds:
            t0 = time.perf_counter()
            if side == "torch":
                samples = train_torch(images, steps, batch, nz, ngf, ndf, seed, args.num,
                                      args.torch_threads)
            else:
                extra = [f"train.steps={steps}", f"train.checkpoint_every={steps}",
                         f"train.sample_every={steps}"]
                extra += plain if side == "jaxgan-plain" else [
                    *(widths if args.width else []), *args.set]
                samples = train_jaxgan(npz, res, preset, extra, seed, root, args.num)
            row = {"side": side, "seed": seed, "wall_s": round(time.perf_counter() - t0, 1),
                   **score(judge, samples)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.save:
                Path(args.save).mkdir(parents=True, exist_ok=True)
                np.savez_compressed(Path(args.save) / f"{args.data}_{side}_s{seed}.npz",
                                    samples=np.asarray(samples, np.float32))
            if args.grids and seed == args.seeds[0]:
                save_grid(samples, Path(args.grids) / f"{args.data}_{side}_s{seed}.png")
    print("\n| side | FD (median, worst) | confident (median, worst) | classes >= 3 % "
          "(worst) | entropy bits (worst) | wall s (median) |\n|---|---|---|---|---|---|")
    for side in args.sides:
        r = [x for x in rows if x["side"] == side]
        med = {k: float(np.median([x[k] for x in r])) for k in r[0] if k not in ("side",)}
        print(f"| {side} | {med['fd']:.2f}, {max(x['fd'] for x in r):.2f} | "
              f"{med['confident']:.3f}, {min(x['confident'] for x in r):.3f} | "
              f"{min(x['classes_3pct'] for x in r)} | "
              f"{min(x['entropy_bits'] for x in r):.3f} | {med['wall_s']:.0f} |")
    if args.json:
        import torch

        Path(args.json).write_text(json.dumps({
            "data": args.data, "steps": steps, "rows": rows, "fd_floor": floor,
            "machine": platform.platform(), "cpus": os.cpu_count(),
            "torch": torch.__version__}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
