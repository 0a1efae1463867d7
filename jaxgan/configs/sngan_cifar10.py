"""SNGAN (Miyato et al. 2018) on CIFAR-10: ResNet G (width 256) and spectrally normalized
ResNet D (width 128), hinge loss, Adam(2e-4, 0, 0.9), n_critic 5, batch 64.

Command:  jaxgan train --config sngan_cifar10
Expected: SNGAN paper Table 2, ResNet with SN (hinge): Inception score 8.22, FID 21.7 on
          unconditional CIFAR-10 after 50k generator updates; the reproduction
          GongXinyuu/sngan.pytorch reports IS 8.21, FID 14.21 with the TTUR FID code.
          FIDs are only comparable with the same Inception weights (see DESIGN.md).
Run time: about 10 hours for 50k iterations (250k D updates) on one V100 (estimate from
          the reproductions' logs); about 4 hours on one A100.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="sngan_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    cfg.model.generator = "resnet"
    cfg.model.discriminator = "resnet"
    cfg.model.spectral_norm = True
    cfg.model.latent_dim = 128
    cfg.model.g_width = 256
    cfg.model.d_width = 128
    cfg.loss.name = "hinge"
    cfg.optim.g.lr = cfg.optim.d.lr = 2e-4
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.0
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.9
    cfg.train.n_critic = 5
    cfg.train.steps = 50_000
    cfg.train.batch_size = 64
    cfg.train.ema_decay = 0.0  # the paper evaluates the raw generator
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    cfg.train.checkpoint_every = 5000
    return cfg
