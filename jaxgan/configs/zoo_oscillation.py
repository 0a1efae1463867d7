"""Failure zoo: both players on heavy-ball momentum (SGD, momentum 0.99) on the 8-mode ring.

Command:  jaxgan train --config zoo_oscillation
Expected: the health monitor reports `oscillation` by step 500: D's accuracy on the fakes
          swings between ~0 and ~1 every 100-200 steps (G overshoots past the data, D
          overshoots back) without damping. Left running far beyond the preset's 600 steps,
          the swings end in a genuine mode collapse (from step ~650 at seeds 0-2).
Run time: under a minute on a 2-core CPU.

Why it fails: positive momentum in a min-max game makes each player keep moving after the
other has already answered; the rotation of the game's gradient field then turns into
cycles instead of converging (Gidel et al. 2019, "Negative Momentum for Improved Game
Dynamics"). The cycles last 100-200 steps, so the preset logs every 10 steps and widens
the health window to 30 records (300 steps) to see two of them.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_oscillation"
    cfg.model.latent_dim = 2
    cfg.loss.name = "hinge"
    for opt in (cfg.optim.g, cfg.optim.d):
        opt.name = "sgd"
        opt.lr = 1e-4
        opt.b1 = 0.99  # the momentum
    cfg.train.steps = 600
    cfg.train.steps_per_call = 10
    cfg.train.log_every = 10
    cfg.train.sample_every = 600
    cfg.train.checkpoint_every = 600
    cfg.health.window = 30
    return cfg
