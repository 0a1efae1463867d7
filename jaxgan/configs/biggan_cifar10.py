"""BigGAN on CIFAR-10 (32x32), StudioGAN's BigGAN recipe: for a GPU or TPU.

Command:  jaxgan train --config biggan_cifar10
          jaxgan sample WORKDIR --truncation 1.0 --out samples.png
Expected: StudioGAN's CIFAR-10 table reports BigGAN FID 4.16, IS 9.96 (their Inception
          weights and protocol). Not run here: CIFAR-10 cannot be downloaded on the
          development machines; only building and a few steps on CIFAR-shaped data are
          tested (tests/test_models_biggan.py).
Run time: not measured (100k iterations of 5 D + 1 G updates at batch 64).

StudioGAN's ``configs/CIFAR10/BigGAN.yaml`` as the architecture: G blocks of
4 x 96 = 384 channels, D blocks of 192, z of 80 split hierarchically over the 4x4
projection and the 3 blocks (4 x 20), a 128-wide shared embedding, self-attention at
16x16 in G and D, spectral norm in both, the EMA generator (0.9999) from step 1,000,
hinge loss. Its optimizer defaults: Adam 2e-4 for both, betas (0.5, 0.999), 5 D steps
per G step, batch 64 (the yaml sets none of these; check them against the StudioGAN
version you compare with). No orthogonal regularization (BigGAN-PyTorch's CIFAR script
sets ``--G_ortho 0.0``; ``tricks.ortho_reg=1e-4`` is the paper's ImageNet setting).
BigGAN-PyTorch's own CIFAR script differs: widths 4 x 64 in G and D, no attention, no
shared embedding or hierarchical latents, 4 D steps, Adam betas (0, 0.999), batch 50.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="biggan_cifar10")
    cfg.data.source = "tfds"
    cfg.data.name = "cifar10"
    cfg.data.resolution = 32
    cfg.data.channels = 3
    cfg.model.generator = "biggan"
    cfg.model.discriminator = "biggan"
    cfg.model.num_classes = 10
    cfg.model.latent_dim = 80
    cfg.model.biggan.shared_dim = 128
    cfg.model.biggan.hier = True
    cfg.model.attention_res = 16
    cfg.model.g_width = 96  # x4 per G block: 384
    cfg.model.d_width = 48  # x4 per D block: 192
    cfg.loss.name = "hinge"
    cfg.optim.g.lr, cfg.optim.d.lr = 2e-4, 2e-4
    cfg.optim.g.b1 = cfg.optim.d.b1 = 0.5
    cfg.optim.g.b2 = cfg.optim.d.b2 = 0.999
    cfg.train.n_critic = 5
    cfg.train.steps = 100_000
    cfg.train.batch_size = 64
    cfg.train.ema_decay = 0.9999
    cfg.train.ema_start = 1000
    cfg.train.log_every = 100
    cfg.train.sample_every = 2000
    cfg.train.checkpoint_every = 5000
    return cfg
