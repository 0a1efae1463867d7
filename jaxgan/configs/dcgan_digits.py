"""DCGAN on the 8x8 handwritten digits that ship with scikit-learn (the default job).

Command:  jaxgan train            (same as: jaxgan train --config dcgan_digits)
Expected: recognizable digits in workdir/samples/latest.png after 2,000 steps; the health
          monitor reports `healthy` throughout; D loss ~1.0-1.4 (real + fake terms),
          D accuracy ~0.6-0.85.
Run time: about 3 minutes on a 2-core CPU, well under a minute on one GPU.

The digits are upsampled to 16x16, the smallest size at which a DCGAN keeps its full
structure (project to 4x4, two stride-2 up-convolutions), so the default job is fast.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="dcgan_digits")
    cfg.data.source = "digits"
    cfg.data.resolution = 16
    cfg.data.channels = 1
    cfg.model.latent_dim = 64
    cfg.model.g_width = 64
    cfg.model.d_width = 64
    cfg.loss.name = "non_saturating"
    cfg.optim.g.lr = 2e-4
    cfg.optim.d.lr = 2e-4
    cfg.train.steps = 2000
    cfg.train.batch_size = 64
    cfg.train.steps_per_call = 1  # see step.scan_steps: conv grads in a CPU loop are slow
    cfg.train.log_every = 50
    cfg.train.sample_every = 500
    cfg.train.checkpoint_every = 500
    cfg.train.ema_decay = 0.999
    return cfg
