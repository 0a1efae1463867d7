"""WGAN with weight clipping (Arjovsky et al. 2017) on CIFAR-10: DCGAN G and D, critic
weights clipped to [-0.01, 0.01], RMSprop 5e-5, n_critic 5, batch 64.

Command:  jaxgan train --config wgan_cifar10
Expected: the WGAN paper shows samples and Wasserstein estimates only; WGAN-GP paper
          Figure 3 plots weight-clipped WGAN's CIFAR-10 Inception score below WGAN-GP's
          (7.86 final) throughout training. Expect blurrier samples than wgan_gp_cifar10.
          (The DCGAN critic keeps its batch norm, as in the WGAN paper's DCGAN critic.)
Run time: about 4 hours for 100k iterations on one V100 (estimate).
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="wgan_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    cfg.model.latent_dim = 100
    cfg.loss.name = "wasserstein"
    cfg.tricks.weight_clip = 0.01
    for o in (cfg.optim.g, cfg.optim.d):
        o.name, o.lr, o.b1, o.b2 = "rmsprop", 5e-5, 0.0, 0.9
    cfg.train.n_critic = 5
    cfg.train.steps = 100_000
    cfg.train.batch_size = 64
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    cfg.train.checkpoint_every = 5000
    return cfg
