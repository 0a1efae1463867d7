"""Progressive GAN (Karras et al. 2018) on CelebA (tfds `celeb_a`, 128x128): growing from
4x4 with fade-in, pixel norm, minibatch stddev, equalized learning rate, WGAN-GP loss.

Command:  jaxgan train --config progan_celeba
Expected: the paper trains CelebA-HQ at 1024x1024 (4 days on 8 Tesla V100s, Sec. 6 /
          Table 2); StyleGAN (Karras et al. 2019, Table 1, configuration A) reports FID 7.79
          for that progressive-GAN baseline. On 128x128 CelebA expect recognizable faces
          once the 64x64 stage is stable; the paper's Table 1 reports Sliced Wasserstein
          distances for CelebA at 128x128, not FID.
Run time: about 12 hours on one V100 for the full schedule below (estimate: 6 stages x
          2 phases x 20k iterations, batch 16, early stages much faster).

Growth runs inside the ordinary trainer: `jaxgan.models.progan.progressive_step` switches
on the stage of `state.step` (`model.progan_stage_steps` iterations of fade-in and of
stable training per stage; each stage compiled once, inside one program), so a checkpoint
taken mid-growth resumes in the same stage and at the same alpha. Known gaps: the batch
size does not shrink with the stage as in the paper and the drift penalty (epsilon 0.001)
is not applied. Sample grids show the stage and alpha being trained (upsampled).
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="progan_celeba")
    cfg.data.source = "tfds"
    cfg.data.name = "celeb_a"
    cfg.data.resolution = 128
    cfg.data.channels = 3
    cfg.model.generator = "progan"
    cfg.model.discriminator = "progan"
    cfg.model.latent_dim = 512
    cfg.model.g_width = 64  # 512 channels up to 32x32, then halving (the paper's widths)
    cfg.model.d_width = 64
    cfg.model.progan_stage_steps = 20_000
    cfg.loss.name = "wasserstein"
    cfg.tricks.gp_weight = 10.0
    cfg.optim.g.lr = cfg.optim.d.lr = 1e-3
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.0
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.99
    cfg.train.n_critic = 1
    cfg.train.steps = 220_000  # 5 growth stages x 2 phases + the 4x4 phase
    cfg.train.batch_size = 16
    cfg.train.ema_decay = 0.999
    cfg.train.log_every = 100
    cfg.train.sample_every = 5000
    cfg.train.checkpoint_every = 5000
    return cfg
