"""The autopilot's remedy table: what `health.on_failure=remedy` changes when a verdict holds.

Why a table of data: a remedy must be something the trainer can apply between two steps,
from the last healthy checkpoint, without new parameters — learning rates and Adam's
moments (optax keeps the learning rate in its state, `inject_hyperparams`), the optimizer
itself (its moments start again from zero; `autopilot.carry_optimizers`), the loss, the
number of D steps per G step, and the D-side regularizers (label smoothing, instance noise,
R1, DiffAugment). Architecture changes (spectral norm, packing, widths) would need new
parameters and are therefore advice in the doctor's report, never remedies.

Each entry names the verdict it treats, says in one sentence what it does, and computes its
`KEY=VALUE` overrides from the run's current config (and step, for annealed terms), or
`None` when it does not apply (smoothing already on, the loss already non-saturating, ...).
The trainer tries a verdict's remedies in order, skipping those already applied, so a
second failure of the same kind gets the next remedy, not the same one again. A NaN/Inf
caught by the trainer's guard is a `diverged` verdict here too (the record it writes says
so): the autopilot answers it before `train.on_nan`, which decides only once the autopilot
has nothing left.

The remedies are the first entries of the monitor's advice (`diagnostics.monitor.REMEDIES`)
that can change mid-run; `tests/test_autopilot.py` checks that each changes the config key
it claims and that the changed step really behaves differently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jaxgan.config import Config, apply_overrides, validate
from jaxgan.data.sources import on_device

Edit = Callable[[Config, int], "list[str] | None"]


@dataclass(frozen=True)
class Remedy:
    """One mid-run change: `name` is what metrics.jsonl records, `what` what a person reads."""

    name: str
    what: str
    edit: Edit

    def overrides(self, cfg: Config, step: int) -> list[str] | None:
        return self.edit(cfg, step)


def _scale_lr(player: str, factor: float) -> Edit:
    def edit(cfg: Config, step: int) -> list[str]:
        del step
        out = []
        for p in player:
            lr = getattr(cfg.optim, p).lr
            out.append(f"optim.{p}.lr={lr * factor:.6g}")
        return out

    return edit


# The largest D:G learning-rate ratio of the published two-time-scale recipes (SAGAN 4e-4 /
# 1e-4, BigGAN 2e-4 / 5e-5). Halving alone leaves a D 50-100x faster than G 25-50x faster
# after each of its tries (the failure benchmark's D-fast runs: none rescued that way).
TTUR_MAX_RATIO = 4.0


def _slow_d(cfg: Config, step: int) -> list[str]:
    """Halve D's learning rate, and bring it to at most TTUR_MAX_RATIO x G's at once."""
    del step
    d, g = cfg.optim.d.lr, cfg.optim.g.lr
    return [f"optim.d.lr={min(d * 0.5, TTUR_MAX_RATIO * g):.6g}"]


def _fast_g(cfg: Config, step: int) -> list[str] | None:
    """Raise G's learning rate to D's at once, where D is faster: the other half of
    `_slow_d`. A G far slower than D does not use the room a weaker D leaves, and TTUR's
    bound is not enough: on the failure benchmark's digits run with G at 1e-5 and D at
    5e-4, G at D / 4 lost again by step 400-550 (as did a fresh run at G 1.25e-4 / D
    2.5e-4), while G level with D (the DCGAN recipe's equal rates) trained to 10 classes,
    84-86 % confident, at seeds 0 and 1 after this one remedy."""
    del step
    d, g = cfg.optim.d.lr, cfg.optim.g.lr
    return [f"optim.g.lr={d:.6g}"] if d > g else None


def _label_smoothing(cfg: Config, step: int) -> list[str] | None:
    del step
    if cfg.tricks.label_smoothing > 0 or not _has_labels_loss(cfg):
        return None
    return ["tricks.label_smoothing=0.1"]


def _instance_noise(cfg: Config, step: int) -> list[str] | None:
    """Gaussian noise on D's inputs, annealed to zero over the rest of the run: the noise
    makes the real and fake distributions overlap while D is too far ahead, then lets
    the run finish on clean inputs (the anneal counts from step 0, hence `step + rest`)."""
    if cfg.tricks.instance_noise > 0:
        return None
    rest = max(cfg.train.steps - step, 1)
    std = 0.05 if on_device(cfg.data.source) else 0.1
    return [f"tricks.instance_noise={std}",
            f"tricks.instance_noise_anneal_steps={step + rest}"]


def _r1(cfg: Config, step: int) -> list[str] | None:
    del step
    if cfg.tricks.r1_gamma > 0 or cfg.tricks.gp_weight > 0:
        return None
    gamma = 0.1 if on_device(cfg.data.source) else 1.0
    return [f"tricks.r1_gamma={gamma}"]


def _stronger_r1(cfg: Config, step: int) -> list[str] | None:
    """R1 10x stronger where it is on (StyleGAN2-ADA: gamma is what small datasets need
    more of), else the plain R1 remedy."""
    if cfg.tricks.r1_gamma > 0:
        return [f"tricks.r1_gamma={cfg.tricks.r1_gamma * 10:.6g}"]
    return _r1(cfg, step)


# DiffAugment's policy for limited data (Zhao et al. 2020): D sees only augmented reals
# and fakes, so it cannot memorize a small training set; images only (the 2-D toys have no
# colour or translation to augment), and only while the run has no augmentation of its own.
DIFFAUGMENT_POLICY = "color,translation,cutout"


def _diffaugment(cfg: Config, step: int) -> list[str] | None:
    del step
    if on_device(cfg.data.source) or cfg.tricks.diffaugment or cfg.tricks.ada:
        return None
    return [f"tricks.diffaugment={DIFFAUGMENT_POLICY}"]


def _non_saturating(cfg: Config, step: int) -> list[str] | None:
    del step
    return ["loss.name=non_saturating"] if cfg.loss.name == "minimax" else None


def _adam_b1_zero(cfg: Config, step: int) -> list[str] | None:
    del step
    out = [f"optim.{p}.b1=0.0" for p in "gd"
           if getattr(cfg.optim, p).name in ("adam", "adamw") and getattr(cfg.optim, p).b1 > 0]
    return out or None


def _fewer_d_steps(cfg: Config, step: int) -> list[str] | None:
    """Fewer D steps per G step: one for the losses whose recipes take one (DCGAN, LSGAN:
    several D steps per G step there only make D win faster), half as many for the
    Wasserstein and hinge critics, whose recipes (WGAN-GP, SNGAN, BigGAN) take several."""
    del step
    n = cfg.train.n_critic
    if n <= 1:
        return None
    return [f"train.n_critic={1 if _has_labels_loss(cfg) else n // 2}"]


# The Adam of the DCGAN recipe (Radford et al. 2016: with b1 0.9 "training oscillation and
# instability", with 0.5 none; lr 2e-4), which the GAN recipes since keep (b1 0-0.5, with
# Adam or AdamW); the 2-D toys train at the MLP recipe's 1e-3 (Metz et al. 2017, the
# VEEGAN/PacGAN setups, the toy presets).
RECIPE_B1, RECIPE_B2 = 0.5, 0.999
RECIPE_LR_IMAGES, RECIPE_LR_TOYS = 2e-4, 1e-3


def _adam_recipe(cfg: Config, step: int) -> list[str] | None:
    """Each player whose optimizer is not the recipe's (SGD, RMSprop, or Adam with more
    momentum than b1 0.5) to Adam with b1 0.5 and b2 0.999, at its own learning rate or
    the recipe's, whichever is lower. Why first for most verdicts: an optimizer that is
    unstable in itself is not undone by a slower D or a regularizer (the failure
    benchmark's RMSprop 0.05 and Adam b1 0.9-0.95 runs: none rescued by them). RMSprop under
    the Wasserstein loss is left alone: it is the WGAN recipe's own optimizer (Arjovsky et
    al. 2017 found momentum destabilizes the clipped critic). Rescued, for one: the failure
    benchmark's digits run on SGD lr 1 with momentum 0.9 (diverged at step 150, seeds 0
    and 1) and MNIST on RMSprop 0.05 (benchmarks/RESULTS.md, session 16)."""
    del step
    cap = RECIPE_LR_TOYS if on_device(cfg.data.source) else RECIPE_LR_IMAGES
    out: list[str] = []
    for p in "gd":
        c = getattr(cfg.optim, p)
        if c.name in ("adam", "adamw") and c.b1 <= RECIPE_B1:
            continue
        if c.name == "rmsprop" and cfg.loss.name == "wasserstein":
            continue
        name = c.name if c.name == "adamw" else "adam"
        out += [f"optim.{p}.name={name}", f"optim.{p}.b1={RECIPE_B1}",
                f"optim.{p}.b2={RECIPE_B2}", f"optim.{p}.lr={min(c.lr, cap):.6g}"]
    return out or None


def _has_labels_loss(cfg: Config) -> bool:
    """Label smoothing is defined for the losses that compare D's output with a target."""
    return cfg.loss.name in ("non_saturating", "minimax", "least_squares")


