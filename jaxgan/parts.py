"""The parts a train step is built from: a small frozen structure of pure functions.

`make_train_step(models, loss, parts)` runs the same iteration for every GAN; what differs
between tricks is which functions sit in the `StepParts`:

* `augment(key, images) -> images`: applied to every input of D, real and fake, one sample
  at a time (DiffAugment);
* `d_input(key, step, images) -> images`: a transform of every input of D after the
  augmentation (instance noise, annealed by the step);
* `labels`: the label policy of D's loss (`LabelPolicy`: one-sided smoothing of the real
  target, random real/fake flips);
* `d_terms` / `g_terms`: extra terms of D's and G's objectives, each a `Term` whose
  function maps a `TermInputs` to ``(scalar, metrics)``, added in order (gradient
  penalties and R1, ProGAN's drift, InfoGAN's mutual information);
* `augment_state`: an augmentation with state of its own (ADA's p, in
  `GANState.extra["augment"]`), updated from D's real logits after D's rounds;
* `g_regs`: regularizers of G that need G's parameters as an input (StyleGAN2's path
  length), each a `GReg` whose function maps a `GRegInputs` to ``(scalar, (metrics, new
  G batch stats))``; its gradient joins G's, and with ``every > 1`` it runs lazily, under
  `lax.cond` on the step counter, inside the one compiled step;
* `health`: which on-device health signals the step computes (`Health`).

A new trick is one function and one entry here (a term, or a transform), never a new
parameter of the step: the config's tricks each give a `TrickParts` (what they add to the
step) from the registry in `jaxgan.tricks`. The older keyword form of `make_train_step`
(``augment=``, ``d_penalty=``, ``drift=``, ...) is translated by `parts_from_tricks` into
the same structure, so both build the same program.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jax
import jax.numpy as jnp
import optax

Metrics = dict[str, jax.Array]
Augment = Callable[[jax.Array, jax.Array], jax.Array]  # (key, images) -> images
InputTransform = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]  # (key, step, x)
# (d_logits, d_params, real, fake, y, keys) -> (scalar, metrics): see jaxgan.regularizers
Penalty = Callable[..., tuple[jax.Array, Metrics]]
TxWrapper = Callable[[optax.GradientTransformation], optax.GradientTransformation]

__all__ = ["StepParts", "Term", "TermInputs", "LabelPolicy", "Health", "TrickParts",
           "GReg", "GRegInputs", "StatefulAugment", "parts_from_tricks", "penalty_term",
           "drift_term", "info_terms", "lazy_term"]


class Health(enum.Enum):
    """FULL: every health signal; LIGHT: the per-step ones (accuracies, probabilities,
    gradient norms, NaN flag) without batch diversity, parameter and per-layer norms and
    update ratios, which a multi-step call samples once from a FULL step; OFF: the losses
    and the NaN flag only."""

    FULL = "full"
    LIGHT = "light"
    OFF = "off"

    @classmethod
    def of(cls, value: Health | bool | str) -> Health:
        """The level of the step's older `health` argument (True, False, or a level's name:
        "full", "light", "off")."""
        if isinstance(value, Health):
            return value
        if isinstance(value, str):
            return cls(value)
        return cls.FULL if value else cls.OFF


@dataclass(frozen=True)
class LabelPolicy:
    """D's targets: `real_target` for real data (1 - one-sided label smoothing), and the
    probability `flip` that a sample's real/fake roles swap in D's loss."""

    real_target: float = 1.0
    flip: float = 0.0


@dataclass(frozen=True)
class TermInputs:
    """What an extra term may read. In D's objective: `d_logits(params, x, y)` (D with the
    batch statistics of this update), `d_params`, the inputs of D after augmentation and
    transforms (`real`, `fake`), `y_real`, both logits, InfoGAN's `q` head on the fakes
    (when a term `needs_q`), the latents `z` and `keys()`, one PRNG key per sample of the
    global batch, and `step`, the index of this D update over the run (``step *
    n_critic + round``: what lazy terms count). In G's: `fake` (as D saw it),
    `fake_logits`, `q`, `z`, `y_fake`."""

    d_logits: Callable[..., jax.Array] | None = None
    d_params: Any = None
    real: jax.Array | None = None
    fake: jax.Array | None = None
    y_real: jax.Array | None = None
    y_fake: jax.Array | None = None
    real_logits: jax.Array | None = None
    fake_logits: jax.Array | None = None
    q: jax.Array | None = None
    z: jax.Array | None = None
    keys: Callable[[], jax.Array] = lambda: None  # noqa: E731
    step: jax.Array | None = None


@dataclass(frozen=True)
class Term:
    """An extra objective term: ``fn(TermInputs) -> (scalar, metrics)``; `needs_q` asks D
    to expose InfoGAN's Q head."""

    fn: Callable[[TermInputs], tuple[jax.Array, Metrics]]
    needs_q: bool = False


