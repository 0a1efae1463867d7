"""The plain MLP GAN on the 8-Gaussian ring: the mode-collapse failure, reproduced on purpose.

Command:  jaxgan train --config toy_ring_vanilla
Expected: mode collapse. Measured over seeds 0-4 (benchmarks/preset_seeds.py, 2,500
          samples, VEEGAN/PacGAN protocol): 2-5 of 8 modes captured, 2-40 % of samples
          within 3 std of a mode; the health monitor says `mode_collapse` at every seed.
          This is the plain-GAN row of the VEEGAN and PacGAN tables (VEEGAN's "GAN": 1
          mode; Unrolled GAN 7.6 modes / 35.6 % high quality) and the base of the failure
          zoo (`zoo_*`) and of the tests' tiny toy runs. For a run that covers every mode,
          use `toy_ring`.
Run time: about 20 seconds on a 2-core CPU.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="toy_ring_vanilla")
    cfg.data.source = "toy_ring"
    cfg.model.generator = "mlp"
    cfg.model.discriminator = "mlp"
    cfg.model.latent_dim = 256
    cfg.model.mlp.hidden = 128
    cfg.model.mlp.depth = 2
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 1e-3
    cfg.optim.d.lr = 1e-3
    cfg.optim.g.b1 = 0.5
    cfg.optim.d.b1 = 0.5
    cfg.train.steps = 3000
    cfg.train.batch_size = 256
    cfg.train.steps_per_call = 50
    cfg.train.log_every = 100
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    cfg.train.ema_decay = 0.0
    return cfg
