"""A GAN on the 8-Gaussian ring of the mode-collapse literature (VEEGAN, PacGAN).

Command:  jaxgan train --config toy_ring
Expected: samples (workdir/samples/latest.png, a scatter plot) close to the 8 ring modes;
          most samples within 3 std of a mode after 3,000 steps. Plain GANs on this data
          often cover only some modes: the health monitor and mode metrics show which.
Run time: under a minute on a 2-core CPU.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="toy_ring")
    cfg.data.source = "toy_ring"
    cfg.model.generator = "mlp"
    cfg.model.discriminator = "mlp"
    cfg.model.latent_dim = 256
    cfg.model.mlp_hidden = 128
    cfg.model.mlp_depth = 2
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 1e-3
    cfg.optim.d.lr = 1e-3
    cfg.optim.g.b1 = 0.5
    cfg.optim.d.b1 = 0.5
    cfg.train.steps = 3000
    cfg.train.batch_size = 256
    cfg.train.steps_per_call = 50
    cfg.train.log_every = 100
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    cfg.train.ema_decay = 0.0
    return cfg
