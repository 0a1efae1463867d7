"""A GAN on the 8-Gaussian ring (radius 2, std 0.02) that covers every mode: PacGAN packing.

Command:  jaxgan train --config toy_ring
Expected: all 8 modes with >= 90 % of samples within 3 std of a mode. Measured with the
          real commands (benchmarks/preset_seeds.py: 2,500 samples of the EMA generator,
          the VEEGAN/PacGAN protocol re-implemented in benchmarks/judge.py), 2026-12-03:
          seeds 0-4 (tuning) 8/8 modes at 93.2-95.1 % high quality (worst seed 0:
          93.2 %); held-out seeds 5-9, run once afterwards: 8/8 at 93.2-94.8 % (worst seed
          7: 93.2 %); `healthy` at every record of every seed, no warning. The published
          rows on this ring: VEEGAN 8 modes / 52.9 %, Unrolled GAN 7.6 / 35.6 %.
Run time: 3.2-3.4 minutes per run on a 2-core CPU, two runs at a time (10,000 iterations
          at batch 1,024).

What makes it work, each measured over seeds 0-4 against the plain recipe
(`toy_ring_vanilla`: 2-5 of 8 modes): the discriminator judges packs of 4 samples
(`model.pack=4`, PacGAN), which turns collapse itself into something D can see; a wider,
deeper MLP (3 x 256) so the generator can put sharp boundaries between modes; 10,000
iterations and an EMA generator for precision; a batch of 1,024, whose less noisy
gradients leave fewer samples on the bridges between modes (at batch 256 the worst seed
sat at 87.9 %, 512: 91.8 %, 1,024: 94.0 % in `benchmarks/grid_sweep.py`; 5,000 iterations
at 1,024: 85.0 %). Decaying both learning rates by a cosine (84.5 %) and a categorical
latent (`model.mlp.latent_categories` 8 / 32: 88.8 / 89.2 %) did not help. Every recipe
tried: benchmarks/RESULTS.md.
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
