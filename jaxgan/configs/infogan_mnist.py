"""InfoGAN on MNIST (tfds `mnist`, 32x32): a 10-way categorical code, 2 continuous codes,
62 noise dimensions, Q sharing D's trunk (Chen et al. 2016, Appendix C.1 architecture).

Command:  jaxgan train --config infogan_mnist
Expected: the paper reports that the categorical code captures digit type, "matched to
          digit types with 5% error" (Chen et al. 2016, Sec. 7.1, i.e. 95% accuracy), and
          that the continuous codes capture rotation and width; the Q head's categorical
          cross-entropy (metric `info_ce`) approaches 0. Traversal grids (a row per
          category, 10 values of each continuous code) are written beside the samples as
          `samples/traversal_STEP.png` and `samples/traversal_latest.png`.
Run time: about 10 minutes for 20k iterations on one A100 (estimate); the offline twin
          `infogan_digits` takes about 2 minutes on a 2-core CPU.
"""

from jaxgan.config import Config
from jaxgan.configs.infogan_digits import get_config as _digits


def get_config() -> Config:
    cfg = _digits()
    cfg.name = "infogan_mnist"
    cfg.data.source = "tfds"
    cfg.data.name = "mnist"
    cfg.data.resolution = 32
    cfg.model.g_width = 64
    cfg.model.d_width = 64
    cfg.train.steps = 20_000
    cfg.train.log_every = 100
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 2000
    return cfg
