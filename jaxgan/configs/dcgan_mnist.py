"""DCGAN on MNIST at 32x32 (tfds `mnist`, train split).

Command:  jaxgan train --config dcgan_mnist
Expected: sharp, recognizable digits after ~5k steps; health `healthy`. The DCGAN paper
          shows MNIST-quality digits within one epoch (~940 steps at batch 64).
Run time: about 15 minutes on a 2-core CPU; about 1 minute on one V100/A100 or a TPU v3-8.
Needs the tfds `mnist` data (downloaded by tfds on first use, or prepared offline and
passed with data.path=DIR).
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="dcgan_mnist")
    cfg.data.source = "tfds"
    cfg.data.name = "mnist"
    cfg.data.resolution = 32
    cfg.data.channels = 1
    cfg.model.latent_dim = 100
    cfg.model.g_width = 64
    cfg.model.d_width = 64
    cfg.train.steps = 5000
    cfg.train.batch_size = 64
    cfg.train.log_every = 100
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    return cfg
