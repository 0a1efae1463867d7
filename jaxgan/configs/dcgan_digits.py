"""DCGAN on the 8x8 handwritten digits that ship with scikit-learn (the default job).

Command:  jaxgan train            (same as: jaxgan train --config dcgan_digits)
Expected: recognizable digits in workdir/samples/latest.png from about step 1,000 on; the
          health monitor reports `healthy` throughout. On this small, easy dataset the
          discriminator stays confident (D accuracy 0.9-1.0, D loss 0.2-0.9 summed over
          the real and fake terms, G loss 1.5-2.7) while the generator keeps improving.
Run time: about 2.5 minutes on a 2-core CPU (~0.05 s per iteration), well under a minute on
          one GPU.

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
