"""Drawing samples from a generator: fixed-noise grids during training, `jaxgan sample`.

Sampling uses the EMA generator where the run keeps one, in inference mode (batch norm
with its running statistics), from noise that is a pure function of the seed so grids of
successive steps show the same latents.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import streams
from jaxgan.models.sampler import make_sampler
from jaxgan.state import GANModels, GANState
from jaxgan.step import sample_latents


def truncate(key: jax.Array, z: jax.Array, threshold: float | None) -> jax.Array:
    """The truncation trick (Brock et al. 2019): every entry of z with ``|z| > threshold``
    is drawn again until it falls inside, trading variety for fidelity.

    "Drawn again until inside" is one draw from the normal truncated to
    ``[-threshold, threshold]``, so it costs one pass, and the entries already inside are
    kept: a truncated grid shows the same latents as the plain one wherever they agree.
    None or infinity: z unchanged.
    """
    if threshold is None or threshold == float("inf"):
        return z
    if not threshold > 0:
        raise ValueError(f"truncation must be a positive threshold, got {threshold}")
    fresh = jax.random.truncated_normal(key, -threshold, threshold, z.shape, z.dtype)
    return jnp.where(jnp.abs(z) > threshold, fresh, z)


def fixed_latents(models: GANModels, n: int, seed: int, truncation: float | None = None
                  ) -> tuple[jax.Array, jax.Array]:
    """The same n latents (and class labels cycling 0..K-1) for every grid of a run;
    `truncation` resamples the entries beyond that threshold (`truncate`)."""
    key = jax.random.PRNGKey(seed + streams.LATENTS_SEED_OFFSET)
    z, _ = sample_latents(key, n, models.latent_dim, 0)
    z = truncate(streams.fold(key, streams.TRUNCATION), z, truncation)
    k = max(models.num_classes, 1)
    y = jnp.arange(n, dtype=jnp.int32) % k
    return z, y


def _truncation(models: GANModels, truncation: float | None
                ) -> tuple[GANModels, float | None]:
    """A generator that truncates in its own latent space declares a ``truncation_psi``
    field (StyleGAN2: ``w_avg + psi (w - w_avg)``): `truncation` becomes that field of a
    clone of it and z is left alone; other generators get z truncated (`truncate`)."""
    g = models.generator
    if truncation is None or not hasattr(g, "truncation_psi"):
        return models, truncation
    return models._replace(generator=g.clone(truncation_psi=float(truncation))), None


def generate(models: GANModels, state: GANState, n: int, seed: int, use_ema: bool = True,
             batch_size: int = 256, truncation: float | None = None) -> np.ndarray:
    """n float32 samples from the (EMA) generator, in batches, as a host array; with
    `truncation`, from latents truncated at that threshold (`truncate`), or, for a
    generator with a ``truncation_psi`` field, truncated in its own space with that psi."""
    models, truncation = _truncation(models, truncation)
    sampler = make_sampler(models)
    z, y = fixed_latents(models, n, seed, truncation)
    params = state.ema_params if use_ema else state.g_params
    out = []
    for i in range(0, n, batch_size):
        zb, yb = z[i:i + batch_size], y[i:i + batch_size]
        if zb.shape[0] < batch_size and n > batch_size:  # keep one compiled shape
            pad = batch_size - zb.shape[0]
            zb = jnp.concatenate([zb, jnp.zeros((pad, zb.shape[1]), zb.dtype)])
            yb = jnp.concatenate([yb, jnp.zeros((pad,), yb.dtype)])
            out.append(np.asarray(sampler(params, state.g_batch_stats, zb, yb))[:-pad])
        else:
            out.append(np.asarray(sampler(params, state.g_batch_stats, zb, yb)))
    return np.concatenate(out)[:n].astype(np.float32)


def write_samples(samples: np.ndarray, out: str | Path, centers: np.ndarray | None = None
                  ) -> Path:
    """A grid PNG (or a scatter plot for 2-D samples) when `out` ends in .png, else .npz."""
    from jaxgan.writers import make_grid, save_png, scatter_png

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".png":
        if samples.ndim == 2:
            scatter_png(samples, out, centers)
        else:
            save_png(make_grid(samples), out)
    elif out.suffix == ".npz":
        np.savez(out, samples=samples.astype(np.float32))
    else:
        raise ValueError(f"--out must end in .png or .npz, got {out.name}")
    return out
