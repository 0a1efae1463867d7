"""Many GAN iterations per compiled call: the multi-step function the trainer dispatches.

`jaxgan.step` builds ONE iteration, ``(state, batch) -> (state, metrics)``; this module runs
`steps_per_call` of them in one `lax.scan`, their metrics summed on device, and decides
which health level each iteration of the call computes (`scan_with_health`,
`health_schedule`): the costly signals on the last iteration, the light ones on every
`health.light_every`-th, the losses and NaN flag on all. Split from `jaxgan.step` so that
each module holds one idea: the GAN update there, the dispatch here.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.parts import Health
from jaxgan.state import GANState

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


def scan_steps(step: Callable[[GANState, Batch], tuple[GANState, Metrics]],
               unroll: bool = False,
               last: Callable[[GANState, Batch], tuple[GANState, Metrics]] | None = None,
               ) -> Callable[[GANState, Batch], tuple[GANState, Metrics]]:
    """Many GAN iterations per dispatch: `batch` leaves gain a leading `steps_per_call` axis.

    Metrics come back summed over the scanned steps (the trainer divides by the count at
    log time), so nothing but a running sum ever stays on device.

    `last`, when given, runs the final iteration of each call instead of `step`: the same
    update, with more metrics. A metric that only `last` reports is *sampled* there: it
    comes back as that one value, and the ``health_samples`` it reports counts it
    (`jaxgan.diagnostics.signals.interval_means` divides by that count). This is how the
    costly health signals (batch diversity, per-layer norms) stay off the toy MLPs'
    per-step path: at batch 256 the pairwise distances alone cost a fifth of an MLP step.

    Know this on CPU: XLA:CPU runs convolution *gradients* inside a while loop 25-30x
    slower than the same ops in straight-line code (jax 0.10.2: a DCGAN-16 iteration took
    3 s inside `lax.scan`, 0.11 s outside), so convolutional presets use
    `steps_per_call=1` on CPU; `unroll=True` unrolls the loop instead, at a compile time
    that grows with the step count. MLPs (the toys) are fine rolled.
    """

    def many(state: GANState, batches: Batch) -> tuple[GANState, Metrics]:
        n = jax.tree.leaves(batches)[0].shape[0]
        final = last or step
        if n == 1:  # straight-line code: even a one-trip while loop slows conv grads on CPU
            return final(state, jax.tree.map(lambda x: x[0], batches))
        if last is None:
            state, metrics = lax.scan(step, state, batches, unroll=n if unroll else 1)
            return state, jax.tree.map(lambda m: jnp.sum(m, axis=0), metrics)
        state, metrics = lax.scan(step, state, jax.tree.map(lambda x: x[:-1], batches),
                                  unroll=n - 1 if unroll else 1)
        state, final_metrics = last(state, jax.tree.map(lambda x: x[-1], batches))
        summed = {k: jnp.sum(metrics[k], axis=0) + v if k in metrics else v
                  for k, v in final_metrics.items()}
        return state, summed

    return many


def scan_with_health(make_step: Callable[..., Callable[[GANState, Batch],
                                                       tuple[GANState, Metrics]]],
                     health: bool, steps_per_call: int, light_every: int = 1
                     ) -> Callable[[GANState, Batch], tuple[GANState, Metrics]]:
    """`scan_steps` over the steps `make_step(health=...)` builds, the costly health
    signals sampled once per call (on the last iteration) when a call runs several. (One
    iteration per call: the trainer samples them itself, calling the full step only at
    the end of each log interval, `RunSetup.light_fn`.)

    `light_every` > 1 samples the light signals too, on every `light_every`-th iteration
    (`health_schedule`); the others run the step with health off, which still reports the
    losses and the NaN flag of every iteration. A toy MLP iteration is so cheap (~1.5 ms
    on a 2-core CPU) that the light signals of every iteration cost 7-10 % of it
    (benchmarks/RESULTS.md, session 14)."""
    if not (health and steps_per_call > 1):
        return scan_steps(make_step(health=health))
    light, full = make_step(health="light"), make_step(health=True)
    if light_every <= 1:
        return scan_steps(light, last=full)
    off = make_step(health=False)

    def group(state: GANState, batches: Batch) -> tuple[GANState, Metrics]:
        state, metrics = _scan_sum(off, state, jax.tree.map(lambda x: x[:-1], batches))
        state, sampled = light(state, jax.tree.map(lambda x: x[-1], batches))
        return state, _merge_sums(metrics, sampled)

    def many(state: GANState, batches: Batch) -> tuple[GANState, Metrics]:
        n = jax.tree.leaves(batches)[0].shape[0]
        if n == 1:
            return full(state, jax.tree.map(lambda x: x[0], batches))
        groups, rest = (n - 1) // light_every, (n - 1) % light_every
        metrics: Metrics = {}
        if groups:
            head = jax.tree.map(lambda x: x[:groups * light_every].reshape(
                groups, light_every, *x.shape[1:]), batches)
            state, ms = lax.scan(group, state, head)
            metrics = jax.tree.map(lambda m: jnp.sum(m, axis=0), ms)
        if rest:
            state, ms = _scan_sum(off, state, jax.tree.map(
                lambda x: x[groups * light_every:n - 1], batches))
            metrics = _merge_sums(metrics, ms)
        state, last = full(state, jax.tree.map(lambda x: x[-1], batches))
        return state, _merge_sums(metrics, last)

    return many


def health_schedule(health: bool, steps_per_call: int, light_every: int = 1
                    ) -> list[tuple[Health, int]]:
    """How many iterations of one multi-step call run each health level, as
    `scan_with_health` builds the call (`jaxgan bench` counts a call's FLOPs from it)."""
    if not health:
        return [(Health.OFF, steps_per_call)]
    if steps_per_call == 1:
        return [(Health.FULL, 1)]
    k = max(light_every, 1)
    light = (steps_per_call - 1) // k
    return [(level, count) for level, count in ((Health.OFF, steps_per_call - 1 - light),
                                                (Health.LIGHT, light), (Health.FULL, 1))
            if count]


def _scan_sum(step: Callable[[GANState, Batch], tuple[GANState, Metrics]], state: GANState,
              batches: Batch) -> tuple[GANState, Metrics]:
    """`step` over the leading axis of `batches`, its metrics summed."""
    state, metrics = lax.scan(step, state, batches)
    return state, jax.tree.map(lambda m: jnp.sum(m, axis=0), metrics)


def _merge_sums(a: Metrics, b: Metrics) -> Metrics:
    """Metric sums of two runs of iterations; a key only one reports keeps its sum."""
    return {**a, **{k: a[k] + v if k in a else v for k, v in b.items()}}
