"""DCGAN on MNIST at 32x32 (tfds `mnist`, train split).

Command:  jaxgan train --config dcgan_mnist
          on MNIST's own IDX files, no tfds or network (e.g. the shared 10,000 test digits):
          jaxgan train --config dcgan_mnist data.source=idx data.path=../shared/data/mnist
          data.split=test
Expected: the full preset (widths 64, 5,000 iterations) has not been measured: on the
          shared 2-core CPU it runs at ~0.8-1.2 it/s (~1.5 h). What was measured
          (benchmarks/quality.py --data mnist --steps 400 --width 32, 2026-12-01, load
          10-12): this preset at widths 32 and 400 iterations on the 10,000 test digits,
          seeds 0-2, 1,000 EMA samples scored by benchmarks/judge.py's MNIST MLP (real
          held-out digits: 0.961 confident, 10 classes, FD 6.2): FD 30.0-39.5, 0.595-0.649
          confident, only 5-7 classes with >= 3 % of samples, 2.42-2.75 bits. That is a
          budget far from converged, and no better than blobs of digits; the pytorch/examples
          DCGAN at the same budget does no better (FD 35.3-69.1, 0.577-0.612, 5-6 classes).
          Not re-tuned: `train.ema_decay=0.99` changed nothing at 400 it. (the EMA warm-up
          caps the decay at ~0.978 there); no CPU budget was left for more.
Run time: 250-320 s per run of that measurement (400 it. at ~2 it/s, compile included,
          load 10-12); the full preset about 1.5 h on 2 loaded CPU cores; about 1 minute
          on one V100/A100 or a TPU v3-8.
Needs the tfds `mnist` data (downloaded by tfds on first use, or prepared offline and
passed with data.path=DIR), or `data.source=idx` as above.
"""

from jaxgan.config import Config


def get_config() -> Config:
    cfg = Config(name="dcgan_mnist")
    cfg.data.source = "tfds"
    cfg.data.name = "mnist"
    cfg.data.resolution = 32
    cfg.data.channels = 1
    cfg.model.latent_dim = 100
    cfg.model.g_width = 64
    cfg.model.d_width = 64
    cfg.train.steps = 5000
    cfg.train.batch_size = 64
    cfg.train.log_every = 100
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    return cfg
