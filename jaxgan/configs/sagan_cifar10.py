"""SAGAN (Zhang et al. 2019) on CIFAR-10: the SNGAN ResNet with self-attention at 16x16 in
G and D, spectral norm in both, hinge loss, TTUR (G 1e-4, D 4e-4, Adam betas (0, 0.9)),
one D step per G step.

Command:  jaxgan train --config sagan_cifar10
Expected: the SAGAN paper reports ImageNet 128x128 only: FID 18.65, IS 52.52 (Table 2).
          On CIFAR-10 expect roughly SNGAN's quality (FID ~20 with the same Inception
          weights, per SNGAN paper Table 2's 21.7 for the attention-free model); the
          attention gain is small at 32x32.
Run time: about 6 hours for 100k iterations on one A100 (estimate: 1 D + 1 G update per
          iteration at ~0.2 s on a V100).
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="sagan_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    cfg.model.generator = "sagan"
    cfg.model.discriminator = "sagan"
    cfg.model.attention_res = 16
    cfg.model.spectral_norm = True
    cfg.model.g_spectral_norm = True
    cfg.model.latent_dim = 128
    cfg.model.g_width = 256
    cfg.model.d_width = 128
    cfg.loss.name = "hinge"
    cfg.optim.g.lr, cfg.optim.d.lr = 1e-4, 4e-4
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.0
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.9
    cfg.train.n_critic = 1
    cfg.train.steps = 100_000
    cfg.train.batch_size = 64
    cfg.train.ema_decay = 0.9999
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    cfg.train.checkpoint_every = 5000
    return cfg
