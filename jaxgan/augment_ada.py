"""ADA: adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data"), as one stateful augmentation of the step.

Every input of D, real and fake (in D's and G's updates alike), goes through the same
pipeline; each of its transforms is applied to each sample with probability p, drawn with
that sample's key (the step's per-sample keys: the same on any device count). All are
differentiable with respect to the image, so G's gradient passes through them:

* geometric (`GEOMETRIC`): xflip, rotate90, integer translation (``xint``, up to 1/8 of
  the image), isotropic scaling (``scale``, lognormal std 0.2 in log2), arbitrary rotation
  (``rotate``, before and after the anisotropic scaling, each with probability
  ``1 - sqrt(1 - p)``), anisotropic scaling (``aniso``), fractional translation
  (``xfrac``, std 1/8): composed into one affine map about the image centre and applied
  by bilinear sampling with reflection at the borders. The reference also resamples
  through a 2x-upsampled wavelet filter to avoid aliasing; this one samples directly, so
  flips, quarter turns and integer shifts are exact permutations of the pixels.
* colour (`COLOR`): brightness (+N(0, 0.2)), contrast (x lognormal 0.5), luma flip, hue
  rotation about the luma axis, saturation (x lognormal 1): composed into one 4x4 matrix
  on (R, G, B, 1), or its luma part for one-channel images, as the reference does; then
  clipped to the data range [-1, 1], so augmented images stay images of the dataset's
  kind (the reference does not clip).

The heuristic (`AdaState`, kept in the train state so resume is exact): r_t = E[sign
D(real)] over `interval` steps; then ``p += sign(r_t - target) * images / (kimg * 1000)``
with `images` the real images D saw meanwhile (p from 0 to 1 in `kimg` thousand images
at most), clipped to [0, 1]. ``tricks.ada_target=0`` keeps p fixed at ``tricks.ada_p``
(r_t is still measured). `ada_p`, `ada_rt` and `ada_target` are metrics of every step,
signals for the health monitor: the ``d_overfitting`` detector reads them
(`jaxgan.diagnostics.overfitting`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.parts import Metrics, StatefulAugment, TrickParts
from jaxgan.schema import Config

GEOMETRIC = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")
COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
OPS = GEOMETRIC + COLOR
PRESETS = {"bgc": OPS, "bg": GEOMETRIC, "c": COLOR}  # the reference's --augpipe names

__all__ = ["OPS", "PRESETS", "augment", "init_state", "update_state", "ada_parts",
           "validate_ada", "parse_ops"]


def parse_ops(spec: str) -> tuple[str, ...]:
    """``tricks.ada``: a preset name (bgc, bg, c) or a comma-separated list of `OPS`."""
    if spec.strip() in PRESETS:
        return PRESETS[spec.strip()]
    return tuple(o.strip() for o in spec.split(",") if o.strip())


# --------------------------------------------------------------------------- matrices

def _translate(tx, ty):
    one, zero = jnp.ones_like(tx), jnp.zeros_like(tx)
    return jnp.stack([jnp.stack([one, zero, tx]), jnp.stack([zero, one, ty]),
                      jnp.stack([zero, zero, one])])


def _scale(sx, sy):
    zero, one = jnp.zeros_like(sx), jnp.ones_like(sx)
    return jnp.stack([jnp.stack([sx, zero, zero]), jnp.stack([zero, sy, zero]),
                      jnp.stack([zero, zero, one])])


def _rotate(theta):
    c, s = jnp.cos(theta), jnp.sin(theta)
    zero, one = jnp.zeros_like(c), jnp.ones_like(c)
    return jnp.stack([jnp.stack([c, -s, zero]), jnp.stack([s, c, zero]),
                      jnp.stack([zero, zero, one])])


_LUMA = jnp.asarray([1.0, 1.0, 1.0, 0.0]) / math.sqrt(3.0)


def _color_translate(b):
    return jnp.eye(4).at[:3, 3].set(b)


def _color_scale(c):
    return jnp.diag(jnp.stack([c, c, c, jnp.ones_like(c)]))


def _color_rotate(theta):
    """Rotation by theta about the luma axis (Rodrigues), homogeneous."""
    v = _LUMA[:3]
    cross = jnp.asarray([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    r = jnp.cos(theta) * jnp.eye(3) + jnp.sin(theta) * cross + \
        (1 - jnp.cos(theta)) * jnp.outer(v, v)
    return jnp.eye(4).at[:3, :3].set(r)


# ------------------------------------------------------------------------ the pipeline

def _draws(key: jax.Array, p: jax.Array, ops: tuple[str, ...]):
    """Each op's (applied?, uniform, normal) for one sample, from its own folded key."""
    out = {}
    for i, name in enumerate(OPS):
        if name not in ops:
            continue
        k_use, k_u, k_n = jax.random.split(jax.random.fold_in(key, i), 3)
        prob = 1.0 - jnp.sqrt(1.0 - p) if name == "rotate" else p
        use = jax.random.uniform(k_use, (2,)) < prob  # rotate: before and after aniso
        out[name] = (use, jax.random.uniform(k_u, (2,)), jax.random.normal(k_n, (2,)))
    return out


