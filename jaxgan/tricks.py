"""The tricks registry: each `tricks.*` switch is one function from the config to what it
adds to the step, declared once with `register_trick`.

Why a registry: the run assembly (`jaxgan.run.step_factory`) builds every step from the
same loop over `TRICKS`, so a new trick is one function, one `register_trick` call and its
field in `schema.TricksConfig`: no branch in the assembly, no parameter of the step. A
trick's function returns a `jaxgan.parts.TrickParts` (a D input transform, an
augmentation, label policy values, D/G terms, a penalty, a wrapper of D's or G's
optimizer) or
None when its switch is off, so a config without tricks builds exactly the default step.

```python
from jaxgan.parts import Term, TrickParts
from jaxgan.tricks import at_least, register_trick

def consistency(cfg):                      # -> TrickParts | None
    w = cfg.tricks.my_weight
    return TrickParts(d_terms=(Term(lambda a: ...),)) if w > 0 else None

register_trick("consistency", consistency, keys=("my_weight",),
               validate=at_least(0.0, "my_weight"))
```

A trick's `validate(cfg)` holds the range rules of its own keys and raises a one-line
`ConfigError`; `jaxgan.config.validate` calls every trick's (`validate_tricks`) before
anything compiles, so the rule sits beside the code that needs it.

Contributions are merged in registration order, after the model family's own
(`ModelFamily.step_parts`, e.g. InfoGAN's mutual information): D terms in that order, then
all penalties summed as one term. The built-ins below are registered in the order that
reproduces the step they have always built (tests/test_bit_identity.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from jaxgan import regularizers as R
from jaxgan.errors import ConfigError
from jaxgan.models.family import generator_family
from jaxgan.parts import (
    Health,
    LabelPolicy,
    StepParts,
    TrickParts,
    drift_term,
    lazy_term,
    penalty_term,
)
from jaxgan.schema import Config

if TYPE_CHECKING:  # not an import edge: jaxgan.state.make_models asks `initial_extra`
    from jaxgan.state import GANModels

__all__ = ["Trick", "TRICKS", "register_trick", "step_parts", "combine", "initial_extra",
           "validate_tricks", "at_least"]

_SINGLE = ("augment", "augment_state", "d_input", "real_target", "label_flip")  # one each


@dataclass(frozen=True)
class Trick:
    """A registered trick: `build(cfg) -> TrickParts | None`, the `tricks.*` fields it
    reads (`keys`), so that every field of `TricksConfig` is owned by one trick, and the
    range rules of those fields (`validate(cfg)`, raising `ConfigError`)."""

    name: str
    build: Callable[[Config], TrickParts | None]
    keys: tuple[str, ...] = ()
    validate: Callable[[Config], None] | None = None


TRICKS: dict[str, Trick] = {}


def register_trick(name: str, build: Callable[[Config], TrickParts | None],
                   keys: Iterable[str] = (),
                   validate: Callable[[Config], None] | None = None) -> Trick:
    """Register `build` under `name`; its contribution joins every step built from then on,
    after those registered before it, and `validate` joins `jaxgan.config.validate`.
    Returns the entry."""
    trick = Trick(name, build, tuple(keys), validate)
    TRICKS[name] = trick
    return trick


def validate_tricks(cfg: Config) -> None:
    """Every registered trick's rules, in registration order (`jaxgan.config.validate`)."""
    for trick in TRICKS.values():
        if trick.validate is not None:
            trick.validate(cfg)


def at_least(low: float, *keys: str, note: str = "") -> Callable[[Config], None]:
    """A validator: each ``tricks.KEY`` is >= `low` (`note`, if any, ends the message)."""
    def check(cfg: Config) -> None:
        for key in keys:
            value = getattr(cfg.tricks, key)
            if value < low:
                what = "a positive integer" if low == 1 else f">= {low:g}"
                raise ConfigError(f"tricks.{key} must be {what}{note}, got {value}")
    return check


def _below_half(key: str) -> Callable[[Config], None]:
    def check(cfg: Config) -> None:
        if not 0.0 <= getattr(cfg.tricks, key) < 0.5:
            raise ConfigError(f"tricks.{key} must be in [0, 0.5), got {getattr(cfg.tricks, key)}")
    return check


def _diffaugment_ops(cfg: Config) -> None:
    for op in (o.strip() for o in cfg.tricks.diffaugment.split(",") if o.strip()):
        if op not in R.DIFFAUGMENT_OPS:
            raise ConfigError(f"tricks.diffaugment has {op!r}; use a comma-separated subset "
                              f"of: {', '.join(R.DIFFAUGMENT_OPS)}")


