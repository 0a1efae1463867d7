"""Progressive GAN (Karras et al. 2018) on CelebA (tfds `celeb_a`, 128x128): growing from
4x4 with fade-in, pixel norm, minibatch stddev, equalized learning rate, WGAN-GP loss.

Command:  jaxgan train --config progan_celeba
Expected: the paper trains CelebA-HQ at 1024x1024 (4 days on 8 Tesla V100s, Sec. 6 /
          Table 2); StyleGAN (Karras et al. 2019, Table 1, configuration A) reports FID 7.79
          for that progressive-GAN baseline. On 128x128 CelebA expect recognizable faces
          once the 64x64 stage is stable; the paper's Table 1 reports Sliced Wasserstein
          distances for CelebA at 128x128, not FID.
Run time: about 17 hours on one V100 for the full schedule below (estimate: 6 stages x
          2 phases x 20k iterations; pixels processed are 1.4x those of a constant batch
          16, which was estimated at 12 hours; the early stages are cheap).

Growth runs inside the ordinary trainer: `jaxgan.models.progan.progressive_step` switches
on the stage of `state.step` (`model.progan.stage_steps` iterations of fade-in and of
stable training per stage), so a checkpoint taken mid-growth resumes in the same stage and
at the same alpha. Sample grids show the stage and alpha being trained (upsampled).

Two more of the paper's training details are on:

* drift penalty: `tricks.drift_penalty=0.001` adds epsilon_drift * E[D(real)^2] to the
  critic's loss (Sec. A.1), keeping WGAN-GP's critic outputs near zero;
* per-stage batch size: `model.progan.batch_sizes` gives each stage's global batch (the
  last entry repeats). The values are the official code's 1-GPU schedule (`config.py`,
  preset-v2-1gpu: 128 up to 16x16, then 64, 32, 16); the paper's CelebA-HQ run used 16 up
  to 128x128 and shrank only above (Sec. A.1). Every stage is still compiled once: the
  step keeps one program per batch size, holding only the stages of that size (a
  ``lax.switch`` among them), and the trainer feeds each iteration its stage's batch. The
  data are read as one contiguous stream (batch k starts where batch k-1 ended), which is
  why each stage's batch must divide the samples drawn before it (sizes that divide their
  predecessors always do) and `train.batch_size` must equal the first entry. Batches are
  a pure function of the step, so resume mid-growth stays exact.
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
    cfg.model.progan.stage_steps = 20_000
    cfg.loss.name = "wasserstein"
    cfg.tricks.gp_weight = 10.0
    cfg.optim.g.lr = cfg.optim.d.lr = 1e-3
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.0
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.99
    cfg.train.n_critic = 1
    cfg.train.steps = 220_000  # 5 growth stages x 2 phases + the 4x4 phase
    # the official code's 1-GPU schedule (preset-v2-1gpu): 128 up to 16x16, then halving
    cfg.model.progan.batch_sizes = [128, 128, 128, 64, 32, 16]
    cfg.train.batch_size = 128  # = the first stage's
    cfg.tricks.drift_penalty = 0.001  # epsilon_drift (Sec. A.1)
    cfg.train.ema_decay = 0.999
    cfg.train.log_every = 100
    cfg.train.sample_every = 5000
    cfg.train.checkpoint_every = 5000
    return cfg
