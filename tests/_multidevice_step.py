"""Run one jaxgan step on N forced host devices and save the new state (used by test_step).

Usage: python _multidevice_step.py N OUT.npz MODEL

MODEL: dcgan, mlp, or dcgan_tricks (DCGAN with spectral norm, DiffAugment, instance noise,
label flipping and the WGAN-GP penalty: every trick that draws random numbers), or biggan
(10 classes with random labels, attention at 4x4, orthogonal regularization, EMA from
step 1), or stylegan2 (style mixing, noise inputs, lazy R1 and path length every 2
steps, ADA adjusting p at every step from 0.5).
"""

import os
import sys

n_devices, out, model = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"
# compile-bound: XLA:CPU's cheap pipeline halves the run time
if model in ("dcgan_tricks", "biggan", "stylegan2"):
    os.environ["XLA_FLAGS"] += (" --xla_backend_optimization_level=0"
                                " --xla_llvm_disable_expensive_passes=true")

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgan import parallel  # noqa: E402
from jaxgan.config import Config  # noqa: E402
from jaxgan.losses import get_loss  # noqa: E402
from jaxgan.multistep import scan_steps  # noqa: E402
from jaxgan.state import init_state, make_models  # noqa: E402
from jaxgan.step import make_train_step  # noqa: E402
from jaxgan.tricks import step_parts  # noqa: E402

assert jax.device_count() == n_devices
cfg = Config()
cfg.data.resolution, cfg.model.g_width, cfg.model.d_width = 8, 8, 8
cfg.model.latent_dim = 16
cfg.model.sync_bn = True  # the global batch's statistics: the same math on any device count
shape = (8, 8, 1)
if model == "mlp":
    cfg.model.generator = cfg.model.discriminator = "mlp"
    shape = (2,)
if model == "dcgan_tricks":  # SN instead of batch norm in D: the penalty's input gradients
    cfg.model.spectral_norm = True  # are then per sample, whatever the device count
    t = cfg.tricks
    t.diffaugment, t.instance_noise, t.label_flip, t.gp_weight = "color,translation,cutout", \
        0.1, 0.25, 10.0
if model == "biggan":
    cfg.model.generator = cfg.model.discriminator = "biggan"
    cfg.model.g_width = cfg.model.d_width = 2
    cfg.model.num_classes, cfg.model.attention_res = 10, 4
    cfg.tricks.ortho_reg = 1e-4
    # SGD, not Adam: a bias right before a batch norm has a gradient of exactly 0 up to
    # rounding, which Adam's first step would scale up to +-lr in a device-dependent sign
    cfg.optim.g.name = cfg.optim.d.name = "sgd"
if model == "stylegan2":
    m = cfg.model
    m.generator = m.discriminator = "stylegan2"
    m.g_width = m.d_width = 4
    m.latent_dim = m.stylegan.w_dim = 8
    m.stylegan.mapping_layers, m.stylegan.mbstd_group = 2, 2  # 2 samples per device
    m.stylegan.pl_weight, m.stylegan.pl_every = 2.0, 2
    m.sync_bn = False  # no batch norm in either network
    t = cfg.tricks
    t.r1_gamma, t.r1_every = 1.0, 2
    t.ada, t.ada_p, t.ada_interval, t.ada_kimg = "bgc", 0.5, 1, 0.1
    cfg.optim.g.name = cfg.optim.d.name = "sgd"  # as biggan: no sign flips of ~0 grads
parts, models = step_parts(cfg, make_models(cfg))
mesh = parallel.make_mesh()
step = make_train_step(models, get_loss("non_saturating"), n_critic=2, axis_name="data",
                       parts=parts, **({"ema_start": 1} if model == "biggan" else {}))
fn = parallel.parallelize(scan_steps(step), mesh, batch_axis=2)
state = parallel.create_replicated(lambda: init_state(models, 3, shape), mesh)
rng = np.random.default_rng(0)
batch = {"image": rng.uniform(-1, 1, (2, 2, 16, *shape)).astype(np.float32),
         "label": (rng.integers(0, 10, (2, 2, 16)) if model == "biggan" else
                   np.zeros((2, 2, 16))).astype(np.int32)}
state, metrics = fn(state, parallel.host_to_global(batch, mesh, 2))
leaves = jax.tree_util.tree_leaves_with_path(jax.device_get(state))
np.savez(out, **{jax.tree_util.keystr(k): np.asarray(v) for k, v in leaves},
         **{"metric/" + k: np.asarray(v) for k, v in jax.device_get(metrics).items()})