def _r1_rules(cfg: Config) -> None:
    at_least(0.0, "r1_gamma")(cfg)
    at_least(1, "r1_every", note=" (1: R1 at every D update; StyleGAN2's lazy R1: 16)")(cfg)


def _ada_rules(cfg: Config) -> None:
    from jaxgan.augment_ada import validate_ada

    validate_ada(cfg)


def combine(contributions: Iterable[tuple[str, TrickParts]], models: GANModels
            ) -> tuple[StepParts, GANModels]:
    """Merge named contributions, in order, into one `StepParts` (health `FULL`) and the
    models with D's and G's optimizers wrapped; `models` itself when nothing wraps them."""
    owner: dict[str, str] = {}
    single: dict[str, object] = {}
    d_terms, g_terms, penalties, g_regs = [], [], [], []
    tx_d, tx_g = models.tx_d, models.tx_g
    for name, c in contributions:
        for slot in _SINGLE:
            value = getattr(c, slot)
            if value is None or (slot == "label_flip" and not value):
                continue
            if slot in owner:
                raise ValueError(f"tricks {owner[slot]!r} and {name!r} both set {slot}")
            owner[slot], single[slot] = name, value
        d_terms.extend(c.d_terms)
        g_terms.extend(c.g_terms)
        g_regs.extend(c.g_regs)
        if c.d_penalty is not None:
            penalties.append(c.d_penalty)
        if c.tx_d is not None:
            tx_d = c.tx_d(tx_d)
        if c.tx_g is not None:
            tx_g = c.tx_g(tx_g)
    if "augment" in owner and "augment_state" in owner:
        raise ValueError(f"tricks {owner['augment']!r} and {owner['augment_state']!r} both "
                         "augment D's inputs")
    penalty = R.combine_penalties(*penalties)
    if penalty is not None:
        d_terms.append(penalty_term(penalty))
    real_target = single.get("real_target")
    parts = StepParts(augment=single.get("augment"), d_input=single.get("d_input"),
                      labels=LabelPolicy(1.0 if real_target is None else real_target,
                                         single.get("label_flip", 0.0)),
                      d_terms=tuple(d_terms), g_terms=tuple(g_terms), g_regs=tuple(g_regs),
                      augment_state=single.get("augment_state"), health=Health.FULL)
    if tx_d is not models.tx_d or tx_g is not models.tx_g:
        models = models._replace(tx_d=tx_d, tx_g=tx_g)
    if parts.augment_state is not None:  # its state starts in GANState.extra
        init = parts.augment_state.init
        models = models._replace(init_extra=lambda: {"augment": init()})
    return parts, models


def step_parts(cfg: Config, models: GANModels) -> tuple[StepParts, GANModels]:
    """The config's step parts: its model family's contribution, then every registered
    trick's, merged by `combine`; `models` with an optimizer wrapped where a trick asks."""
    contributions: list[tuple[str, TrickParts]] = []
    family = generator_family(cfg)
    if family.step_parts is not None:
        contributions.append((f"model.generator={family.name}", family.step_parts(cfg)))
    for trick in TRICKS.values():
        c = trick.build(cfg)
        if c is not None:
            contributions.append((trick.name, c))
    return combine(contributions, models)


def initial_extra(cfg: Config, models: GANModels) -> Callable[[], dict] | None:
    """The initial `GANState.extra` of the config's tricks (None when none keeps state):
    `jaxgan.state.make_models` puts it in the models every run assembly starts from, so
    `init_state` and the restore template have the trick state wherever they are built."""
    return step_parts(cfg, models)[1].init_extra


# ----------------------------------------------------------------------------- built-ins
# Each reads its own switch and contributes nothing when it is off.

def _label_smoothing(cfg: Config) -> TrickParts | None:
    """One-sided label smoothing (Salimans et al. 2016): D's real target is 1 - s."""
    s = cfg.tricks.label_smoothing
    return TrickParts(real_target=1.0 - s) if s > 0 else None


def _label_flip(cfg: Config) -> TrickParts | None:
    """Random label flipping: each sample's real/fake roles swap with probability p."""
    p = cfg.tricks.label_flip
    return TrickParts(label_flip=p) if p > 0 else None


