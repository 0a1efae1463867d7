"""StyleGAN2 + ADA on FFHQ at 256x256, the ADA paper's ``paper256`` configuration: for GPUs
or TPUs.

Command:  jaxgan train --config stylegan2_ffhq256 data.path=/path/to/ffhq256
          jaxgan sample WORKDIR --truncation 0.7 --out samples.png
Expected: the ADA paper reports FID 3.88 at 70k FFHQ images with ADA (Table 2, its
          protocol). Not run here: no FFHQ and no accelerator on the development
          machines; only building and validation are tested
          (tests/test_models_stylegan2.py).
Run time: not measured (25M images: 390k iterations at batch 64).

stylegan2-ada-pytorch's ``--cfg=paper256``: channel base 16384 and max 512 (512 up to
32x32, then 256, 128, 64 at 256x256), a mapping network of 8 layers at lr multiplier
0.01, z and w of 512, batch 64, stddev groups of 8, Adam 0.0025 with betas (0, 0.99), R1
gamma 1 every 16 D updates, path length weight 2 every 4 G updates on half the batch,
style mixing 0.9, the EMA half-life of 20k images, ADA with target 0.6 and 500k images
for p to go from 0 to 1. The images are read from a folder of 256x256 RGB files
(``data.source=folder``).
"""

from jaxgan.config import Config
from jaxgan.models.stylegan2 import lazy_optim


def get_config() -> Config:
    cfg = Config(name="stylegan2_ffhq256")
    cfg.data.source = "folder"
    cfg.data.path = "ffhq256"
    cfg.data.resolution = 256
    cfg.data.channels = 3
    m = cfg.model
    m.generator = m.discriminator = "stylegan2"
    m.latent_dim = m.stylegan.w_dim = 512
    m.g_width = m.d_width = 512
    m.stylegan.mapping_layers = 8
    m.stylegan.mixing = 0.9
    m.stylegan.mbstd_group = 8
    m.stylegan.pl_weight, m.stylegan.pl_every = 2.0, 4
    cfg.loss.name = "non_saturating"
    cfg.tricks.r1_gamma, cfg.tricks.r1_every = 1.0, 16
    cfg.tricks.ada, cfg.tricks.ada_target, cfg.tricks.ada_kimg = "bgc", 0.6, 500.0
    for c in (cfg.optim.g, cfg.optim.d):
        c.lr, c.b1, c.b2, c.eps = 0.0025, 0.0, 0.99, 1e-8
    lazy_optim(cfg.optim.g, m.stylegan.pl_every)
    lazy_optim(cfg.optim.d, cfg.tricks.r1_every)
    cfg.train.batch_size = 64
    cfg.train.steps = 25_000_000 // cfg.train.batch_size
    cfg.train.ema_decay = 0.5 ** (cfg.train.batch_size / 20_000)
    cfg.train.log_every = 500
    cfg.train.sample_every = 10_000
    cfg.train.checkpoint_every = 10_000
    return cfg
