"""The GAN iteration as one pure function: ``(state, batch) -> (state, metrics)``.

One call is one full GAN iteration: `n_critic` discriminator updates, then one generator
update. The function is written for ONE device's shard of the batch; `jaxgan.parallel`
wraps it in `jax.shard_map` over the ``data`` mesh axis, so gradients, batch-norm running
statistics and metrics are averaged with `lax.pmean` (pmap's semantics, today's API).

Design choices worth knowing:

* The generator runs forward once per iteration, like the PyTorch reference: the last
  critic round's fakes are produced under `jax.vjp`, the discriminator trains on them with
  the gradient stopped, and the generator's update pulls the gradient of its loss through
  the *updated* discriminator back through that saved VJP.
* Noise is drawn per sample from ``fold_in(key, global_sample_index)``, so the global batch
  of noise is identical on 1 device and on 2048: runs agree across device counts. The
  tricks' draws (augmentation, instance noise, label flips, a penalty's keys) are per
  sample in the same way (`per_sample`). Where one key serves several purposes, each
  folds in its own named stream (`jaxgan.streams`).
* Extension points are plain functions: `loss` (a `GANLoss`), the step's parts
  (`jaxgan.parts.StepParts`: augmentation, D input transform, label policy, extra D and G
  terms, G regularizers differentiated by G's parameters, a stateful augmentation whose
  state rides in `GANState.extra`, health level) and `sample_real` (on-device data such
  as the 2-D toys). Lazy regularizers run under `lax.cond` on the step counter, so the
  step stays one pure program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax import lax

from jaxgan import streams
from jaxgan.diagnostics import signals
from jaxgan.losses import GANLoss
from jaxgan.parts import (
    GReg,
    GRegInputs,
    Health,
    StepParts,
    TermInputs,
    lazy_cond,
    parts_from_tricks,
)
from jaxgan.state import GANModels, GANState

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


def _axis_index(axis_name: str | None) -> jax.Array:
    return lax.axis_index(axis_name) if axis_name else jnp.zeros((), jnp.int32)


def _pmean(x: Any, axis_name: str | None) -> Any:
    """pmean over the data axis; nothing at all on one device (an all-reduce of one is a
    no-op XLA:CPU still dispatches, a few per step)."""
    if not axis_name or lax.axis_size(axis_name) == 1:
        return x
    return lax.pmean(x, axis_name)


def per_sample_keys(key: jax.Array, n: int, axis_name: str | None) -> jax.Array:
    """One key per sample, indexed by the sample's position in the GLOBAL batch."""
    idx = _axis_index(axis_name) * n + jnp.arange(n)
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)


def per_sample(fn: Callable[[jax.Array, jax.Array], jax.Array], key: jax.Array,
               x: jax.Array, axis_name: str | None) -> jax.Array:
    """``fn(key, batch)`` applied to each sample as a batch of one, with the key of the
    sample's GLOBAL index: random augmentations and noise that do not depend on how the
    batch is split over devices (one key per shard would make them differ with the count).
    """
    keys = per_sample_keys(key, x.shape[0], axis_name)
    return jax.vmap(lambda k, xi: fn(k, xi[None])[0])(keys, x)


def sample_latents(key: jax.Array, n: int, latent_dim: int, num_classes: int,
                   axis_name: str | None = None) -> tuple[jax.Array, jax.Array]:
    """(z, y): standard-normal latents and uniform class labels, device-count invariant."""
    keys = per_sample_keys(key, n, axis_name)
    z = jax.vmap(lambda k: jax.random.normal(k, (latent_dim,)))(keys)
    if num_classes > 0:
        y = jax.vmap(lambda k: jax.random.randint(streams.fold(k, streams.LABELS), (), 0,
                                                  num_classes))(keys)
    else:
        y = jnp.zeros((n,), jnp.int32)
    return z, y


def ema_decay_at(step: jax.Array, decay: float) -> jax.Array:
    """EMA decay warmed up as (1 + t) / (10 + t), capped at `decay` (TF's num_updates rule).

    Without the warm-up a 0.999 EMA of a short run is mostly its random initialization.
    """
    t = step.astype(jnp.float32)
    return jnp.minimum(decay, (1.0 + t) / (10.0 + t))


