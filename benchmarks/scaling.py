"""Data-parallel scaling: the same `jaxgan bench` on 1, 2, 4 and 8 devices, per-device rate.

Each device count runs in its own subprocess (the device count is fixed when the backend
starts). On a CPU host the devices are forced with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``; they share the machine's cores, so
on a 2-core box per-device throughput must fall as N grows: what this measures there is
the overhead of the shard_map program (collectives, per-device dispatch), and that the
one code path runs unchanged. On an accelerator host pass ``--no-force`` and the real
devices are used (N must not exceed the device count).

Weak scaling: the per-device batch is fixed (``--per-device-batch``), the global batch is
N times it, as data-parallel training is normally scaled.

    python benchmarks/scaling.py [--config toy_ring_vanilla] [--per-device-batch 64] \
        [--devices 1,2,4,8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def run_one(n: int, config: str, per_device_batch: int, steps: int, force: bool,
            extra: list[str]) -> dict:
    env = dict(os.environ)
    if force:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
    cmd = [sys.executable, "-m", "jaxgan.cli", "bench", "--json", "--config", config,
           "--steps", str(steps), f"train.batch_size={per_device_batch * n}", *extra]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench with {n} devices failed:\n{out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["device_count"] != n:
        raise SystemExit(f"asked for {n} devices, the backend has {r['device_count']}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="toy_ring_vanilla")
    ap.add_argument("--per-device-batch", type=int, default=64)
    ap.add_argument("--devices", default="1,2,4,8")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--no-force", action="store_true", help="use the real devices")
    ap.add_argument("overrides", nargs="*", help="extra KEY=VALUE for every run")
    args = ap.parse_args()
    rows = []
    print(f"{'devices':>7s} {'global batch':>12s} {'images/s':>10s} {'per device':>10s} "
          f"{'steps/s':>8s} {'compile s':>9s}")
    for n in (int(x) for x in args.devices.split(",")):
        r = run_one(n, args.config, args.per_device_batch, args.steps, not args.no_force,
                    args.overrides)
        rows.append(r)
        print(f"{n:7d} {r['batch_size']:12d} {r['images_per_s']:10.0f} "
              f"{r['images_per_s'] / n:10.0f} {r['steps_per_s']:8.1f} {r['compile_s']:9.1f}",
              flush=True)
    base = rows[0]["images_per_s"] / rows[0]["device_count"]
    print("per-device efficiency vs 1 device: " + ", ".join(
        f"{r['device_count']}: {r['images_per_s'] / r['device_count'] / base:.2f}"
        for r in rows))


if __name__ == "__main__":
    main()
