"""BigGAN on the embedded 8x8 digits: the whole BigGAN recipe, small enough for a CPU.

Command:  jaxgan train --config biggan_digits
          jaxgan sample WORKDIR --truncation 0.5 --out truncated.png
Expected: class-conditional digits (sample i of a grid has label i mod 10), health=healthy.
          Measured at seed 0, 500 iterations, judged by logistic regression on the real
          digits: 0.54 of 500 samples are the requested digit (chance 0.10), 0.72 with
          `--truncation 0.5`. One seed, not tuned further.
Run time: about 3 minutes on a loaded 2-core CPU (~3.5 it/s after a ~30 s compile).

The paper's training recipe (Brock et al. 2019, ImageNet) except G's learning rate: hinge
loss, D 2e-4 with Adam betas (0, 0.999), 2 D steps per G step, orthogonal
regularization 1e-4, the EMA generator with a start step; G at 2e-4, not the paper's
5e-5, because at 5e-5 this small run did not learn the classes (0.10 at 500 iterations,
0.12 at 1,000; ``optim.g.lr=5e-5`` restores the paper's). The network shrunk: one up
block from 4x4 to 8x8 with 64 channels, hierarchical latents of 2 x 16, a 32-wide
shared class embedding, self-attention at 4x4 in G and D.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="biggan_digits")
    cfg.data.source = "digits"
    cfg.data.resolution = 8
    cfg.data.channels = 1
    cfg.model.generator = "biggan"
    cfg.model.discriminator = "biggan"
    cfg.model.num_classes = 10
    cfg.model.latent_dim = 32
    cfg.model.biggan_shared_dim = 32
    cfg.model.biggan_hier = True
    cfg.model.attention_res = 4
    cfg.model.g_width = 16
    cfg.model.d_width = 16
    cfg.loss.name = "hinge"
    cfg.tricks.ortho_reg = 1e-4
    cfg.optim.g.lr, cfg.optim.d.lr = 2e-4, 2e-4  # the paper's G: 5e-5 (see above)
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.0
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.999
    cfg.train.n_critic = 2
    cfg.train.steps = 500
    cfg.train.batch_size = 64
    cfg.train.steps_per_call = 1
    cfg.train.ema_decay = 0.999
    cfg.train.ema_start = 200
    cfg.train.log_every = 50
    cfg.train.sample_every = 250
    cfg.train.checkpoint_every = 250
    return cfg
