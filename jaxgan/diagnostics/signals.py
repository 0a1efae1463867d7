"""On-device health signals: cheap, pure, jittable reductions the train step logs.

Every function here is plain `jnp` on float32 with no host callbacks, so the step can call
it inside `jit`/`shard_map`/`lax.scan` and the values reach the host only at log steps,
averaged with the other metrics. They are wrapped in `lax.stop_gradient` because they are
observations, never part of a loss: differentiating `sqrt` at a zero distance would be NaN.

The detectors in `jaxgan.diagnostics.detectors` read these signals; their definitions
(what "accuracy" means for a logit, which pairs count as duplicates) live here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

# A generated sample whose nearest other generated sample is closer than this share of the
# real batch's mean pairwise distance counts as a near-duplicate. 10 % is far below the
# nearest-neighbour distance of real images in D-feature space (typically 40-70 % of the
# mean distance), so healthy batches score ~0 and a collapsed generator scores ~1.
DUP_DISTANCE_FRAC = 0.1

_EPS = 1e-12

# The costly signals (batch diversity, parameter norms, update ratios, per-layer norms:
# keys with a "/"): a step computes them once per log interval, and they reach the log as
# the mean of their samples, not of every iteration (`interval_means`). HEALTH_SAMPLES
# counts the iterations that sampled them.
SAMPLED_KEYS = frozenset({"real_diversity", "fake_diversity", "diversity_ratio", "dup_frac",
                          "real_dup_frac", "g_param_norm", "d_param_norm", "g_update_ratio",
                          "d_update_ratio"})
HEALTH_SAMPLES = "health_samples"
# The light signals (D's accuracies and probabilities, the two global gradient norms): a
# multi-step call of a cheap model computes them on every `health.light_every`-th
# iteration only (`multistep.scan_with_health`); LIGHT_SAMPLES counts the iterations that did.
# The losses and the NaN flag come from every iteration.
LIGHT_KEYS = frozenset({"d_real_acc", "d_fake_acc", "d_real_prob", "d_fake_prob",
                        "g_grad_norm", "d_grad_norm"})
LIGHT_SAMPLES = "light_samples"


def is_sampled(key: str) -> bool:
    """Whether metric `key` is one of the costly signals computed once per interval."""
    return key in SAMPLED_KEYS or "/" in key


def interval_means(sums: Mapping[str, Any], count: int) -> dict[str, float]:
    """A log record's values from metric sums over `count` iterations: every metric's
    mean over the iterations that computed it. The costly signals (`is_sampled`) were
    computed by HEALTH_SAMPLES of them and the light ones (LIGHT_KEYS) by LIGHT_SAMPLES;
    a signal is left out of an interval with no sample of it (a run resumed, or ended,
    between two samples). Sums without a count (older steps) are means over `count`.
    Host floats."""
    counts = {c: float(sums[c]) for c in (HEALTH_SAMPLES, LIGHT_SAMPLES) if c in sums}
    out = {}
    for k, v in sums.items():
        if k in counts:
            continue
        tier = HEALTH_SAMPLES if is_sampled(k) else LIGHT_SAMPLES if k in LIGHT_KEYS else None
        n = counts.get(tier, count)
        if n > 0:
            out[k] = float(v) / n
    return out


def _pairwise_distances(x: jax.Array) -> jax.Array:
    """(B, B) Euclidean distances of the rows of `x`, computed from a Gram matrix.

    Rows are centered first: distances do not change, and the Gram formula then does not
    lose the small distances of near-duplicates to cancellation against a large common
    offset (ReLU features all share a large positive mean).
    """
    x = x.astype(jnp.float32)
    x = x - jnp.mean(x, axis=0, keepdims=True)
    sq = jnp.sum(x * x, axis=-1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    return jnp.sqrt(jnp.maximum(d2, 0.0))


def _off_diagonal_mean(d: jax.Array) -> jax.Array:
    b = d.shape[0]
    mask = 1.0 - jnp.eye(b, dtype=d.dtype)
    return jnp.sum(d * mask) / max(b * (b - 1), 1)


def _dup_frac(d: jax.Array, threshold: jax.Array) -> jax.Array:
    b = d.shape[0]
    if b < 2:
        return jnp.zeros((), jnp.float32)
    nearest = jnp.min(jnp.where(jnp.eye(b, dtype=bool), jnp.inf, d), axis=1)
    return jnp.mean((nearest < threshold).astype(jnp.float32))


def batch_diversity(real_feats: jax.Array, fake_feats: jax.Array) -> dict[str, jax.Array]:
    """How spread the generated batch is compared with the real batch, in D's features.

    Mode collapse shows up as generated samples bunching together long before it is
    visible in a loss curve. Distances are measured in the discriminator's penultimate
    features because that is the space in which D judges the samples, and comparing with
    the real batch in the same space makes the number scale-free (`diversity_ratio` ~1
    for a healthy generator, far below 1 for a collapsed one).

    Args:
      real_feats: (B, F) features of a real batch (leading dims beyond 2 are flattened).
      fake_feats: (B', F) features of a generated batch.

    Returns:
      `real_diversity`, `fake_diversity`: mean pairwise L2 distance (diagonal excluded);
      `diversity_ratio`: fake / real; `dup_frac`: share of generated samples whose nearest
      other generated sample is closer than `DUP_DISTANCE_FRAC` x real mean distance;
      `real_dup_frac`: the same share within the real batch, so that datasets with
      genuinely tight clusters (the 2-D toys) are not mistaken for collapse.
    """
    real = jnp.reshape(real_feats, (real_feats.shape[0], -1))
    fake = jnp.reshape(fake_feats, (fake_feats.shape[0], -1))
    real, fake = jax.lax.stop_gradient(real), jax.lax.stop_gradient(fake)
    d_real = _pairwise_distances(real)
    d_fake = _pairwise_distances(fake)
    real_div = _off_diagonal_mean(d_real)
    fake_div = _off_diagonal_mean(d_fake)
    threshold = DUP_DISTANCE_FRAC * real_div
    return {
        "real_diversity": real_div,
        "fake_diversity": fake_div,
        "diversity_ratio": fake_div / jnp.maximum(real_div, _EPS),
        "dup_frac": _dup_frac(d_fake, threshold),
        "real_dup_frac": _dup_frac(d_real, threshold),
    }


def disc_stats(real_logits: jax.Array, fake_logits: jax.Array) -> dict[str, jax.Array]:
    """How confidently the discriminator separates real from fake on this batch.

    A logit > 0 is D's "real" decision for every loss in jaxgan (for the probabilistic
    losses it is D(x) > 0.5), so accuracies are defined for all losses; the sigmoid
    probabilities are meaningful only for the minimax / non-saturating losses, and the
    detectors use them only there.
    """
    real = jax.lax.stop_gradient(jnp.ravel(real_logits).astype(jnp.float32))
    fake = jax.lax.stop_gradient(jnp.ravel(fake_logits).astype(jnp.float32))
    return {
        "d_real_acc": jnp.mean((real > 0).astype(jnp.float32)),
        "d_fake_acc": jnp.mean((fake < 0).astype(jnp.float32)),
        "d_real_prob": jnp.mean(jax.nn.sigmoid(real)),
        "d_fake_prob": jnp.mean(jax.nn.sigmoid(fake)),
    }


def _float_leaves(tree: Any) -> list[jax.Array]:
    return [
        jnp.asarray(x) for x in jax.tree_util.tree_leaves(tree)
        if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)
    ]


def global_norm(tree: Any) -> jax.Array:
    """The L2 norm of all floating leaves of `tree`, as one float32 scalar.

    Accumulated in float32 even for half-precision trees, so that a large but finite
    float16 norm is not reported as Inf (which would read as divergence) and a bf16 sum
    keeps its precision.
    """
    leaves = _float_leaves(tree)
    if not leaves:
        return jnp.zeros((), jnp.float32)
    total = sum(jnp.sum(jnp.square(x.astype(jnp.float32))) for x in leaves)
    return jax.lax.stop_gradient(jnp.sqrt(total))


def _top_level(tree: Any) -> Mapping[str, Any]:
    """The submodule level of a Flax variables dict (`{'params': {...}}` is unwrapped)."""
    if isinstance(tree, Mapping) and set(tree.keys()) == {"params"}:
        tree = tree["params"]
    if not isinstance(tree, Mapping):
        raise TypeError(f"per_layer_norms needs a dict of submodules, got {type(tree).__name__}")
    return tree


def per_layer_norms(tree: Any, prefix: str) -> dict[str, jax.Array]:
    """`{f"{prefix}/{submodule}": L2 norm}` for each top-level submodule of a params dict.

    Per-layer norms say *where* a gradient vanishes or explodes (a dead first layer of G,
    an exploding last layer of D), which a global norm hides.
    """
    return {f"{prefix}/{name}": global_norm(sub) for name, sub in _top_level(tree).items()}


def update_ratio(updates: Any, params: Any) -> jax.Array:
    """||update|| / ||params||: the relative step size actually taken by the optimizer.

    The rule of thumb is ~1e-3 per step; much larger means the player is thrashing,
    much smaller means it has effectively stopped learning.
    """
    return global_norm(updates) / jnp.maximum(global_norm(params), _EPS)


def nonfinite(*trees: Any) -> jax.Array:
    """1.0 if any floating leaf of any tree holds a NaN or an Inf, else 0.0 (float32).

    Float rather than bool so that averaging over a log interval keeps it meaningful
    (any value > 0 means at least one bad step) and it travels with the other metrics.
    """
    flags = [jnp.any(~jnp.isfinite(x)) for tree in trees for x in _float_leaves(tree)]
    if not flags:
        return jnp.zeros((), jnp.float32)
    return jax.lax.stop_gradient(jnp.any(jnp.stack(flags)).astype(jnp.float32))
