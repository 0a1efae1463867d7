"""InfoGAN (Chen et al. 2016): latent codes, a Q head on D's trunk, the MI lower bound.

How the codes travel without a special sampler: the step draws ``z ~ N(0, I)`` as for any
GAN, and the generator *reads* its codes off that draw. The categorical code is the argmax
of the first ``K`` coordinates (the argmax of i.i.d. normals is uniform on ``K`` classes)
and each continuous code is ``2 Phi(z_j) - 1`` for the next ``M`` coordinates (uniform on
[-1, 1], Phi the normal CDF). So `sample_latents`, device-count invariance and resume all
work unchanged, and `codes_to_latent` builds a ``z`` carrying chosen codes for traversals.

The discriminator shares its trunk between the real/fake logit and Q: a small head that
outputs ``K`` category logits and ``M`` means, sown as ``intermediates/q``. `make_info_loss`
is the step's ``info_loss(q, z)``: cross-entropy for the categorical code plus the
fixed-variance Gaussian log-likelihood (squared error / 2) for the continuous ones,
weighted by ``model.infogan.weight`` (the paper's lambda = 1 for discrete codes, with the
continuous term scaled by 0.1 as in its MNIST experiments' smaller lambda). The same term
is minimized by G (through the fakes) and by D (Q's parameters), as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from jax.scipy.special import ndtr, ndtri

from jaxgan.errors import ConfigError
from jaxgan.models.family import register_model
from jaxgan.models.layers import DCGAN_INIT, UpConv, bn_scale_init
from jaxgan.models.sampler import make_sampler
from jaxgan.parts import TrickParts, info_terms
from jaxgan.schema import Config

Metrics = dict[str, jax.Array]


def latent_to_codes(z: jax.Array, n_cat: int, n_cont: int
                    ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(categorical int (B,), continuous (B, M) in [-1, 1], remaining noise)."""
    cat = jnp.argmax(z[:, :n_cat], axis=-1) if n_cat > 0 else jnp.zeros(z.shape[:1], jnp.int32)
    cont = 2.0 * ndtr(z[:, n_cat:n_cat + n_cont]) - 1.0
    return cat, cont, z[:, n_cat + n_cont:]


def codes_to_latent(cat: jax.Array, cont: jax.Array, noise: jax.Array, n_cat: int
                    ) -> jax.Array:
    """The inverse of `latent_to_codes`: a z whose codes are exactly `cat` and `cont`."""
    head = 4.0 * jax.nn.one_hot(cat, n_cat) if n_cat > 0 else jnp.zeros((cat.shape[0], 0))
    c = jnp.clip(cont, -1 + 1e-6, 1 - 1e-6)
    return jnp.concatenate([head, ndtri((c + 1.0) / 2.0), noise], axis=-1)


def _bn(train: bool, axis_name: str | None, dtype) -> nn.BatchNorm:
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        scale_init=bn_scale_init, axis_name=axis_name, dtype=dtype)


class InfoGANGenerator(nn.Module):
    """The InfoGAN MNIST generator generalized to powers of two: FC 1024, FC to a
    (res/4)^2 x 2W map, then 4x4 stride-2 up-convolutions, BN + ReLU, tanh output."""

    resolution: int = 32
    channels: int = 1
    width: int = 64
    n_cat: int = 10
    n_cont: int = 2
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        del y  # unsupervised: the categorical code plays the label's role
        cat, cont, noise = latent_to_codes(z, self.n_cat, self.n_cont)
        parts = [noise, cont]
        if self.n_cat > 0:
            parts.insert(0, jax.nn.one_hot(cat, self.n_cat, dtype=z.dtype))
        h = jnp.concatenate(parts, axis=-1).astype(self.dtype)
        h = nn.relu(_bn(train, self.bn_axis_name, self.dtype)(
            nn.Dense(1024, kernel_init=DCGAN_INIT, dtype=self.dtype)(h)))
        s, ch = self.resolution // 4, 2 * self.width
        h = nn.Dense(s * s * ch, kernel_init=DCGAN_INIT, dtype=self.dtype)(h)
        h = nn.relu(_bn(train, self.bn_axis_name, self.dtype)(h.reshape(-1, s, s, ch)))
        h = UpConv(self.width, dtype=self.dtype, name="up0")(h)
        h = nn.relu(_bn(train, self.bn_axis_name, self.dtype)(h))
        h = UpConv(self.channels, use_bias=True, dtype=self.dtype, name="to_image")(h)
        return jnp.tanh(h.astype(jnp.float32))