@dataclass(frozen=True)
class StatefulAugment:
    """An augmentation of every input of D with state of its own in `GANState.extra`
    (ADA's p): `init()` the initial state; `augment(key, images, state)` as the plain
    `augment` (one sample at a time, differentiable); ``update(state, real_logits, step,
    images, pmean) -> (state, metrics)`` after D's rounds, with every round's D(real)
    logits stacked, the real images D saw in the step (global) and the mean over the
    data axis."""

    init: Callable[[], Any]
    augment: Callable[[jax.Array, jax.Array, Any], jax.Array]
    update: Callable[..., tuple[Any, Metrics]]


@dataclass(frozen=True)
class GRegInputs:
    """What a G regularizer reads: the `generator` module, G's `params` (the argument it
    is differentiated by) and `stats` (its batch stats after this step's forward pass),
    the G update's latents `z` and labels `y`, `keys()` (one PRNG key per sample of the
    global batch) and `pmean`, the mean over the data axis (identity on one device), for
    running statistics that must agree on every device."""

    generator: Any
    params: Any
    stats: Any
    z: jax.Array
    y: jax.Array
    keys: Callable[[], jax.Array]
    pmean: Callable[[Any], Any]


@dataclass(frozen=True)
class GReg:
    """A regularizer of G: ``fn(GRegInputs) -> (scalar, (metrics, new G batch stats))``,
    run at the steps where ``step % every == 0`` (lazy regularization, Karras et al.
    2020, Sec. 3.1: the caller scales the value by `every`)."""

    fn: Callable[[GRegInputs], tuple[jax.Array, tuple[Metrics, Any]]]
    every: int = 1
    # the metrics of a skipped step, from G's batch stats (default: zeros)
    idle: Callable[[Any], Metrics] | None = None


@dataclass(frozen=True)
class StepParts:
    augment: Augment | None = None
    d_input: InputTransform | None = None
    labels: LabelPolicy = field(default_factory=LabelPolicy)
    d_terms: tuple[Term, ...] = ()
    g_terms: tuple[Term, ...] = ()
    g_regs: tuple[GReg, ...] = ()
    augment_state: StatefulAugment | None = None
    health: Health = Health.FULL

    @property
    def needs_q(self) -> bool:
        return any(t.needs_q for t in (*self.d_terms, *self.g_terms))


@dataclass(frozen=True)
class TrickParts:
    """What one trick (or a model family) adds to the step; `jaxgan.tricks.combine` merges
    the contributions of a config into one `StepParts`.

    `augment` and `d_input` are single slots, as are the label policy's `real_target` and
    `label_flip` (two tricks setting one is refused there). `d_terms` and `g_terms` are
    appended in order. A `d_penalty` is a `jaxgan.regularizers` penalty: the penalties of
    all tricks are summed into ONE D term by `combine_penalties` (each with the per-sample
    keys of its index), last, which is how the step has always summed them. `tx_d` wraps
    D's optimizer (WGAN's weight clipping) and `tx_g` G's (BigGAN's orthogonal
    regularization), each keeping its state's structure. `g_regs` are appended in order.
    `augment_state` (ADA) is a single slot too, and excludes `augment`.
    """

    augment: Augment | None = None
    d_input: InputTransform | None = None
    real_target: float | None = None
    label_flip: float = 0.0
    d_terms: tuple[Term, ...] = ()
    g_terms: tuple[Term, ...] = ()
    d_penalty: Penalty | None = None
    tx_d: TxWrapper | None = None
    tx_g: TxWrapper | None = None
    g_regs: tuple[GReg, ...] = ()
    augment_state: StatefulAugment | None = None


@dataclass
class LazyTrace:
    """What `lazy_cond` does while a step is traced inside `lazy_tracing`: it collects the
    intervals of the lazy regularizers it meets (`everys`) and, when `static` is a set,
    decides each one at trace time instead of emitting a `lax.cond`: the regularizers
    whose interval is in `static` run, the others skip."""

    everys: set[int] = field(default_factory=set)
    static: frozenset[int] | None = None


_LAZY: contextvars.ContextVar[LazyTrace | None] = contextvars.ContextVar(
    "jaxgan_lazy_trace", default=None)


