"""StyleGAN2 + ADA on CIFAR-10 (32x32), the ADA paper's CIFAR configuration: for a GPU or TPU.

Command:  jaxgan train --config stylegan2_cifar10
          jaxgan sample WORKDIR --truncation 1.0 --out samples.png
Expected: StudioGAN's CIFAR-10 table reports StyleGAN2 + ADA FID 2.31; the ADA paper
          2.92 (unconditional, its protocol). Not run here: CIFAR-10 cannot be
          downloaded on the development machines, and the run is a GPU's days; only
          building and validation are tested (tests/test_models_stylegan2.py).
Run time: not measured (100M images: 1.56M iterations at batch 64).

stylegan2-ada-pytorch's ``--cfg=cifar``: channel base 16384 and max 512 (512 channels
at every resolution up to 32x32), a mapping network of 2 layers, z and w of 512, batch
64, stddev groups of 32, Adam 0.0025 with betas (0, 0.99), R1 gamma 0.01 every 16 D
updates, the EMA half-life of 500k images (ramped up in the reference over the first 5 %
of images; here ``train.ema_decay``'s warm-up), no path-length regularization and no
style mixing (the cifar config turns both off), ADA with target 0.6 and 500k images for
p to go from 0 to 1. One difference: the reference's cifar D is its 'orig' architecture;
this D is always the residual one.
"""

from jaxgan.config import Config
from jaxgan.models.stylegan2 import lazy_optim


def get_config() -> Config:
    cfg = Config(name="stylegan2_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    m = cfg.model
    m.generator = m.discriminator = "stylegan2"
    m.latent_dim = m.stylegan.w_dim = 512
    m.g_width = m.d_width = 512
    m.stylegan.mapping_layers = 2
    m.stylegan.mixing = 0.0
    m.stylegan.mbstd_group = 32
    m.stylegan.pl_weight = 0.0
    cfg.loss.name = "non_saturating"
    cfg.tricks.r1_gamma, cfg.tricks.r1_every = 0.01, 16
    cfg.tricks.ada, cfg.tricks.ada_target, cfg.tricks.ada_kimg = "bgc", 0.6, 500.0
    for c in (cfg.optim.g, cfg.optim.d):
        c.lr, c.b1, c.b2, c.eps = 0.0025, 0.0, 0.99, 1e-8
    lazy_optim(cfg.optim.d, cfg.tricks.r1_every)
    cfg.train.batch_size = 64
    cfg.train.steps = 100_000_000 // cfg.train.batch_size
    cfg.train.ema_decay = 0.5 ** (cfg.train.batch_size / 500_000)
    cfg.train.log_every = 500
    cfg.train.sample_every = 10_000
    cfg.train.checkpoint_every = 10_000
    return cfg
