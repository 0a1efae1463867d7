"""Failure zoo: the saturating minimax loss against a strong discriminator.

Command:  jaxgan train --config zoo_vanishing_gradient
Expected: the health monitor reports `vanishing_gradient` by step 600 (D(G(z)) held below
          0.05, so the minimax generator's gradient, which scales with D(G(z)), is 10x+ weaker
          than in a balanced game); the remedy it names first is loss.name=non_saturating.
Run time: one to two minutes on a 2-core CPU.

Why it fails: G minimises log(1 - D(G(z))), flat where D rejects fakes confidently; a
discriminator trained 10x per G step at 200x G's learning rate rejects them from the start
(D(G(z)) ~0.02-0.03 over seeds 0 and 1).
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_vanishing_gradient"
    cfg.model.latent_dim = 2
    cfg.loss.name = "minimax"
    cfg.optim.g.lr = 5e-5
    cfg.optim.d.lr = 1e-2
    cfg.train.n_critic = 10
    cfg.train.steps = 700
    cfg.train.log_every = 50
    cfg.train.sample_every = 700
    cfg.train.checkpoint_every = 700
    return cfg
