"""DCGAN on CIFAR-10 at 32x32 (tfds `cifar10`, train split), the standard benchmark setup.

Command:  jaxgan train --config dcgan_cifar10
Expected: FID around 37-40 (50k samples vs train statistics) after ~100k iterations, as in
          the SNGAN paper's "standard CNN" DCGAN baseline (Miyato et al. 2018, Table 2,
          FID 29.3 with hinge loss and spectral norm; ~37.7 unnormalized);
          samples show object-like blobs with CIFAR colours after ~10k iterations.
Run time: hours on a 2-core CPU; about 1.5 hours on one A100 or a TPU v3-8.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="dcgan_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    cfg.model.latent_dim = 100
    cfg.model.g_width = 64
    cfg.model.d_width = 64
    cfg.train.steps = 100_000
    cfg.train.batch_size = 64
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    cfg.train.checkpoint_every = 5000
    return cfg
