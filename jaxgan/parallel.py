"""Data parallelism the way pmap does it, with today's API: `jit(shard_map(step))`.

The state is replicated (``P()``) and donated; the batch is split along its batch axis over
a 1-D ``data`` mesh of every device of every process. One code path serves 1 device,
8 forced host devices and a multi-host pod: on many hosts each process hands in only its
own slice of the global batch (`host_to_global`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "data"


def make_mesh(devices: list[Any] | None = None) -> Mesh:
    """A 1-D mesh named ``data`` over all (global) devices."""
    devices = list(devices) if devices is not None else jax.devices()
    return Mesh(np.array(devices), (AXIS,))


def batch_spec(batch_axis: int) -> P:
    return P(*([None] * batch_axis), AXIS)


def parallelize(step: Callable, mesh: Mesh, batch_axis: int, donate: bool = True,
                compiler_options: dict[str, Any] | None = None) -> Callable:
    """jit(shard_map(step)): state replicated and donated, batch split on `batch_axis`.

    `check_vma=False` gives pmap's semantics: inside the step parameters are treated as
    per-device values, the step averages gradients itself with `lax.pmean`, and every
    output of the state is made identical across devices before it leaves (pmean'd
    gradients, pmean'd batch-norm statistics), which the equality test across device
    counts verifies.
    """
    sharded = jax.shard_map(step, mesh=mesh, in_specs=(P(), batch_spec(batch_axis)),
                            out_specs=(P(), P()), check_vma=False)
    return jax.jit(sharded, donate_argnums=(0,) if donate else (),
                   compiler_options=compiler_options or None)


def create_replicated(init_fn: Callable[[], Any], mesh: Mesh) -> Any:
    """Run `init_fn` under jit straight into replicated placement (no host round trip).

    Outputs of one jitted call are distinct buffers, which donation requires: an EMA copy
    that aliases the parameters would otherwise be donated twice.
    """
    return jax.jit(init_fn, out_shardings=NamedSharding(mesh, P()))()


def host_to_global(batch: dict[str, np.ndarray], mesh: Mesh, batch_axis: int) -> Any:
    """This process's slice of the global batch -> one global array sharded over `data`."""
    sharding = NamedSharding(mesh, batch_spec(batch_axis))

    def put(x: np.ndarray) -> jax.Array:
        shape = list(x.shape)
        shape[batch_axis] *= jax.process_count()
        return jax.make_array_from_process_local_data(sharding, x, tuple(shape))

    return jax.tree.map(put, batch)


def maybe_initialize_distributed(coordinator: str | None = None,
                                 num_processes: int | None = None,
                                 process_id: int | None = None) -> bool:
    """Join a multi-process JAX cluster when asked to by flags or the environment.

    On TPU pods and SLURM/GPU clusters `jax.distributed.initialize()` finds everything by
    itself; `JAXGAN_COORDINATOR`, `JAXGAN_NUM_PROCESSES`, `JAXGAN_PROCESS_ID` (or the
    arguments) set them explicitly, e.g. for two processes on one machine.
    """
    coordinator = coordinator or os.environ.get("JAXGAN_COORDINATOR")
    if num_processes is None and "JAXGAN_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["JAXGAN_NUM_PROCESSES"])
    if process_id is None and "JAXGAN_PROCESS_ID" in os.environ:
        process_id = int(os.environ["JAXGAN_PROCESS_ID"])
    if not coordinator and os.environ.get("JAXGAN_DISTRIBUTED", "") != "auto":
        return False
    if coordinator:
        # CPU-only clusters (tests, two processes on one machine) need gloo collectives;
        # the flag does not affect GPU or TPU backends.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator, num_processes=num_processes,
                                   process_id=process_id)
    else:
        jax.distributed.initialize()
    return True
