"""DCGAN on MNIST at 32x32 (tfds `mnist`, train split).

Command:  jaxgan train --config dcgan_mnist
          on MNIST's own IDX files, no tfds or network (e.g. the shared 10,000 test digits):
          jaxgan train --config dcgan_mnist data.source=idx data.path=../shared/data/mnist
          data.split=test
Expected: (benchmarks/quality.py --data mnist --seeds 0 1 2 3 4, 2026-12-04, on the
          10,000 shared test digits at 32x32, 1,000 EMA samples scored by
          benchmarks/judge.py's MNIST MLP; real held-out digits: FD 6.23, 0.961
          confident, 10 classes): FD 4.98-6.68 (median 5.32, worst 6.68), 0.765-0.801
          confident, 10 classes with >= 3 % of samples at every seed, >= 3.279 bits.
          The pytorch/examples DCGAN at the same widths and budget: FD 4.88-7.27,
          0.767-0.779, 10 classes (seeds 0-2). The health monitor keeps these runs
          healthy at every record: D stays ahead (0.89-1.0) and G's loss at 3-5 in their
          second half, a strong D beside samples that look like the data (it said
          convergence_failure there before session 19).
          On one H200 (jax 0.11.2, benchmarks/gpu_quality.sh) the same preset gives the
          same figures: five seeds FD 5.67-6.33, 0.719-0.794 confident, 10 classes.
Run time: 706-716 s per run (7 it/s, compile and sampling included) on a quiet 2-core
          CPU; about 1.5 h under a load of 10-12; 46 s on one H200 (240 it/s, measured
          2026-12-04).
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
