"""Run test_sweep's 4-run sweep on N forced host devices and save the final parameters.

Usage: python _multidevice_sweep.py N OUT.npz
"""

import os
import sys

n_devices, out = int(sys.argv[1]), sys.argv[2]
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgan.config import resolve  # noqa: E402
from jaxgan.sweep import run_placement, sweep  # noqa: E402

assert jax.device_count() == n_devices
OVR = ["train.steps=4", "train.steps_per_call=2", "train.log_every=2", "train.batch_size=64"]
rows = sweep(resolve("toy_ring_vanilla", OVR), [0, 3], {"optim.d.lr": ["1e-3", "3e-4"]}, None,
             quiet=True)
leaves = [np.asarray(x) for r in rows for x in jax.tree.leaves((r["state"].g_params,
                                                                r["state"].d_params))]
spread = len(run_placement(len(rows))(np.zeros(len(rows))).sharding.device_set)
np.savez(out, *leaves, spread=spread)
