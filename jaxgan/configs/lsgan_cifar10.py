"""LSGAN (Mao et al. 2017) on CIFAR-10: least-squares loss (0-1-1 coding) with the DCGAN
networks, Adam(2e-4, 0.5), batch 64.

Command:  jaxgan train --config lsgan_cifar10
Expected: the LSGAN paper reports no CIFAR-10 FID (its results are LSUN scenes and
          Chinese characters); Lucic et al. 2018 ("Are GANs Created Equal?", Figure 4)
          find LSGAN's CIFAR-10 FID within the spread of the other losses under the same
          budget. Expect DCGAN-like quality (dcgan_cifar10: FID ~37-40 after 100k
          iterations); this number is not verified here.
Run time: about 1.5 hours for 100k iterations on one A100 or a TPU v3-8 (estimate, as
          dcgan_cifar10).
"""

from jaxgan.config import Config
from jaxgan.configs.dcgan_cifar10 import get_config as _dcgan


def get_config() -> Config:
    cfg = _dcgan()
    cfg.name = "lsgan_cifar10"
    cfg.loss.name = "least_squares"
    return cfg