def make_train_step(models: GANModels, loss: GANLoss, parts: StepParts | None = None, *,
                    n_critic: int = 1, ema_decay: float = 0.999, ema_start: int = 0,
                    sample_real: Callable[[jax.Array], jax.Array] | None = None,
                    axis_name: str | None = None, **tricks: Any,
                    ) -> Callable[[GANState, Batch], tuple[GANState, Metrics]]:
    """Build the per-shard step from its parts (`jaxgan.parts.StepParts`: augmentation, D
    input transform, label policy, extra D and G terms, health level). `batch["image"]` is
    (n_critic, B_local, ...).

    With `sample_real` (a function of one key returning one sample), real data are drawn on
    device per sample and `batch["image"]` is only used for its batch size. `augment` and
    `d_input` are applied to each sample alone (`per_sample`), so they must not mix
    samples. The older keywords (``real_target``, ``augment``, ``d_penalty``,
    ``input_noise``, ``label_flip``, ``info_loss``, ``drift``, ``health`` as True, False or
    "light") add to `parts` (`parts_from_tricks`); the run assembly passes `parts` alone,
    built from the config by the tricks registry (`jaxgan.tricks.step_parts`).

    `ema_start` > 0 keeps the EMA generator a copy of G until that step (decay 0), as
    BigGAN-PyTorch's ``--ema_start``: early G moves too fast for an average to mean much.
    """
    parts = parts_from_tricks(parts, **tricks)
    G, D = models.generator, models.discriminator
    augment, d_input, labels = parts.augment, parts.d_input, parts.labels
    stateful = parts.augment_state  # ADA: an augmentation with its state in state.extra
    want_q = parts.needs_q

    def d_apply(params, stats, x, y, q=False):
        out, upd = D.apply({"params": params, "batch_stats": stats}, x, y, train=True,
                           mutable=["batch_stats", "intermediates"])
        feats = upd.get("intermediates", {}).get("features", (None,))[0]
        head = upd["intermediates"]["q"][0] if q else None
        return out, upd.get("batch_stats", stats), feats, head

    def g_apply(params, stats, z, y):
        out, upd = G.apply({"params": params, "batch_stats": stats}, z, y, train=True,
                           mutable=["batch_stats"])
        return out, upd.get("batch_stats", stats)

    def with_state(aug_state):
        """The augmentation of this step: the plain one, or the stateful one's with the
        state it starts the step with."""
        if stateful is None:
            return augment
        return lambda k, x: stateful.augment(k, x, aug_state)

    def d_objective(d_params, d_stats, real, y_real, fake, y_fake, key, t=None, z=None,
                    d_step=None, aug_state=None):
        k_aug_r, k_aug_f, k_pen = jax.random.split(key, 3)
        n = real.shape[0]
        augment = with_state(aug_state)
        if augment is not None:  # every draw is per sample: the same on any device count
            real = per_sample(augment, k_aug_r, real, axis_name)
            fake = per_sample(augment, k_aug_f, fake, axis_name)
        if d_input is not None:
            def transform(k, x):
                return d_input(k, t, x)
            real = per_sample(transform, streams.fold(k_aug_r, streams.D_INPUT_NOISE), real,
                              axis_name)
            fake = per_sample(transform, streams.fold(k_aug_f, streams.D_INPUT_NOISE), fake,
                              axis_name)
        real_logits, d_stats, real_feats, _ = d_apply(d_params, d_stats, real, y_real)
        fake_logits, d_stats, fake_feats, q = d_apply(d_params, d_stats, fake, y_fake, want_q)
        real_term, fake_term = loss.d_terms(real_logits, fake_logits, labels.real_target)
        if labels.flip > 0:  # score flipped samples in the other role: real as fake and back
            swapped_real, swapped_fake = loss.d_terms(fake_logits, real_logits,
                                                      labels.real_target)
            flip_keys = per_sample_keys(streams.fold(k_aug_r, streams.D_LABEL_FLIP), n,
                                        axis_name)
            flip = jax.vmap(lambda k: jax.random.bernoulli(k, labels.flip))(flip_keys)
            real_term = jnp.where(flip, swapped_fake, real_term)
            fake_term = jnp.where(flip, swapped_real, fake_term)
        loss_real, loss_fake = jnp.mean(real_term), jnp.mean(fake_term)
        total = loss_real + loss_fake
        extra: Metrics = {}
        if parts.d_terms:
            def logits_fn(p, x, y):
                return d_apply(p, d_stats, x, y)[0]
            inputs = TermInputs(d_logits=logits_fn, d_params=d_params, real=real, fake=fake,
                                y_real=y_real, y_fake=y_fake, real_logits=real_logits,
                                fake_logits=fake_logits, q=q, z=z,
                                keys=lambda: per_sample_keys(k_pen, n, axis_name),
                                step=d_step)
            for term in parts.d_terms:  # in order: the sum is rounded the same every time
                value, metrics = term.fn(inputs)
                total, extra = total + value, {**extra, **metrics}
        aux = dict(stats=d_stats, real_logits=real_logits, fake_logits=fake_logits,
                   real_feats=real_feats, fake_feats=fake_feats, loss_real=loss_real,
                   loss_fake=loss_fake, extra=extra)
        return total, aux

    def step(state: GANState, batch: Batch) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        b = batch["image"].shape[1]
        g_params, g_stats = state.g_params, state.g_batch_stats
        d_params, d_stats, d_opt = state.d_params, state.d_batch_stats, state.d_opt_state
        g_vjp = None
        aug_state = state.extra.get("augment") if stateful is not None else None
        real_logits = []
        for i in range(n_critic):
            k_z, k_real, k_d = jax.random.split(jax.random.fold_in(key, i), 3)
            z, y_fake = sample_latents(k_z, b, models.latent_dim, models.num_classes,
                                       axis_name)
            if sample_real is not None:
                real = jax.vmap(sample_real)(per_sample_keys(k_real, b, axis_name))
            else:
                real = batch["image"][i]
            y_real = batch["label"][i] if "label" in batch else jnp.zeros((b,), jnp.int32)
            if i == n_critic - 1:
                fake, g_vjp, g_stats = jax.vjp(
                    lambda p, s=g_stats, z=z, y=y_fake: g_apply(p, s, z, y), g_params,
                    has_aux=True)
            else:
                fake, g_stats = g_apply(g_params, g_stats, z, y_fake)
            (d_loss, aux), d_grads = jax.value_and_grad(d_objective, has_aux=True)(
                d_params, d_stats, real, y_real, lax.stop_gradient(fake), y_fake, k_d,
                state.step, z, state.step * n_critic + i, aug_state)
            real_logits.append(aux["real_logits"])
            d_grads = _pmean(d_grads, axis_name)
            d_updates, d_opt = models.tx_d.update(d_grads, d_opt, d_params)
            d_params = optax.apply_updates(d_params, d_updates)
            d_stats = _pmean(aux["stats"], axis_name)

        augment = with_state(aug_state)

        def g_objective(fake_images):
            x = fake_images
            if augment is not None:
                x = per_sample(augment, streams.fold(key, streams.G_AUGMENT), x, axis_name)
            if d_input is not None:
                x = per_sample(lambda k, xx: d_input(k, state.step, xx),
                               streams.fold(key, streams.G_INPUT_NOISE), x, axis_name)
            logits, _, _, q = d_apply(d_params, d_stats, x, y_fake, want_q)
            total = jnp.mean(loss.g_term(logits))
            if parts.g_terms:
                inputs = TermInputs(fake=x, fake_logits=logits, q=q, z=z, y_fake=y_fake)
                for term in parts.g_terms:
                    total = total + term.fn(inputs)[0]
            return total

        g_loss, d_fake = jax.value_and_grad(g_objective)(fake)
        (g_grads,) = g_vjp(d_fake)
        reg_metrics: Metrics = {}
        extra = state.extra
        if stateful is not None:  # ADA's heuristic, from every round's D(real)
            devices = lax.axis_size(axis_name) if axis_name else 1
            new_aug, reg_metrics = stateful.update(
                aug_state, jnp.stack(real_logits), state.step, b * devices * n_critic,
                lambda x: _pmean(x, axis_name))
            extra = {**extra, "augment": new_aug}
        for j, reg in enumerate(parts.g_regs):  # G's own regularizers (path length)
            inputs = GRegInputs(G, g_params, g_stats, z, y_fake,
                                lambda j=j: per_sample_keys(streams.fold(key, streams.G_REG + j),
                                                            b, axis_name),
                                lambda x: _pmean(x, axis_name))
            reg_grads, g_stats, m = _g_regularize(reg, inputs, state.step)
            g_grads = jax.tree.map(jnp.add, g_grads, reg_grads)
            reg_metrics.update(m)
        g_grads = _pmean(g_grads, axis_name)
        g_updates, g_opt = models.tx_g.update(g_grads, state.g_opt_state, g_params)
        new_g_params = optax.apply_updates(g_params, g_updates)
        g_stats = _pmean(g_stats, axis_name)
        decay = ema_decay_at(state.step, ema_decay) if ema_decay > 0 else 0.0
        if ema_start > 0 and ema_decay > 0:
            decay = jnp.where(state.step < ema_start, 0.0, decay)
        ema = optax.incremental_update(new_g_params, state.ema_params, 1.0 - decay)

        metrics: Metrics = {
            "d_loss": d_loss, "g_loss": g_loss,
            "d_loss_real": aux["loss_real"], "d_loss_fake": aux["loss_fake"],
            **aux["extra"], **reg_metrics,
        }
        if parts.health is Health.OFF:  # losses and the NaN flag (the NaN guard needs it)
            metrics = _pmean(metrics, axis_name)
            metrics["nonfinite"] = signals.nonfinite(d_loss, g_loss)
        else:
            metrics = _health_metrics(metrics, aux, g_grads, d_grads, g_updates, d_updates,
                                      g_params, new_g_params, d_params, axis_name,
                                      heavy=parts.health is Health.FULL)
        new_state = state.replace(
            step=state.step + 1, g_params=new_g_params, d_params=d_params,
            g_batch_stats=g_stats, d_batch_stats=d_stats, g_opt_state=g_opt,
            d_opt_state=d_opt, ema_params=ema, extra=extra)
        return new_state, {k: v.astype(jnp.float32) for k, v in metrics.items()}

    return step


