"""A family's scanned step on 1 and on 8 forced host devices, side by side in two
subprocesses (`_multidevice_step.py`), compared leaf by leaf; shared by the family tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def one_vs_eight(tmp_path: Path, family: str, timeout: int = 600
                 ) -> dict[str, np.ndarray]:
    """Run both, assert every state leaf and metric agrees (batch-diversity metrics aside:
    they pair samples within a device's shard), and return the 1-device arrays."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    procs = {n: subprocess.Popen([sys.executable, str(HERE / "_multidevice_step.py"), str(n),
                                  str(tmp_path / f"{n}.npz"), family], env=env)
             for n in (1, 8)}  # side by side: each is one compile, mostly one core
    for p in procs.values():
        assert p.wait(timeout=timeout) == 0
    one, eight = (dict(np.load(tmp_path / f"{n}.npz")) for n in (1, 8))
    assert one.keys() == eight.keys()
    for k in one:
        if k.startswith("metric/") and ("diversity" in k or "dup_frac" in k):
            continue
        np.testing.assert_allclose(eight[k].astype(np.float64), one[k].astype(np.float64),
                                   rtol=2e-5, atol=2e-6, err_msg=k)
    return one