@contextlib.contextmanager
def lazy_tracing(trace: LazyTrace):
    """Steps traced in this block report their lazy intervals to `trace` (and, with
    ``trace.static``, drop their conds). Only `jaxgan bench` uses it: XLA's cost analysis
    counts a `lax.cond` as its costliest branch, so a step with lazy R1 and path length
    would count both at every iteration; the bench counts each branch pattern instead."""
    token = _LAZY.set(trace)
    try:
        yield trace
    finally:
        _LAZY.reset(token)


def lazy_cond(step: jax.Array, every: int, run: Callable[[Any], Any],
              skip: Callable[[Any], Any]) -> Any:
    """``lax.cond(step % every == 0, run, skip, None)``: the one place lazy regularizers
    branch on the step counter (see `lazy_tracing` for why it is one place)."""
    trace = _LAZY.get()
    if trace is not None:
        trace.everys.add(every)
        if trace.static is not None:
            return run(None) if every in trace.static else skip(None)
    return jax.lax.cond(step % every == 0, run, skip, None)


def lazy_term(term: Term, every: int) -> Term:
    """`term` evaluated only at the D updates where ``step % every == 0`` and scaled by
    `every` there (lazy regularization, Karras et al. 2020, Sec. 3.1), under `lax.cond`
    so the compiled step stays one pure program; 0 (and 0-valued metrics) elsewhere."""
    if every <= 1:
        return term

    def fn(a: TermInputs) -> tuple[jax.Array, Metrics]:
        def run(_):
            value, metrics = term.fn(a)
            return value * every, {k: v * every for k, v in metrics.items()}

        def skip(_):
            out = jax.eval_shape(run, None)
            return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), out)

        return lazy_cond(a.step, every, run, skip)

    return Term(fn, needs_q=term.needs_q)


def penalty_term(d_penalty: Callable[..., tuple[jax.Array, Metrics]]) -> Term:
    """A `d_penalty(d_logits, d_params, real, fake, y, keys)` (gradient penalty, R1; see
    `jaxgan.regularizers`) as a D term."""
    return Term(lambda a: d_penalty(a.d_logits, a.d_params, a.real, a.fake, a.y_real,
                                    a.keys()))


def drift_term(eps: float) -> Term:
    """ProGAN's epsilon_drift: ``eps * mean(D(real)^2)`` in D's loss (metric ``drift``),
    from the logits D already produced: it costs no pass."""
    def drift(a: TermInputs) -> tuple[jax.Array, Metrics]:
        value = eps * jnp.mean(jnp.square(a.real_logits))
        return value, {"drift": value}
    return Term(drift)


def info_terms(info_loss: Callable[[jax.Array, jax.Array], tuple[jax.Array, Metrics]]
               ) -> tuple[Term, Term]:
    """InfoGAN's mutual information `info_loss(q, z) -> (scalar, metrics)` in both
    players' objectives: (the D term with its metrics, the G term)."""
    return (Term(lambda a: info_loss(a.q, a.z), needs_q=True),
            Term(lambda a: (info_loss(a.q, a.z)[0], {}), needs_q=True))


def parts_from_tricks(parts: StepParts | None = None, *, real_target: float | None = None,
                      augment: Augment | None = None,
                      d_penalty: Callable[..., Any] | None = None,
                      input_noise: InputTransform | None = None, label_flip: float = 0.0,
                      info_loss: Callable[..., Any] | None = None, drift: float = 0.0,
                      health: Health | bool | str | None = None) -> StepParts:
    """`parts` (default: none) with the older keyword tricks of `make_train_step` added.

    The D terms keep the order the step has always summed them in (mutual information,
    drift, then the penalties), so the same tricks give the same numbers either way.
    """
    parts = parts or StepParts()
    d_terms, g_terms = list(parts.d_terms), list(parts.g_terms)
    if info_loss is not None:
        d_info, g_info = info_terms(info_loss)
        d_terms.append(d_info)
        g_terms.append(g_info)
    if drift > 0:
        d_terms.append(drift_term(drift))
    if d_penalty is not None:
        d_terms.append(penalty_term(d_penalty))
    labels = parts.labels
    if real_target is not None or label_flip:
        labels = LabelPolicy(labels.real_target if real_target is None else real_target,
                             label_flip or labels.flip)
    return replace(parts, augment=augment or parts.augment,
                   d_input=input_noise or parts.d_input, labels=labels,
                   d_terms=tuple(d_terms), g_terms=tuple(g_terms),
                   health=parts.health if health is None else Health.of(health))
