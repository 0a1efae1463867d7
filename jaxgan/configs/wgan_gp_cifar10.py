"""WGAN-GP (Gulrajani et al. 2017) on CIFAR-10: the ResNet critic without normalization,
Wasserstein loss, gradient penalty lambda 10, n_critic 5, Adam(2e-4, 0, 0.9).

Command:  jaxgan train --config wgan_gp_cifar10
Expected: WGAN-GP paper Table 3, unsupervised CIFAR-10 with the ResNet: Inception score
          7.86 +- 0.07 after 100k generator iterations (the paper reports no FID; the
          TTUR paper's WGAN-GP CIFAR-10 runs are in the FID 25-30 range).
Run time: about 20 hours for 100k iterations (500k critic updates, each with a second
          backward pass for the penalty) on one V100; about 8 hours on one A100 (estimates).
"""

from jaxgan.config import Config
from jaxgan.configs.sngan_cifar10 import get_config as _sngan


def get_config() -> Config:
    cfg = _sngan()
    cfg.name = "wgan_gp_cifar10"
    cfg.model.spectral_norm = False  # the penalty alone constrains the critic
    cfg.model.g_width = 128
    cfg.loss.name = "wasserstein"
    cfg.tricks.gp_weight = 10.0
    cfg.train.n_critic = 5
    cfg.train.steps = 100_000
    return cfg
