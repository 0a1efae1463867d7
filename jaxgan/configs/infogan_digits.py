"""InfoGAN on the embedded 8x8 digits: one 10-way categorical and two continuous codes.

Command:  jaxgan train --config infogan_digits
Expected: the categorical code takes over the digit identity: with the noise fixed,
          changing the code changes which digit a classifier fitted on the real digits
          sees (tests/test_zoo_train.py); the Q head's cross-entropy falls from ln 10 =
          2.30 to well under 0.5 within a few hundred iterations. Traversal grids:
          `samples/traversal_latest.png` (a row per category, 10 values of each
          continuous code), written with every sample grid.
Run time: about 2 minutes on a 2-core CPU; seconds on one GPU.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="infogan_digits")
    cfg.data.source = "digits"
    cfg.data.resolution = 8
    cfg.data.channels = 1
    cfg.model.generator = "infogan"
    cfg.model.discriminator = "infogan"
    cfg.model.latent_dim = 74  # the paper's 62 noise + 10 categorical + 2 continuous
    cfg.model.infogan.categorical = 10
    cfg.model.infogan.continuous = 2
    cfg.model.infogan.weight = 1.0
    cfg.model.g_width = 32
    cfg.model.d_width = 32
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr, cfg.optim.d.lr = 1e-3, 2e-4  # the paper's MNIST rates
    cfg.train.steps = 1000
    cfg.train.batch_size = 64
    cfg.train.steps_per_call = 1
    cfg.train.ema_decay = 0.0  # show the raw generator: codes must map consistently
    cfg.train.log_every = 50
    cfg.train.sample_every = 500
    cfg.train.checkpoint_every = 500
    return cfg
