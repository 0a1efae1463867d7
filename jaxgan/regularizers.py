"""Stabilization tricks as pure functions, plugged into the step by `jaxgan.tricks`.

Every trick is a config switch (`TricksConfig`) and composes with any model and loss,
because each one touches only one seam of the step:

* penalties on D (`gradient_penalty`, `r1_penalty`) are `d_penalty` functions of
  ``(d_logits_fn, d_params, real, fake, y, keys)``, ``keys`` one PRNG key per sample;
* `diffaugment` is the step's `augment`: one policy applied to real and fake batches
  alike (with independent random draws, as in Zhao et al. 2020), differentiable w.r.t.
  the images so G's gradient passes through it;
* the step applies `augment` and `d_input` to each sample with a key derived from its
  index in the global batch, and hands penalties such per-sample keys, so every trick's
  random draws are the same on 1 device and on 2048 (like the latents);
* `instance_noise` (Sonderby et al. 2017; Arjovsky & Bottou 2017) is the step's
  `d_input`: Gaussian noise on every input of D, its std annealed linearly to 0;
* one-sided label smoothing (Salimans et al. 2016) is the label policy's `real_target`;
  random label flipping is its `flip` probability (`parts.LabelPolicy`);
* ProGAN's drift penalty (Karras et al. 2018, Sec. A.1) is a D term (`parts.drift_term`):
  ``eps * E[D(real)^2]`` in D's loss, so a Wasserstein critic's outputs stay near 0;
* WGAN weight clipping (Arjovsky et al. 2017) wraps D's optax optimizer so that its update
  lands the parameters in ``[-c, c]`` (the optimizer state keeps its structure, so
  checkpoints and `init_state` are unaffected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

Metrics = dict[str, jax.Array]
LogitsFn = Callable[[Any, jax.Array, jax.Array], jax.Array]


def _per_sample_sq_norm(g: jax.Array) -> jax.Array:
    return jnp.sum(jnp.square(g.reshape(g.shape[0], -1)), axis=-1)


def input_gradients(logits_fn: LogitsFn, params: Any, x: jax.Array, y: jax.Array
                    ) -> jax.Array:
    """d D(x_i) / d x_i for every sample, by one backward pass of ``sum_i D(x_i)``.

    Exact per sample when D treats samples independently (no batch norm in train mode),
    which is why the WGAN-GP and R1 presets use normalization-free or SN critics.
    """
    return jax.grad(lambda xx: jnp.sum(logits_fn(params, xx, y).astype(jnp.float32)))(x)


def gradient_penalty(logits_fn: LogitsFn, params: Any, real: jax.Array, fake: jax.Array,
                     y: jax.Array, keys: jax.Array, weight: float = 10.0
                     ) -> tuple[jax.Array, Metrics]:
    """WGAN-GP (Gulrajani et al. 2017): ``weight * E[(|grad D(x_hat)|_2 - 1)^2]`` on
    random interpolates ``x_hat = e * real + (1 - e) * fake``, ``e_i ~ U(0, 1)`` drawn
    from sample i's key ``keys[i]``."""
    eps = jax.vmap(lambda k: jax.random.uniform(k, ()))(keys)
    eps = eps.reshape((real.shape[0],) + (1,) * (real.ndim - 1))
    x_hat = eps * real + (1.0 - eps) * jax.lax.stop_gradient(fake)
    norm = jnp.sqrt(_per_sample_sq_norm(input_gradients(logits_fn, params, x_hat, y)) + 1e-12)
    pen = weight * jnp.mean(jnp.square(norm - 1.0))
    return pen, {"gp": pen, "gp_grad_norm": jnp.mean(norm)}


def r1_penalty(logits_fn: LogitsFn, params: Any, real: jax.Array, fake: jax.Array,
               y: jax.Array, keys: jax.Array | None, gamma: float = 10.0
               ) -> tuple[jax.Array, Metrics]:
    """R1 (Mescheder et al. 2018): ``gamma / 2 * E[|grad D(real)|^2]`` on real data only."""
    del fake, keys
    sq = _per_sample_sq_norm(input_gradients(logits_fn, params, real, y))
    pen = 0.5 * gamma * jnp.mean(sq)
    return pen, {"r1": pen}


