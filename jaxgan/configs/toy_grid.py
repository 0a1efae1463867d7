"""A GAN on the 25-Gaussian 5x5 grid of the mode-collapse literature (VEEGAN, PacGAN).

Command:  jaxgan train --config toy_grid
Expected: samples (workdir/samples/latest.png, a scatter plot) close to the 25 grid modes;
          plain GANs on this data often cover only some modes: the health monitor and the
          mode metrics (`jaxgan eval`) show which.
Run time: under a minute on a 2-core CPU.

The same MLP GAN and schedule as `toy_ring`; only the data differ.
"""

from jaxgan.config import Config
from jaxgan.configs import toy_ring


def get_config() -> Config:
    cfg = toy_ring.get_config()
    cfg.name = "toy_grid"
    cfg.data.source = "toy_grid"
    return cfg
