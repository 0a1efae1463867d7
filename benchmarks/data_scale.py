"""Data at scale (issue 19): host memory, start-up time and delivery rate of the in-memory
and the streaming source on synthetic datasets of 1x, 4x and 16x a base size.

    python benchmarks/data_scale.py [--base 10000] [--res 64] [--scales 1,4,16]
        [--cap-gb 1.0] [--batches 150] [--root /tmp/jaxgan-data-scale] [--json F]

Each dataset (uniform-noise uint8 images, `--res` x `--res` x 3) is written once as an
.npz (what `data.source=npz` loads into memory) and prepared once with `jaxgan.data.prepare`
(what `data.source=arrayrecord data.stream=true` streams). Every measurement runs in a
fresh process, so its peak RSS (VmHWM) is that source's alone beside the same imports;
start-up is `make_source` plus the first batch (imports excluded, the same for both), with
the dataset's files first evicted from the page cache (a cold start). The delivery rate
is the trainer's path: `ImageSource.batch` (gather + float on the host) against
`StreamSource.batches` (Grain read threads, uint8). The budget (`--cap-gb`)
is checked against the measured peaks, not enforced.

It also times the DCGAN-64 step on this CPU (`jaxgan.bench`, the images/s the loader must
keep up with) and, from the step's FLOPs, the images/s a GPU step would consume at a given
fraction of an H200's measured bf16 peak (~790 TFLOP/s, DESIGN.md): an estimate, since no
GPU was measured here. Two extra rows stream the base size as PNG records and as records
prepared at twice the resolution (decoded / resized in the loader's threads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from machine import cpu_model  # noqa: E402

BATCH = 64
DCGAN64 = ["data.resolution=64", "data.channels=3", "train.batch_size=64",
           "model.upsample=fast", "model.downsample=s2d"]
H200_BF16 = 790e12  # measured on an 8192^3 matmul (DESIGN.md)


def _rss_mb() -> float:
    """This process's peak RSS in MB: /proc's VmHWM, which exec resets (`ru_maxrss` keeps
    the parent's peak across fork + exec, so it would report the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_npz(path: Path, n: int, res: int, seed: int = 0, chunk: int = 4096) -> None:
    """`n` noise images as an uncompressed .npz, written chunk by chunk (no n-sized array)."""
    from numpy.lib.format import open_memmap

    npy = path.with_suffix(".images.npy")
    arr = open_memmap(npy, mode="w+", dtype=np.uint8, shape=(n, res, res, 3))
    rng = np.random.default_rng(seed)
    for lo in range(0, n, chunk):
        arr[lo:lo + chunk] = rng.integers(0, 256, arr[lo:lo + chunk].shape, dtype=np.uint8)
    arr.flush()
    del arr
    tmp = path.with_suffix(".npz.tmp")  # renamed when complete: a killed run leaves no .npz
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.write(npy, "images.npy")
    npy.unlink()
    tmp.rename(path)


def child(kind: str, path: str, res: int, batches: int) -> dict:
    """One measurement in this (fresh) process: start-up, peak RSS, delivery rate."""
    from jaxgan.data import make_source
    from jaxgan.schema import DataConfig

    base = _rss_mb()
    cfg = (DataConfig(source="npz", path=path, resolution=res, channels=3) if kind == "memory"
           else DataConfig(source="arrayrecord", path=path, resolution=res, channels=3,
                           stream="true"))
    t0 = time.perf_counter()
    source = make_source(cfg, 0)
    first = source.batch(0, BATCH)
    startup = time.perf_counter() - t0
    assert first["image"].shape == (BATCH, res, res, 3)
    t1 = time.perf_counter()
    if kind == "memory":
        for k in range(1, batches + 1):
            source.batch(k, BATCH)
    else:
        for _ in source.batches(lambda k: (k, BATCH), 1, batches + 1):
            pass
    rate = batches * BATCH / (time.perf_counter() - t1)
    return {"startup_s": startup, "rss_peak_mb": _rss_mb(), "rss_imports_mb": base,
            "images_per_s": rate, "images": len(source)}


def evict(path: Path) -> None:
    """Drop `path`'s pages (a file, or a folder's files) from the page cache, so start-up
    reads the disk as a fresh machine would (POSIX_FADV_DONTNEED needs no privileges)."""
    for f in ([path] if path.is_file() else sorted(path.iterdir())):
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def measure(kind: str, path: Path, res: int, batches: int) -> dict:
    evict(path)
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--path", str(path),
                          "--res", str(res), "--batches", str(batches)],
                         capture_output=True, text=True, env={**os.environ,
                                                               "JAX_PLATFORMS": "cpu"})
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def dcgan_step() -> dict:
    """The DCGAN-64 step on this machine: images/s it consumes, FLOPs per step."""
    from jaxgan.bench import bench
    from jaxgan.config import resolve

    r = bench(resolve("dcgan_cifar10", [*DCGAN64, "data.source=random"]), steps=3, warmup=1)
    return {"images_per_s": r["images_per_s"], "flops": r["flops_per_step"],
            "device": r["device_kind"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=10000, help="images in the 1x dataset")
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--scales", default="1,4,16")
    ap.add_argument("--cap-gb", type=float, default=1.0, help="the RSS budget checked")
    ap.add_argument("--batches", type=int, default=150, help="batches of 64 timed")
    ap.add_argument("--root", default="/tmp/jaxgan-data-scale")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-step", action="store_true", help="skip timing the DCGAN step")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.res, args.batches)))
        return
    from jaxgan.data.prepare import prepare

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    rows, extra = [], []
    for scale in (int(s) for s in args.scales.split(",")):
        n = args.base * scale
        npz, prep = root / f"x{scale}.npz", root / f"x{scale}"
        if not npz.exists():
            write_npz(npz, n, args.res, seed=scale)
        prep_s = None  # measured when this run prepares it
        if not prep.exists():
            t = time.perf_counter()
            prepare("npz", str(npz), prep, args.res, 3, progress=False)
            prep_s = time.perf_counter() - t
        gb = n * args.res * args.res * 3 / 1e9
        for kind, path in (("memory", npz), ("stream", prep)):
            r = measure(kind, path, args.res, args.batches)
            rows.append({"scale": scale, "gb": gb, "kind": kind, **r,
                         "fits_cap": r["rss_peak_mb"] <= args.cap_gb * 1024,
                         "prepare_s": prep_s if kind == "stream" else None})
            print(json.dumps(rows[-1]), flush=True)
    first = root / f"x{args.scales.split(',')[0]}.npz"
    for label, res, encoding in (("png", args.res, "png"), ("resize", 2 * args.res, "raw")):
        prep = root / f"x1-{label}"
        if not prep.exists():
            src = first if res == args.res else root / "x1-2res.npz"
            if res != args.res and not src.exists():
                write_npz(src, args.base, res, seed=1)
            prepare("npz", str(src), prep, res, 3, encoding=encoding, progress=False)
        r = measure("stream", prep, args.res, args.batches)
        extra.append({"variant": f"{label} (records {res}px {encoding})", **r})
        print(json.dumps(extra[-1]), flush=True)
    step = None if args.no_step else dcgan_step()
    if step is not None:
        print(json.dumps({"dcgan_step": step}), flush=True)
    report(rows, extra, step, args)


def report(rows: list[dict], extra: list[dict], step: dict | None, args) -> None:
    import grain
    import jax

    print(f"\nmachine: {cpu_model()}, {os.cpu_count()} cores; jax {jax.__version__}, "
          f"grain {getattr(grain, '__version__', '?')}, numpy {np.__version__}; "
          f"{args.res}x{args.res}x3 uint8, batch {BATCH}, cap {args.cap_gb} GB")
    print("| dataset | source | start-up s | peak RSS MB (imports) | within cap | images/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['scale']}x: {r['images']} images, {r['gb']:.2f} GB | {r['kind']} | "
              f"{r['startup_s']:.2f} | {r['rss_peak_mb']:.0f} ({r['rss_imports_mb']:.0f}) | "
              f"{'yes' if r['fits_cap'] else 'no'} | {r['images_per_s']:.0f} |")
    for r in extra:
        print(f"| 1x, {r['variant']} | stream | {r['startup_s']:.2f} | "
              f"{r['rss_peak_mb']:.0f} ({r['rss_imports_mb']:.0f}) | - | "
              f"{r['images_per_s']:.0f} |")
    if step is not None:
        print(f"DCGAN-64 step here: {step['images_per_s']:.1f} images/s")
        if step["flops"]:
            for mfu in (0.1, 0.3):
                need = mfu * H200_BF16 / step["flops"] * BATCH
                print(f"a GPU step at {mfu:.0%} of 790 TFLOP/s ({step['flops'] / 1e9:.0f} "
                      f"GFLOP/step) would consume {need:,.0f} images/s")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "extra": extra, "step": step},
                                              indent=1))


if __name__ == "__main__":
    main()