def combine_penalties(*penalties: Callable[..., tuple[jax.Array, Metrics]]):
    """One `d_penalty` summing several (each gets its own per-sample keys); None when
    given none."""
    penalties = tuple(p for p in penalties if p is not None)
    if not penalties:
        return None

    def penalty(logits_fn, params, real, fake, y, keys):
        total, metrics = jnp.zeros((), jnp.float32), {}
        for i, p in enumerate(penalties):
            own = jax.vmap(lambda k, i=i: jax.random.fold_in(k, i))(keys)
            v, m = p(logits_fn, params, real, fake, y, own)
            total, metrics = total + v, {**metrics, **m}
        return total, metrics

    return penalty


# ----------------------------------------------------------------------------- noise

def instance_noise_std(step: jax.Array, std: float, anneal_steps: int) -> jax.Array:
    """``std`` linearly annealed to 0 over `anneal_steps` iterations (constant if 0)."""
    if anneal_steps <= 0:
        return jnp.asarray(std, jnp.float32)
    frac = jnp.clip(1.0 - step.astype(jnp.float32) / anneal_steps, 0.0, 1.0)
    return std * frac


def make_instance_noise(std: float, anneal_steps: int = 0):
    """The step's `input_noise(key, step, x)`: x plus annealed N(0, std^2) noise."""

    def noise(key: jax.Array, step: jax.Array, x: jax.Array) -> jax.Array:
        s = instance_noise_std(step, std, anneal_steps)
        return x + s.astype(x.dtype) * jax.random.normal(key, x.shape, x.dtype)

    return noise


# ----------------------------------------------------------------------------- DiffAugment
# Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training": the
# same transformations, magnitudes and ordering as the authors' DiffAugment_pytorch.py
# (images in [-1, 1]); per-sample parameters are drawn from the key, so one key gives one
# set of transformations whatever batch it is applied to.

def _brightness(key, x):
    return x + (jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype) - 0.5)


def _saturation(key, x):
    m = jnp.mean(x, axis=3, keepdims=True)
    return (x - m) * (jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype) * 2) + m


def _contrast(key, x):
    m = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - m) * (jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype) + 0.5) + m


def _color(key, x):
    k1, k2, k3 = jax.random.split(key, 3)
    return _contrast(k3, _saturation(k2, _brightness(k1, x)))


def translation_params(key: jax.Array, n: int, h: int, w: int, ratio: float = 0.125
                       ) -> jax.Array:
    """(n, 2) integer shifts in [-s, s], s = round(ratio * size), per sample."""
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    k1, k2 = jax.random.split(key)
    return jnp.stack([jax.random.randint(k1, (n,), -sh, sh + 1),
                      jax.random.randint(k2, (n,), -sw, sw + 1)], axis=1)


def _shift(img: jax.Array, t: jax.Array) -> jax.Array:
    """out[i, j] = img[i + t0, j + t1], zero outside (the reference's zero padding)."""
    h, w = img.shape[0], img.shape[1]
    ri, ci = jnp.arange(h) + t[0], jnp.arange(w) + t[1]
    mask = ((ri >= 0) & (ri < h))[:, None] & ((ci >= 0) & (ci < w))[None, :]
    out = img[jnp.clip(ri, 0, h - 1)][:, jnp.clip(ci, 0, w - 1)]
    return out * mask[:, :, None].astype(img.dtype)


def _translation(key, x, ratio: float = 0.125):
    t = translation_params(key, x.shape[0], x.shape[1], x.shape[2], ratio)
    return jax.vmap(_shift)(x, t)


def cutout_masks(key: jax.Array, n: int, h: int, w: int, ratio: float = 0.5) -> jax.Array:
    """(n, h, w) masks: 0 inside a random square of side ratio * size (may be clipped)."""
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    k1, k2 = jax.random.split(key)
    oy = jax.random.randint(k1, (n, 1), 0, h + (1 - ch % 2)) - ch // 2
    ox = jax.random.randint(k2, (n, 1), 0, w + (1 - cw % 2)) - cw // 2
    rows = (jnp.arange(h)[None] >= oy) & (jnp.arange(h)[None] < oy + ch)
    cols = (jnp.arange(w)[None] >= ox) & (jnp.arange(w)[None] < ox + cw)
    return 1.0 - (rows[:, :, None] & cols[:, None, :]).astype(jnp.float32)


def _cutout(key, x, ratio: float = 0.5):
    m = cutout_masks(key, x.shape[0], x.shape[1], x.shape[2], ratio)
    return x * m[..., None].astype(x.dtype)