LOWER_BOTH = Remedy("lower_both_lrs", "lower both learning rates 4x", _scale_lr("gd", 0.25))
HALVE_BOTH = Remedy("halve_both_lrs", "halve both learning rates", _scale_lr("gd", 0.5))
SLOW_D = Remedy("slow_d", "halve D's learning rate, to at most 4x G's (TTUR towards G)",
                _slow_d)
FAST_G = Remedy("fast_g", "raise G's learning rate to D's", _fast_g)
SLOW_G = Remedy("slow_g", "halve G's learning rate (TTUR towards D)", _scale_lr("g", 0.5))
SMOOTH = Remedy("label_smoothing", "one-sided label smoothing: D's real target 0.9",
                _label_smoothing)
NOISE = Remedy("instance_noise", "instance noise on D's inputs, annealed to 0 by the end",
               _instance_noise)
R1 = Remedy("r1", "an R1 gradient penalty on real data", _r1)
STRONGER_R1 = Remedy("stronger_r1", "R1 10x stronger (or an R1 penalty where there is none)",
                     _stronger_r1)
NON_SAT = Remedy("non_saturating", "the non-saturating G loss instead of minimax",
                 _non_saturating)
B1_ZERO = Remedy("adam_b1_zero", "Adam b1=0 for both players (less momentum, less rotation)",
                 _adam_b1_zero)
