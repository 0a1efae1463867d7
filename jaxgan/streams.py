"""Named random streams: one constant per purpose, instead of numbers spread through the code.

Every random number of a run comes from its seed. Inside the step, the state's key is
folded with the step number and split per critic round; where one key must serve several
purposes, each purpose folds in its own constant here, so that two purposes never draw the
same numbers and a new purpose cannot silently reuse an old one. Outside the step (sample
grids, evaluations, the live mode count), each reader of the generator offsets the run's
seed by its own constant, so that a grid, an evaluation and a mode count never look at the
same latents.

The values are what the code used before they had names; changing one changes every run
that uses its purpose (`tests/test_bit_identity.py` would say so). New purposes take new,
unused values.
"""

from __future__ import annotations

import jax

__all__ = ["fold", "LABELS", "D_INPUT_NOISE", "D_LABEL_FLIP", "G_AUGMENT", "G_INPUT_NOISE",
           "TRUNCATION", "G_REG",
           "LATENTS_SEED_OFFSET", "SAMPLE_SEED_OFFSET", "EVAL_SEED_OFFSET", "TOY_MODES_SEED_OFFSET",
           "CLASS_SIGNAL_SEED_OFFSET"]

# --- folded into a key inside the step (`jax.random.fold_in(key, CONSTANT)`) -------------
# a fake sample's class label, from that sample's latent key (`step.sample_latents`)
LABELS = 1
# instance noise on D's inputs, from the real (fake) batch's augmentation key in D's update
D_INPUT_NOISE = 1_000
# which samples swap their real/fake role in D's loss, from the real batch's augmentation key
D_LABEL_FLIP = 7919
# DiffAugment of the fakes in G's update, from the iteration's key
G_AUGMENT = 10_000
# instance noise on the fakes in G's update, from the iteration's key
G_INPUT_NOISE = 20_000
# the redraws of truncated latents (`sampling.truncate`), from the sample grid's latent key
TRUNCATION = 30_000
# G's regularizers (`parts.GReg`, StyleGAN2's path length), regularizer j at G_REG + j,
# from the iteration's key
G_REG = 40_000

# --- added to the run's seed for the generator's samples outside the step ---------------
# every draw of `sampling.generate(..., seed)` uses the latents of PRNGKey(seed + this)
# (`sampling.fixed_latents`); the trainer's sample grids pass the run's seed itself
LATENTS_SEED_OFFSET = 7919
# `jaxgan sample` and `LoadedRun.sample` when no --seed is given
SAMPLE_SEED_OFFSET = 1
# the samples of an evaluation (`jaxgan eval`, `eval.every`)
EVAL_SEED_OFFSET = 12345
# the live mode count of a 2-D toy run at every log record
TOY_MODES_SEED_OFFSET = 777
# the live class count of a labelled image run at every log record
CLASS_SIGNAL_SEED_OFFSET = 555


def fold(key: jax.Array, stream: int) -> jax.Array:
    """`key` folded with a named stream: the key of that purpose."""
    return jax.random.fold_in(key, stream)
