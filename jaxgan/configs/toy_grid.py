"""A GAN on the 25-Gaussian 5x5 grid of the mode-collapse literature (VEEGAN, PacGAN).

Command:  jaxgan train --config toy_grid
Expected: 25/25 modes and >= 90 % of samples within 3 std at every seed measured: the
          issue-13 target, met. Real commands (benchmarks/preset_seeds.py, 2,500 EMA
          samples, the VEEGAN/PacGAN protocol of benchmarks/judge.py): seeds 0-4 (tuning)
          25/25 at 92.3-93.8 % (worst seed 4: 92.3 %); held-out seeds 5-9, run once
          afterwards: 25/25 at 91.9-93.9 % (worst seed 8: 91.9 %); healthy at every seed.
Run time: 1-2.5 minutes per run on a 2-core CPU (16,000 iterations of 2 x 128 MLPs at
          batch 1,024, two runs at a time).

What it changes against the plain recipe (`toy_ring_vanilla` on the grid, 10-16 of 25
modes, 2-6 % high quality): D's first-layer biases start random (`model.mlp.bias_init=2`;
with zeros every ReLU kink of D passes through the origin and D sat at chance while G
spread its samples uniformly), PacGAN packing of 2, a batch of 1,024 (every mode in every
batch), a latent of 32, R1 (gamma 0.1), G at 3e-3 against D at 1e-3 with both decayed to 0
by a cosine over 16,000 iterations, and an EMA generator (0.999). Every recipe tried:
benchmarks/RESULTS.md.
"""

from jaxgan.config import Config
from jaxgan.configs import toy_ring_vanilla


def get_config() -> Config:
    cfg = toy_ring_vanilla.get_config()
    cfg.name = "toy_grid"
    cfg.data.source = "toy_grid"
    cfg.model.mlp.bias_init = 2.0
    cfg.model.pack = 2
    cfg.model.latent_dim = 32
    cfg.tricks.r1_gamma = 0.1
    cfg.optim.g.lr = 3e-3
    cfg.optim.g.schedule = cfg.optim.d.schedule = "cosine"
    cfg.train.batch_size = 1024
    cfg.train.steps = 16000
    cfg.train.ema_decay = 0.999
    cfg.train.sample_every = 4000
    cfg.train.checkpoint_every = 4000
    return cfg