DIFFAUG = Remedy("diffaugment", "DiffAugment (color, translation, cutout) on D's inputs",
                  _diffaugment)
FEWER_D = Remedy("fewer_d_steps", "fewer D steps per G step (train.n_critic: 1, or half "
                 "for Wasserstein and hinge critics)",
                 _fewer_d_steps)

ADAM_RECIPE = Remedy("adam_recipe", "the DCGAN recipe's Adam (b1 0.5, b2 0.999, lr at most "
                     "2e-4, 1e-3 on 2-D toys) for a player on SGD, RMSprop or a "
                     "high-momentum Adam, its moments started afresh", _adam_recipe)

# Verdict -> the remedies tried in order. `healthy` has none by definition.
REMEDY_TABLE: dict[str, tuple[Remedy, ...]] = {
    "diverged": (ADAM_RECIPE, LOWER_BOTH, R1, LOWER_BOTH),
    "d_overfitting": (STRONGER_R1, SLOW_D, NOISE),
    "convergence_failure": (ADAM_RECIPE, FAST_G, FEWER_D, SLOW_D, DIFFAUG, SMOOTH, NOISE, R1),
    "vanishing_gradient": (NON_SAT, ADAM_RECIPE, FAST_G, FEWER_D, SLOW_D, DIFFAUG, NOISE,
                           SMOOTH),
    "mode_collapse": (ADAM_RECIPE, R1, NOISE, SLOW_G, HALVE_BOTH),
    "oscillation": (ADAM_RECIPE, HALVE_BOTH, B1_ZERO, R1),
}


def next_remedy(verdict: str, cfg: Config, step: int, tried: Sequence[str] = ()
                ) -> tuple[Remedy, list[str]] | None:
    """The first remedy for `verdict` that applies to `cfg` and has not been `tried`
    (names; a name may appear in the table twice, so each use is counted), with its
    overrides; None when the table is exhausted for this run."""
    used = list(tried)
    for remedy in REMEDY_TABLE.get(verdict, ()):
        if remedy.name in used:
            used.remove(remedy.name)
            continue
        overrides = remedy.overrides(cfg, step)
        if overrides:
            return remedy, overrides
    return None


def apply_remedy(cfg: Config, overrides: Sequence[str]) -> Config:
    """The config with a remedy's overrides applied and validated (a new Config)."""
    return validate(apply_overrides(cfg, list(overrides)))


__all__ = ["Remedy", "REMEDY_TABLE", "next_remedy", "apply_remedy", "ADAM_RECIPE",
           "DIFFAUGMENT_POLICY", "TTUR_MAX_RATIO"]