DIFFAUGMENT_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    ops = tuple(p.strip() for p in policy.split(",") if p.strip())
    for op in ops:
        if op not in DIFFAUGMENT_OPS:
            raise ValueError(f"unknown DiffAugment op {op!r}; choose from "
                             f"{', '.join(DIFFAUGMENT_OPS)}")
    return ops


def diffaugment(key: jax.Array, x: jax.Array, policy: str | tuple[str, ...]) -> jax.Array:
    """Apply the policy's ops in order (color, then translation, then cutout as written)."""
    ops = parse_policy(policy) if isinstance(policy, str) else policy
    for i, op in enumerate(ops):
        x = DIFFAUGMENT_OPS[op](jax.random.fold_in(key, i), x)
    return x


def make_diffaugment(policy: str) -> Callable[[jax.Array, jax.Array], jax.Array] | None:
    """The step's `augment(key, images)` for a policy string; None for an empty policy."""
    ops = parse_policy(policy)
    if not ops:
        return None
    return lambda key, x: diffaugment(key, x, ops)


# ----------------------------------------------------------------------------- clipping

def clip_params_after(inner: optax.GradientTransformation, clip: float
                      ) -> optax.GradientTransformation:
    """`inner`, then move the parameters into ``[-clip, clip]`` (WGAN's weight clipping).

    The state is `inner`'s own, unchanged in structure, so a state made with `inner`
    (and every checkpoint of it) works with the wrapped optimizer.
    """

    def update(updates, state, params=None):
        updates, state = inner.update(updates, state, params)
        updates = jax.tree.map(lambda u, p: jnp.clip(p + u, -clip, clip) - p, updates, params)
        return updates, state

    return optax.GradientTransformation(inner.init, update)


def _ortho_weights(params: Any) -> list[jax.Array]:
    """The weights orthogonal regularization reads: every parameter of two or more
    dimensions except embedding tables (Flax's ``embedding``: a class table is a lookup,
    not a map whose filters should decorrelate; BigGAN-PyTorch leaves its shared
    embedding out too)."""
    leaves = jax.tree_util.tree_leaves_with_path(params)
    return [w for path, w in leaves if w.ndim >= 2 and
            getattr(path[-1], "key", None) != "embedding"]


def orthogonal_penalty(params: Any, beta: float) -> jax.Array:
    """BigGAN's orthogonal regularization (Brock et al. 2019, eq. 3):
    ``beta * sum_W ||W^T W * (1 - I)||_F^2``, each W read as (fan-in, filters), so the
    Gram matrix is between filters (a conv kernel flattened over (H, W, Cin), as spectral
    norm reads it).

    Unlike plain orthogonality it leaves the filters' norms free and only pushes them
    apart, which is what keeps G amenable to truncation. Note BigGAN-PyTorch's hand-written
    gradient, ``2 beta (W W^T * (1 - I)) W``, is that of ``beta / 2`` times this penalty.
    """
    total = jnp.zeros((), jnp.float32)
    for w in _ortho_weights(params):
        mat = w.reshape(-1, w.shape[-1]).astype(jnp.float32)
        gram = mat.T @ mat
        total = total + jnp.sum(jnp.square(gram * (1.0 - jnp.eye(gram.shape[0]))))
    return beta * total


def add_orthogonal_grad(inner: optax.GradientTransformation, beta: float
                        ) -> optax.GradientTransformation:
    """`inner` fed G's gradients plus the gradient of `orthogonal_penalty` (``beta``).

    An optimizer wrapper rather than a term of G's loss because the step differentiates
    G's loss through the saved VJP of its fakes, where the parameters are not an input; it
    is also how BigGAN-PyTorch applies it (added to ``.grad`` after the backward pass). The
    state is `inner`'s own, unchanged in structure, as `clip_params_after` keeps it.
    """

    def update(updates, state, params=None):
        reg = jax.grad(orthogonal_penalty)(params, beta)
        updates = jax.tree.map(lambda g, r: g + r.astype(g.dtype), updates, reg)
        return inner.update(updates, state, params)

    return optax.GradientTransformation(inner.init, update)


__all__ = ["gradient_penalty", "r1_penalty", "combine_penalties", "input_gradients",
           "instance_noise_std", "make_instance_noise", "diffaugment", "make_diffaugment",
           "translation_params", "cutout_masks", "parse_policy", "clip_params_after",
           "orthogonal_penalty", "add_orthogonal_grad", "DIFFAUGMENT_OPS"]
