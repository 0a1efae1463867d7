"""Wall time of the light `jaxgan` commands (issue 14, item 9), as a user types them.

    python benchmarks/light_commands.py [--workdir RUN] [--repeats 3]

Times `jaxgan --help`, `jaxgan sample RUN --num 16` and `jaxgan doctor RUN` as separate
processes (imports included: that is what a user waits for), `--repeats` times each,
interleaved, and prints the median and the spread. Without `--workdir` it first trains a
tiny run of the `dcgan_digits` preset (an image run whose data come through tfds and
TensorFlow) with 40 log records, the size of log the issue measured. Targets on the
2-core machine: sample < 6 s, doctor < 3 s, --help < 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from machine import cpu_model  # noqa: E402

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")
TINY = ["data.resolution=8", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
        "train.batch_size=8", "train.num_samples=16", "train.progress=false"]
TARGETS = {"--help": 1.5, "sample --num 16": 6.0, "doctor": 3.0}


def _run(args: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run([EXE, *args], capture_output=True, text=True,
                       env={**os.environ, "JAX_PLATFORMS": "cpu"})
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"`jaxgan {' '.join(args)}` failed: {r.stderr[-1000:]}")
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", default=None, help="an existing run (default: train one)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="jaxgan-light-")
    wd = args.workdir
    if wd is None:
        wd = str(Path(tmp) / "run")
        took = _run(["train", "--workdir", wd, "train.steps=40", "train.log_every=1",
                     "train.sample_every=40", "train.checkpoint_every=40", *TINY])
        print(f"trained {wd} (40 log records) in {took:.1f} s")
    out = str(Path(tmp) / "s.png")
    commands = {"--help": ["--help"], "sample --num 16": ["sample", wd, "--num", "16",
                                                          "--out", out],
                "doctor": ["doctor", wd]}
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.repeats):  # interleaved, so load changes hit every command alike
        for name, argv in commands.items():
            times[name].append(_run(argv))
    import jax

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; Python "
          f"{platform.python_version()}, jax {jax.__version__}")
    print(f"| command | median s (of {args.repeats}) | all runs s | target s |")
    print("| --- | --- | --- | --- |")
    for name, ts in times.items():
        med = statistics.median(ts)
        mark = "met" if med < TARGETS[name] else "NOT met"
        print(f"| `jaxgan {name}` | {med:.2f} | {', '.join(f'{t:.2f}' for t in ts)} | "
              f"< {TARGETS[name]} ({mark}) |")


if __name__ == "__main__":
    main()