class InfoGANDiscriminator(nn.Module):
    """Conv 4x4/2 (W) LReLU, conv 4x4/2 (2W) BN LReLU, FC 1024 BN LReLU -> the logit;
    Q: FC 128 BN LReLU on the same 1024 features -> K logits + M means (``intermediates/q``).
    """

    resolution: int = 32
    width: int = 64
    n_cat: int = 10
    n_cont: int = 2
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        del y
        conv = lambda f, n: nn.Conv(f, (4, 4), (2, 2), padding=((1, 1), (1, 1)),
                                    kernel_init=DCGAN_INIT, dtype=self.dtype, name=n)
        h = nn.leaky_relu(conv(self.width, "conv0")(x.astype(self.dtype)), 0.1)
        h = conv(2 * self.width, "conv1")(h)
        h = nn.leaky_relu(_bn(train, self.bn_axis_name, self.dtype)(h), 0.1)
        h = nn.Dense(1024, kernel_init=DCGAN_INIT, dtype=self.dtype)(h.reshape(x.shape[0], -1))
        h = nn.leaky_relu(_bn(train, self.bn_axis_name, self.dtype)(h), 0.1)
        self.sow("intermediates", "features", h.astype(jnp.float32))
        if self.n_cat + self.n_cont == 0:  # no codes: no Q head (models/dcgan_fc.py)
            out = nn.Dense(1, kernel_init=DCGAN_INIT, dtype=self.dtype, name="logit")(h)
            return out.reshape(x.shape[0]).astype(jnp.float32)
        q = nn.Dense(128, kernel_init=DCGAN_INIT, dtype=self.dtype, name="q_hidden")(h)
        q = nn.leaky_relu(nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                                       scale_init=bn_scale_init, axis_name=self.bn_axis_name,
                                       dtype=self.dtype, name="q_bn")(q), 0.1)
        q = nn.Dense(self.n_cat + self.n_cont, dtype=self.dtype, name="q_out")(q)
        self.sow("intermediates", "q", q.astype(jnp.float32))
        out = nn.Dense(1, kernel_init=DCGAN_INIT, dtype=self.dtype, name="logit")(h)
        return out.reshape(x.shape[0]).astype(jnp.float32)


def info_loss_terms(q: jax.Array, z: jax.Array, n_cat: int, n_cont: int
                    ) -> tuple[jax.Array, jax.Array]:
    """(categorical cross-entropy, continuous squared error / 2), batch means."""
    cat, cont, _ = latent_to_codes(z, n_cat, n_cont)
    ce = jnp.zeros(())
    if n_cat > 0:
        ce = jnp.mean(-jnp.take_along_axis(jax.nn.log_softmax(q[:, :n_cat]), cat[:, None],
                                           axis=-1))
    mse = jnp.mean(0.5 * jnp.sum(jnp.square(q[:, n_cat:n_cat + n_cont] - cont), axis=-1))
    return ce, mse


def make_info_loss(cfg: Config):
    """The step's ``info_loss(q, z) -> (scalar, metrics)`` for the config's codes."""
    m = cfg.model
    k, c, w = m.infogan.categorical, m.infogan.continuous, m.infogan.weight

    def info_loss(q: jax.Array, z: jax.Array) -> tuple[jax.Array, Metrics]:
        ce, mse = info_loss_terms(q, z, k, c)
        return w * (ce + 0.1 * mse), {"info_ce": ce, "info_cont": mse}

    return info_loss


def traversal_latents(n_cat: int, n_cont: int, latent_dim: int, cont_index: int = 0,
                      steps: int = 10, seed: int = 0, span: float = 1.0) -> jax.Array:
    """Latents for a traversal grid: row r fixes category r (one shared noise), columns
    sweep continuous code `cont_index` over [-span, span] (the paper's Figure 2 layout;
    span 2 reproduces its extrapolation). Shape (n_cat * steps, latent_dim)."""
    rows = max(n_cat, 1)
    noise = jax.random.normal(jax.random.PRNGKey(seed), (1, latent_dim - n_cat - n_cont))
    cat = jnp.repeat(jnp.arange(rows), steps)
    cont = jnp.zeros((rows * steps, n_cont))
    if n_cont > 0:
        sweep = jnp.tile(jnp.linspace(-span, span, steps), rows)
        cont = cont.at[:, cont_index].set(sweep)
    return codes_to_latent(cat, cont, jnp.repeat(noise, rows * steps, axis=0), n_cat)