def _instance_noise(cfg: Config) -> TrickParts | None:
    """Instance noise (Sonderby et al. 2017) on every input of D, annealed to 0."""
    t = cfg.tricks
    if t.instance_noise <= 0:
        return None
    return TrickParts(d_input=R.make_instance_noise(t.instance_noise,
                                                    t.instance_noise_anneal_steps))


def _diffaugment(cfg: Config) -> TrickParts | None:
    """DiffAugment (Zhao et al. 2020): one policy on real and fake inputs of D alike."""
    augment = R.make_diffaugment(cfg.tricks.diffaugment)
    return TrickParts(augment=augment) if augment is not None else None


def _gradient_penalty(cfg: Config) -> TrickParts | None:
    """WGAN-GP (Gulrajani et al. 2017) on random interpolates, weight lambda."""
    w = cfg.tricks.gp_weight
    return TrickParts(d_penalty=partial(R.gradient_penalty, weight=w)) if w > 0 else None


def _r1(cfg: Config) -> TrickParts | None:
    """R1 (Mescheder et al. 2018): gamma / 2 * |grad D(real)|^2. With ``tricks.r1_every``
    k > 1 it is lazy (StyleGAN2): computed at every k-th D update only, times k, under
    `lax.cond` inside the step; a D term of its own then, no longer summed with the other
    penalties (the default, k = 1, builds the same program as before)."""
    g, every = cfg.tricks.r1_gamma, cfg.tricks.r1_every
    if g <= 0:
        return None
    if every > 1:
        return TrickParts(d_terms=(lazy_term(penalty_term(partial(R.r1_penalty, gamma=g)),
                                             every),))
    return TrickParts(d_penalty=partial(R.r1_penalty, gamma=g))


def _weight_clip(cfg: Config) -> TrickParts | None:
    """WGAN's weight clipping: D's optimizer lands its parameters in [-c, c]."""
    c = cfg.tricks.weight_clip
    return TrickParts(tx_d=partial(R.clip_params_after, clip=c)) if c > 0 else None


def _ortho_reg(cfg: Config) -> TrickParts | None:
    """BigGAN's orthogonal regularization of G (Brock et al. 2019): the gradient of
    beta * ||W^T W * (1 - I)||_F^2 over G's weights joins G's before its optimizer."""
    beta = cfg.tricks.ortho_reg
    return TrickParts(tx_g=partial(R.add_orthogonal_grad, beta=beta)) if beta > 0 else None


def _ada(cfg: Config) -> TrickParts | None:
    """ADA (Karras et al. 2020): StyleGAN2-ADA's augmentation of every input of D with
    probability p, p adapted to keep E[sign D(real)] at ``tricks.ada_target``
    (`jaxgan.augment_ada`); p lives in the state."""
    from jaxgan.augment_ada import ada_parts

    return ada_parts(cfg)


def _drift(cfg: Config) -> TrickParts | None:
    """ProGAN's drift penalty (Karras et al. 2018): eps * E[D(real)^2] in D's loss."""
    eps = cfg.tricks.drift_penalty
    return TrickParts(d_terms=(drift_term(eps),)) if eps > 0 else None


register_trick("label_smoothing", _label_smoothing, keys=("label_smoothing",),
               validate=_below_half("label_smoothing"))
register_trick("label_flip", _label_flip, keys=("label_flip",),
               validate=_below_half("label_flip"))
register_trick("instance_noise", _instance_noise,
               keys=("instance_noise", "instance_noise_anneal_steps"),
               validate=at_least(0.0, "instance_noise", "instance_noise_anneal_steps"))
register_trick("diffaugment", _diffaugment, keys=("diffaugment",), validate=_diffaugment_ops)
register_trick("gradient_penalty", _gradient_penalty, keys=("gp_weight",),  # penalty 0
               validate=at_least(0.0, "gp_weight"))
register_trick("r1", _r1, keys=("r1_gamma", "r1_every"),  # penalty 1: its keys fold in 1
               validate=_r1_rules)
register_trick("weight_clip", _weight_clip, keys=("weight_clip",),
               validate=at_least(0.0, "weight_clip"))
register_trick("drift", _drift, keys=("drift_penalty",), validate=at_least(0.0, "drift_penalty"))
register_trick("ortho_reg", _ortho_reg, keys=("ortho_reg",), validate=at_least(0.0, "ortho_reg"))
register_trick("ada", _ada, keys=("ada", "ada_p", "ada_target", "ada_kimg", "ada_interval"),
               validate=_ada_rules)
