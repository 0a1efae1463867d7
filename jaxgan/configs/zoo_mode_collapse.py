"""Failure zoo: a plain GAN on the 8-mode ring with large, high-momentum steps.

Command:  jaxgan train --config zoo_mode_collapse
Expected: the health monitor reports `mode_collapse` by step 1500 (the generated batch less
          than half as spread as the real one in D's features); the sample plot shows G
          covering a few neighbouring modes of the ring.
Run time: about a minute on a 2-core CPU.
Caveat:   reliable at seed 0 (the default); at seed 1 this G instead strings samples along
          the ring. The D-feature diversity signal also misses some real collapses (stock
          toy_ring, seed 1: 2 of 8 modes at diversity_ratio 1.7): on the toys the trainer
          should log modes_captured/num_modes, which the monitor reads (MODES_MIN_FRAC).

Why it fails: with learning rate 1e-2 and Adam b1=0.9 both players overshoot; G keeps
chasing the region D currently rates real instead of spreading over all modes.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as toy_ring


def get_config() -> Config:
    cfg = toy_ring()
    cfg.name = "zoo_mode_collapse"
    cfg.model.latent_dim = 2
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 1e-2
    cfg.optim.d.lr = 1e-2
    cfg.optim.g.b1 = 0.9
    cfg.optim.d.b1 = 0.9
    cfg.train.steps = 2000
    cfg.train.log_every = 50
    cfg.train.checkpoint_every = 2000
    return cfg