def _g_regularize(reg: GReg, inputs: GRegInputs, step: jax.Array) -> tuple[Any, Any, Metrics]:
    """(gradient w.r.t. G's params, G's new batch stats, metrics) of one G regularizer; at
    the steps it skips (``step % every != 0``, `lax.cond`): zeros, the stats unchanged and
    the regularizer's idle metrics (0 by default)."""
    def run(_):
        def objective(params):
            return reg.fn(replace(inputs, params=params))

        (_, (metrics, stats)), grads = jax.value_and_grad(objective, has_aux=True)(
            inputs.params)
        return grads, stats, metrics

    if reg.every <= 1:
        return run(None)

    def skip(_):
        grads, _, metrics = jax.eval_shape(run, None)
        zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), (grads, metrics))
        idle = zeros[1] if reg.idle is None else {**zeros[1], **reg.idle(inputs.stats)}
        return zeros[0], inputs.stats, idle

    return lazy_cond(step, reg.every, run, skip)


def _health_metrics(metrics: Metrics, aux: dict, g_grads, d_grads, g_updates, d_updates,
                    g_params, new_g_params, d_params, axis_name: str | None,
                    heavy: bool = True) -> Metrics:
    """The on-device health signals the detectors read (see jaxgan.diagnostics.signals).

    `heavy=False` leaves out the signals that cost more than a few reductions (the batch
    diversity's pairwise distances, per-layer norms, update ratios: `signals.is_sampled`).
    A step with them reports ``health_samples`` 1, so that a log record can mix light and
    full iterations and report their mean over the full ones, and every step with health
    on reports ``light_samples`` 1, for the same reason with steps with health off
    (`signals.interval_means`).
    """
    metrics = {**metrics, **signals.disc_stats(aux["real_logits"], aux["fake_logits"])}
    if heavy and aux["real_feats"] is not None:
        metrics.update(signals.batch_diversity(aux["real_feats"], aux["fake_feats"]))
    metrics = _pmean(metrics, axis_name)
    metrics.update({
        "g_grad_norm": signals.global_norm(g_grads),
        "d_grad_norm": signals.global_norm(d_grads),
        signals.LIGHT_SAMPLES: jnp.ones((), jnp.float32),
    })
    if heavy:  # parameter norms move slowly: a sample per interval is enough
        metrics.update({
            "g_param_norm": signals.global_norm(new_g_params),
            "d_param_norm": signals.global_norm(d_params),
            "g_update_ratio": signals.update_ratio(g_updates, g_params),
            "d_update_ratio": signals.update_ratio(d_updates, d_params),
            **signals.per_layer_norms(g_grads, "g_grad_norm"),
            **signals.per_layer_norms(d_grads, "d_grad_norm"),
            signals.HEALTH_SAMPLES: jnp.ones((), jnp.float32),
        })
    metrics["nonfinite"] = signals.nonfinite(  # parameters go non-finite only after grads
        *(metrics[k] for k in ("d_loss", "g_loss", "g_grad_norm", "d_grad_norm",
                               "g_param_norm", "d_param_norm") if k in metrics))
    return metrics
