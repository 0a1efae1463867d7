"""A GAN on the 8-Gaussian ring (radius 2, std 0.02) that covers every mode: PacGAN packing.

Command:  jaxgan train --config toy_ring
Expected: all 8 modes with >= 90 % of samples within 3 std of a mode. Measured with the
          real commands over seeds 0-4 (benchmarks/preset_seeds.py: 2,500 samples of the EMA
          generator, the VEEGAN/PacGAN protocol re-implemented in benchmarks/judge.py):
          8/8 modes at every seed, high-quality share 90.0-91.8 % (median 90.1 %, worst
          90.04 % at seed 2), health `healthy` throughout at every seed. The published
          rows on this ring: VEEGAN 8 modes / 52.9 %, Unrolled GAN 7.6 / 35.6 %. The same
          seeds were used to choose the settings; held-out seeds 5-9, run afterwards:
          8/8 modes at every seed, 89.4-92.3 % high quality (worst 89.4 % at seed 6);
          run again 2026-12-02 as the failure benchmark's controls (another machine,
          so other floats): 8/8 at 87.4-92.4 % (worst 87.4 % at seed 5): the held-out
          seeds straddle the 90 % target.
Run time: 2.3-3.7 minutes per run measured on a 2-core CPU shared with other jobs (10,000
          iterations at batch 256); well under a minute on one GPU.

What makes it work, each measured over seeds 0-4 against the plain recipe
(`toy_ring_vanilla`: 2-5 of 8 modes): the discriminator judges packs of 4 samples
(`model.pack=4`, PacGAN), which turns collapse itself into something D can see; a wider,
deeper MLP (3 x 256) so the generator can put sharp boundaries between modes; 10,000
iterations and an EMA generator for precision.
"""

from jaxgan.config import Config
from jaxgan.configs.toy_ring_vanilla import get_config as vanilla


def get_config() -> Config:
    cfg = vanilla()
    cfg.name = "toy_ring"
    cfg.model.pack = 4
    cfg.model.mlp.hidden = 256
    cfg.model.mlp.depth = 3
    cfg.optim.g.lr = 5e-4
    cfg.optim.d.lr = 1e-3
    cfg.train.batch_size = 1024
    cfg.train.steps = 10000
    cfg.train.log_every = 200
    cfg.train.sample_every = 2500
    cfg.train.checkpoint_every = 2500
    cfg.train.ema_decay = 0.999
    return cfg
