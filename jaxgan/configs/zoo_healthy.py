"""Failure zoo, the control: the same ring and models, sensibly trained.

Command:  jaxgan train --config zoo_healthy
Expected: `healthy` throughout (no failure verdict at any log step) and samples on all 8
          modes of the ring after 3,000 steps.
Run time: about a minute on a 2-core CPU.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_healthy"
    cfg.model.latent_dim = 2
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 2e-4
    cfg.optim.d.lr = 2e-4
    cfg.train.steps = 3000
    cfg.train.log_every = 50
    cfg.train.checkpoint_every = 3000
    return cfg