def _geometry(d: dict, h: int, w: int) -> jax.Array:
    """The 3x3 map from an output pixel (centred coordinates) to where it samples."""
    g = jnp.eye(3)

    def on(name, k=0):
        return d[name][0][k] if name in d else False

    if "xflip" in d:
        flip = jnp.where(on("xflip"), jnp.floor(d["xflip"][1][0] * 2), 0.0)  # half the time
        g = g @ _scale(1.0 - 2.0 * flip, jnp.asarray(1.0))
    if "rotate90" in d:
        quarter = jnp.where(on("rotate90"), jnp.floor(d["rotate90"][1][0] * 4), 0.0)
        g = g @ _rotate(-jnp.pi / 2 * quarter)
    if "xint" in d:
        t = (d["xint"][1] * 2 - 1) * 0.125
        t = jnp.where(on("xint"), t, 0.0)
        g = g @ _translate(jnp.round(t[0] * w), jnp.round(t[1] * h))
    if "scale" in d:
        s = jnp.where(on("scale"), jnp.exp2(d["scale"][2][0] * 0.2), 1.0)
        g = g @ _scale(s, s)
    if "rotate" in d:
        theta = jnp.where(on("rotate"), (d["rotate"][1][0] * 2 - 1) * jnp.pi, 0.0)
        g = g @ _rotate(-theta)
    if "aniso" in d:
        s = jnp.where(on("aniso"), jnp.exp2(d["aniso"][2][0] * 0.2), 1.0)
        g = g @ _scale(s, 1.0 / s)
    if "rotate" in d:
        theta = jnp.where(on("rotate", 1), (d["rotate"][1][1] * 2 - 1) * jnp.pi, 0.0)
        g = g @ _rotate(-theta)
    if "xfrac" in d:
        t = jnp.where(on("xfrac"), d["xfrac"][2] * 0.125, 0.0)
        g = g @ _translate(t[0] * w, t[1] * h)
    return g


def _reflect(c: jax.Array, n: int) -> jax.Array:
    """Coordinates folded into [0, n - 1] by reflection about the border pixels."""
    if n == 1:
        return jnp.zeros_like(c)
    period = 2.0 * (n - 1)
    c = jnp.mod(c, period)
    return jnp.where(c > n - 1, period - c, c)


def _warp(img: jax.Array, g: jax.Array) -> jax.Array:
    """Bilinear sampling of one (H, W, C) image at ``g @ (x - cx, y - cy, 1)``."""
    h, w, _ = img.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    ys, xs = jnp.meshgrid(jnp.arange(h) - cy, jnp.arange(w) - cx, indexing="ij")
    src = jnp.einsum("ij,jhw->ihw", g, jnp.stack([xs, ys, jnp.ones_like(xs)]))
    sx, sy = _reflect(src[0] + cx, w), _reflect(src[1] + cy, h)
    x0, y0 = jnp.floor(sx), jnp.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = x0.astype(jnp.int32), y0.astype(jnp.int32)
    x1, y1 = jnp.minimum(x0 + 1, w - 1), jnp.minimum(y0 + 1, h - 1)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _color(d: dict) -> jax.Array:
    """The 4x4 colour matrix on homogeneous (R, G, B, 1)."""
    c = jnp.eye(4)

    def on(name):
        return d[name][0][0] if name in d else False

    if "brightness" in d:
        c = _color_translate(jnp.where(on("brightness"), d["brightness"][2][0] * 0.2, 0.0)) @ c
    if "contrast" in d:
        c = _color_scale(jnp.where(on("contrast"), jnp.exp2(d["contrast"][2][0] * 0.5),
                                   1.0)) @ c
    if "lumaflip" in d:
        flip = jnp.where(on("lumaflip"), jnp.floor(d["lumaflip"][1][0] * 2), 0.0)
        c = (jnp.eye(4) - 2.0 * jnp.outer(_LUMA, _LUMA) * flip) @ c
    if "hue" in d:
        c = _color_rotate(jnp.where(on("hue"), (d["hue"][1][0] * 2 - 1) * jnp.pi, 0.0)) @ c
    if "saturation" in d:
        s = jnp.where(on("saturation"), jnp.exp2(d["saturation"][2][0]), 1.0)
        vv = jnp.outer(_LUMA, _LUMA)
        c = (vv + (jnp.eye(4) - vv) * s) @ c
    return c