def traversal_grid(models: Any, state: Any, cfg: Config, cont_index: int = 0,
                   steps: int = 10, seed: int = 0) -> np.ndarray:
    """Samples for `traversal_latents` from the (EMA) generator, in inference mode.

    Runs through the jit-compiled, cached sampler of `jaxgan.sampling`, so the trainer's
    periodic traversal grids compile once per run rather than dispatching op by op.
    """
    m = cfg.model
    z = traversal_latents(m.infogan.categorical, m.infogan.continuous, m.latent_dim, cont_index,
                          steps, seed)
    params = state.ema_params if cfg.train.ema_decay > 0 else state.g_params
    out = make_sampler(models)(params, state.g_batch_stats, z,
                               jnp.zeros((z.shape[0],), jnp.int32))
    return np.asarray(out, np.float32)


def traversal_panel(models: Any, state: Any, cfg: Config, steps: int = 10, seed: int = 0
                    ) -> tuple[np.ndarray, int]:
    """(images, ncols) of one traversal figure: a row per category; per continuous code a
    block of `steps` columns sweeping that code over [-1, 1] (the others at 0), all with
    the same noise. Without continuous codes the columns are `steps` noise draws instead,
    so the rows still show whether a category means one digit whatever the noise.

    One figure for all codes, because the question a traversal answers is comparative:
    which code took the class, which ones took width or slant.
    """
    m = cfg.model
    rows = max(m.infogan.categorical, 1)
    if m.infogan.continuous > 0:
        blocks = [traversal_grid(models, state, cfg, c, steps, seed)
                  for c in range(m.infogan.continuous)]
    else:
        blocks = [traversal_grid(models, state, cfg, 0, 1, seed + i) for i in range(steps)]
    per_row = [b.reshape(rows, -1, *b.shape[1:]) for b in blocks]  # (rows, cols_b, H, W, C)
    panel = np.concatenate(per_row, axis=1)
    return panel.reshape(-1, *panel.shape[2:]), panel.shape[1]


def _info_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return InfoGANGenerator(cfg.data.resolution, cfg.data.channels, m.g_width,
                            m.infogan.categorical, m.infogan.continuous, bn_axis, dtype)


def _info_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return InfoGANDiscriminator(cfg.data.resolution, m.d_width, m.infogan.categorical,
                                m.infogan.continuous, bn_axis, dtype)


@dataclass
class InfoGANConfig:
    """``model.infogan.*``: InfoGAN's latent codes and the weight of their loss."""

    categorical: int = 0  # categories of the categorical code (0: none)
    continuous: int = 0  # number of Uniform(-1, 1) continuous codes
    weight: float = 1.0  # lambda of the mutual-information loss


def validate_codes(cfg: Config, device_count: int | None = None) -> None:
    """InfoGAN's own config fields: its codes exist and fit in the latent."""
    m = cfg.model
    for key in ("categorical", "continuous"):
        if getattr(m.infogan, key) < 0:
            raise ConfigError(f"model.infogan.{key} must be >= 0, got "
                              f"{getattr(m.infogan, key)}")
    if m.generator == "infogan" and m.infogan.categorical + m.infogan.continuous == 0:
        raise ConfigError("model.generator=infogan needs model.infogan.categorical > 0 or "
                          "model.infogan.continuous > 0")
    if m.infogan.categorical + m.infogan.continuous > m.latent_dim:
        raise ConfigError("model.infogan.categorical + model.infogan.continuous must not exceed "
                          f"model.latent_dim={m.latent_dim}")


def traversal_figures(models: Any, state: Any, cfg: Config) -> dict[str, tuple[Any, int]]:
    """The figure written beside every sample grid: ``{"traversal": (images, ncols)}``
    (`traversal_panel`, with the run's seed, so successive grids are comparable)."""
    return {"traversal": traversal_panel(models, state, cfg, 10, cfg.seed)}


def info_parts(cfg: Config) -> TrickParts:
    """InfoGAN's mutual information in both players' objectives (`parts.info_terms`)."""
    d_info, g_info = info_terms(make_info_loss(cfg))
    return TrickParts(d_terms=(d_info,), g_terms=(g_info,))


register_model("infogan", _info_g, _info_d, paired=True, packable=False, spectral_norm=False,
               config=InfoGANConfig, validate=validate_codes,
               step_parts=info_parts,
               panels=traversal_figures)
