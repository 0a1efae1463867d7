"""StyleGAN2 with ADA on the embedded 8x8 digits: the whole recipe, small enough for a CPU.

Command:  jaxgan train --config stylegan2_digits
          jaxgan sample WORKDIR --truncation 0.7 --out truncated.png
Expected: measured at 500 iterations, seeds 0-2 (`jaxgan sweep --seeds 3
          train.steps=500`): the health monitor's verdict healthy for all three; r_t
          0.16-0.36 at the end, so ADA's p stayed at ~0 (D had not begun to overfit);
          samples are digit-like strokes, not yet clean digits. The full 1,000-iteration
          run is not measured. Not tuned. ADA acts on a 64-image subset
          (benchmarks/RESULTS.md): r_t climbs to the target 0.6 by ~2,000 iterations,
          then p leaves 0 and r_t is held at 0.59 +- 0.05 (p 0.045 at 2,600).
Run time: about 9 minutes on 2 heavily loaded CPU cores (load average ~12): `jaxgan bench
          --config stylegan2_digits` measured a 147 s compile, then 2.7 it/s (1.23 GFLOP
          per iteration as XLA counts it: R1 and path length both on; 0.83 on average
          over their intervals by torch's count); 1,000 iterations at batch 32. The same
          network in eager PyTorch (benchmarks/torch_stylegan2.py) ran 2.8x faster
          (35.0 vs 98.4 images/s, load 10-12). Less on an idle machine.

The paper's training recipe (Karras et al. 2020a/b) at CPU size: non-saturating loss,
Adam 0.0025 with betas (0, 0.99), lazy R1 every 16 D updates and lazy path length every
4 G updates (both scaled by their interval; the optimizers' lr and betas corrected by
interval / (interval + 1), the reference's ``mb_ratio``), style mixing 0.9, the EMA
generator with a half-life of 1,000 images (``train.ema_decay = 0.5 ** (batch / 1000)``,
the reference's ``ema_kimg``), ADA towards r_t = 0.6 at the paper's speed scaled to the
run (p from 0 to 1 in 100k images: the paper's 500k is longer than this run). The
network shrunk: 32 channels, z and w of 32, a mapping network of 4 layers, stddev groups
of 4.
"""

from jaxgan.config import Config
from jaxgan.models.stylegan2 import lazy_optim


def get_config() -> Config:
    cfg = Config(name="stylegan2_digits")
    cfg.data.source = "digits"
    cfg.data.resolution = 8
    cfg.data.channels = 1
    m = cfg.model
    m.generator = m.discriminator = "stylegan2"
    m.latent_dim = m.stylegan.w_dim = 32
    m.g_width = m.d_width = 32
    m.stylegan.mapping_layers = 4
    m.stylegan.mixing = 0.9
    m.stylegan.mbstd_group = 4
    m.stylegan.pl_weight, m.stylegan.pl_every = 2.0, 4
    cfg.loss.name = "non_saturating"
    cfg.tricks.r1_gamma, cfg.tricks.r1_every = 0.01, 16
    cfg.tricks.ada, cfg.tricks.ada_target, cfg.tricks.ada_kimg = "bgc", 0.6, 100.0
    for c in (cfg.optim.g, cfg.optim.d):
        c.lr, c.b1, c.b2, c.eps = 0.0025, 0.0, 0.99, 1e-8
    lazy_optim(cfg.optim.g, m.stylegan.pl_every)
    lazy_optim(cfg.optim.d, cfg.tricks.r1_every)
    cfg.train.steps = 1000
    cfg.train.batch_size = 32
    cfg.train.ema_decay = 0.5 ** (cfg.train.batch_size / 1000)
    cfg.train.log_every = 50
    cfg.train.sample_every = 500
    cfg.train.checkpoint_every = 500
    return cfg