def augment(key: jax.Array, images: jax.Array, p: jax.Array,
            ops: tuple[str, ...] = OPS) -> jax.Array:
    """The pipeline on a batch (the step calls it one sample at a time, with that
    sample's key); each transform with probability `p`."""
    keys = jax.random.split(key, images.shape[0])

    def one(k, img):
        d = _draws(k, jnp.asarray(p, jnp.float32), ops)
        x = img.astype(jnp.float32)
        if any(o in d for o in GEOMETRIC):
            x = _warp(x, _geometry(d, *x.shape[:2]))
        if any(o in d for o in COLOR):
            c = _color(d)
            if x.shape[-1] == 3:
                x = x @ c[:3, :3].T + c[:3, 3]
            else:  # luma only, as the reference does for one channel
                m = jnp.mean(c[:3], axis=0)
                x = x * jnp.sum(m[:3]) + m[3]
            x = jnp.clip(x, -1.0, 1.0)
        return x.astype(img.dtype)

    return jax.vmap(one)(keys, images)


# ----------------------------------------------------------------------- the heuristic

def init_state(p: float = 0.0) -> dict[str, jax.Array]:
    """p, the sum and count of sign(D(real)) batch means since the last adjustment, and
    the last r_t (for the metrics between adjustments)."""
    f = jnp.float32
    return {"p": jnp.asarray(p, f), "signs": jnp.zeros((), f), "count": jnp.zeros((), f),
            "rt": jnp.zeros((), f)}


def update_state(s: dict, real_logits: jax.Array, step: jax.Array, images: int,
                 pmean: Callable[[Any], Any], target: float, kimg: float,
                 interval: int) -> tuple[dict, Metrics]:
    """One step's D(real) logits (every critic round's, stacked) into the state; every
    `interval` steps the paper's adjustment of p. `images`: real images D saw this step
    (the global batch times the critic rounds)."""
    signs = s["signs"] + jnp.sum(pmean(jnp.mean(jnp.sign(real_logits), axis=-1)))
    count = s["count"] + real_logits.shape[0]
    s = {**s, "signs": signs, "count": count}

    def adjust(s):  # r_t is measured with p fixed too (target 0): it is a health signal
        rt = s["signs"] / jnp.maximum(s["count"], 1.0)
        p = s["p"]
        if target > 0:
            step_size = images * interval / (kimg * 1000.0)
            p = jnp.clip(p + jnp.sign(rt - target) * step_size, 0.0, 1.0)
        zero = jnp.zeros((), jnp.float32)
        return {"p": p, "signs": zero, "count": zero, "rt": rt}

    s = jax.lax.cond((step + 1) % interval == 0, adjust, lambda s: s, s)
    # the target rides along so the health monitor reads r_t against it (0: p fixed)
    return s, {"ada_p": s["p"], "ada_rt": s["rt"],
               "ada_target": jnp.asarray(target, jnp.float32)}


def validate_ada(cfg: Config) -> None:
    t = cfg.tricks
    unknown = [o for o in parse_ops(t.ada) if o not in OPS]
    if unknown:
        raise ConfigError(f"tricks.ada has {unknown[0]!r}; use bgc, bg, c or a "
                          f"comma-separated subset of: {', '.join(OPS)}")
    if not 0.0 <= t.ada_p <= 1.0:
        raise ConfigError(f"tricks.ada_p is a probability in [0, 1], got {t.ada_p}")
    if not 0.0 <= t.ada_target < 1.0:
        raise ConfigError(f"tricks.ada_target must be in [0, 1) (0: p fixed; the paper: "
                          f"0.6), got {t.ada_target}")
    if not t.ada_kimg > 0 or t.ada_interval < 1:
        raise ConfigError(f"tricks.ada_kimg must be > 0 and tricks.ada_interval >= 1, got "
                          f"{t.ada_kimg} and {t.ada_interval}")
    if t.ada and t.diffaugment:
        raise ConfigError("tricks.ada and tricks.diffaugment both augment D's inputs; "
                          "choose one")


def ada_parts(cfg: Config) -> TrickParts | None:
    """The ADA trick (`jaxgan.tricks`): a `StatefulAugment`, or None when off."""
    t = cfg.tricks
    ops = parse_ops(t.ada)
    if not ops:
        return None
    target, kimg, interval = t.ada_target, t.ada_kimg, t.ada_interval

    def aug(key, images, s):
        return augment(key, images, s["p"], ops)

    def update(s, real_logits, step, images, pmean):
        return update_state(s, real_logits, step, images, pmean, target, kimg, interval)

    return TrickParts(augment_state=StatefulAugment(lambda: init_state(t.ada_p), aug,
                                                    update))
