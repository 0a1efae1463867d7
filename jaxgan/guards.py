"""Small guards the training loop leans on: finiteness, cross-process agreement, local copies.

They live apart from `trainer.py` so the loop stays readable in one sitting, and because
each one encodes a rule that is easy to get wrong on many hosts:

* a decision that changes the control flow (stop on a signal, roll back on a NaN) must be
  taken by every process at the same step, or the next collective deadlocks;
* a computation only process 0 wants (a sample grid) must not be dispatched on arrays that
  span other processes' devices, since those processes would never join it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def _all_finite(tree: Any) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
              if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def all_finite(tree: Any) -> bool:
    """True when every floating leaf is finite: one compiled reduction, one scalar fetched.

    One jitted function (not an eager op per leaf) because every eager op compiles once,
    and a state has dozens of leaves.
    """
    return bool(np.asarray(jax.device_get(_all_finite(tree))))


def any_process(flag: bool) -> bool:
    """True when `flag` is set on any process (a collective: every process must call it).

    Used for SIGTERM/SIGINT: on a pod every host receives the signal, but not at the same
    step; without agreement one host would checkpoint and leave while the others wait in
    the next step's all-reduce forever.
    """
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    flags = multihost_utils.process_allgather(np.array([int(flag)], np.int32))
    return bool(np.asarray(flags).max())


def local_copy(tree: Any) -> Any:
    """Host numpy copies of replicated arrays, readable by this process alone.

    On one process this is a plain `device_get`. On many, a replicated global array spans
    devices of every process; its first addressable shard is a full copy.
    """
    if jax.process_count() == 1:
        return jax.device_get(tree)

    def one(x: Any) -> Any:
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return np.asarray(x.addressable_shards[0].data)
        return np.asarray(x)

    return jax.tree.map(one, tree)


def is_injected(s: Any) -> bool:
    """An `optax.inject_hyperparams` state (the learning rates a rollback scales and a
    sweep varies). optax now builds `InjectStatefulHyperparamsState`, which is NOT a
    subclass of the older `InjectHyperparamsState`: match on the shape both share."""
    return isinstance(s, tuple) and hasattr(s, "hyperparams") and hasattr(s, "inner_state")


def scale_learning_rates(state: Any, factor: float) -> Any:
    """Both players' learning rates (kept in the optimizer state by `inject_hyperparams`)
    times `factor`; used by the NaN rollback, without recompiling the step."""

    def scale(opt_state: Any) -> Any:
        def visit(s: Any) -> Any:
            if is_injected(s):
                hp = dict(s.hyperparams)
                hp["learning_rate"] = hp["learning_rate"] * factor
                return s._replace(hyperparams=hp)
            return s

        return jax.tree.map(visit, opt_state, is_leaf=is_injected)

    return state.replace(g_opt_state=scale(state.g_opt_state),
                         d_opt_state=scale(state.d_opt_state))


def learning_rates(state: Any) -> list[float]:
    """The current learning rates of G then D (for logs and tests)."""
    out = []
    for opt_state in (state.g_opt_state, state.d_opt_state):
        for s in jax.tree.leaves(opt_state, is_leaf=is_injected):
            if is_injected(s):
                out.append(float(np.asarray(local_copy(s.hyperparams["learning_rate"]))))
    return out


__all__ = ["all_finite", "any_process", "local_copy", "scale_learning_rates",
           "learning_rates", "is_injected"]
