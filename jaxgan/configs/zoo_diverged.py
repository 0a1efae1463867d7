"""Failure zoo: plain SGD at a learning rate fifty times too large.

Command:  jaxgan train --config zoo_diverged
Expected: NaN/Inf within the first log interval: the trainer stops with exit status 1 and
          writes doctor/report.md; `jaxgan doctor` reports `diverged` at step 50.
Run time: under a minute on a 2-core CPU.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_diverged"
    cfg.model.latent_dim = 2
    cfg.optim.g.name = "sgd"
    cfg.optim.d.name = "sgd"
    cfg.optim.g.lr = 0.5
    cfg.optim.d.lr = 0.5
    cfg.train.steps = 500
    cfg.train.log_every = 50
    cfg.train.checkpoint_every = 500
    return cfg
