"""Failure zoo: a crippled generator against an aggressive discriminator.

Command:  jaxgan train --config zoo_convergence_failure
Expected: the health monitor reports `convergence_failure` by step 600 (D ~100 % accurate on
          real and fake, its loss near 0, G's non-saturating loss climbing past 3) while G's
          gradient stays alive: G is told how to improve but cannot keep up.
Run time: about a minute on a 2-core CPU.

Why it fails: G learns 5,000x slower than D, which also takes 5 steps per G step.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_convergence_failure"
    cfg.model.latent_dim = 2
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 1e-6
    cfg.optim.d.lr = 5e-3
    cfg.train.n_critic = 5
    cfg.train.steps = 1000
    cfg.train.log_every = 50
    cfg.train.checkpoint_every = 1000
    return cfg
