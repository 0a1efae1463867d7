"""Every zoo preset trains a few steps through `jaxgan.trainer.train` on the embedded
digits (tfds datasets overridden to `data.source=digits`, 8x8, widths 4, batch 4).

The runs happen in one child process (`tests/_zoo_runner.py`) that sets XLA:CPU's cheap
compile pipeline before JAX starts: these tiny runs are all compile time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jaxgan import config as C

sys.path.insert(0, str(Path(__file__).parent))
from _zoo_runner import run_zoo  # noqa: E402

ZOO = ["cgan_mnist", "infogan_mnist", "sngan_cifar10", "sagan_cifar10", "wgan_gp_cifar10",
       "wgan_cifar10", "lsgan_cifar10", "progan_celeba"]
TWINS = {"cgan_digits": "cgan_mnist", "infogan_digits": "infogan_mnist"}


@pytest.mark.parametrize("name", ZOO + list(TWINS))
def test_preset_docstring_and_validation(name):
    doc = __import__(f"jaxgan.configs.{name}", fromlist=["x"]).__doc__
    for part in ("Command:", "Expected:", "Run time:"):
        assert part in doc, f"{name} docstring lacks {part}"
    assert f"--config {name}" in doc
    cfg = C.validate(C.load_preset(name))
    assert cfg.name == name


def test_digits_twins_are_the_same_model_as_their_presets():
    for twin, full in TWINS.items():
        a, b = C.load_preset(twin).to_dict(), C.load_preset(full).to_dict()
        for d in (a, b):
            d.pop("name"), d.pop("data"), d["train"].pop("steps")
            for k in ("latent_dim", "g_width", "d_width"):
                d["model"].pop(k)
            for k in ("log_every", "sample_every", "checkpoint_every"):
                d["train"].pop(k)
        assert a == b, twin


def test_paper_settings():
    sagan = C.load_preset("sagan_cifar10")
    assert (sagan.optim.g.lr, sagan.optim.d.lr, sagan.loss.name) == (1e-4, 4e-4, "hinge")
    assert sagan.model.spectral_norm and sagan.model.g_spectral_norm
    gp = C.load_preset("wgan_gp_cifar10")
    assert (gp.train.n_critic, gp.tricks.gp_weight, gp.loss.name) == (5, 10.0, "wasserstein")
    wc = C.load_preset("wgan_cifar10")
    assert wc.tricks.weight_clip == 0.01 and wc.optim.d.name == "rmsprop"
    assert C.load_preset("lsgan_cifar10").loss.name == "least_squares"
    sn = C.load_preset("sngan_cifar10")
    assert sn.model.spectral_norm and sn.loss.name == "hinge" and sn.train.n_critic == 5


def test_infogan_run_writes_a_latent_traversal_grid(tmp_path):
    """2 tiny iterations of infogan_digits (10 categories, 2 continuous codes, 8x8) sampled
    at step 2: beside the sample grid, a traversal PNG of 10 rows (categories) x 20 columns
    (10 values of each continuous code), the images the final state generates."""
    res = run_zoo("infogan_grid", str(tmp_path))
    assert {"step_0000002.png", "latest.png", "traversal_0000002.png",
            "traversal_latest.png"} <= set(res["files"]), res["files"]
    assert (res["n_images"], res["ncols"]) == (200, 20)
    # 8x8 images with 2-pixel padding: 10 * 10 + 2 rows, 20 * 10 + 2 columns, upscaled
    # (nearest) by ceil(512 / 102) = 6 for visibility
    assert res["grid_shape"] == [102, 202] and res["scale"] == 6
    assert res["png_shape"] == [612, 1212]
    assert res["png_equals_grid"] and res["png_std"] > 1.0
    # both codes reach the pixels (barely, in a 2-step width-4 model: measured 3.2e-4 for
    # continuous code 0 from -1 to 1 and 6.4e-5 for category 0 -> 1)
    assert res["cont_effect"] > 1e-5 and res["cat_effect"] > 1e-6, res


@pytest.mark.slow
def test_every_zoo_preset_trains_two_steps(tmp_path):
    """~7 minutes on a 2-core CPU at load 10 (compile-bound), ~2 when idle."""
    res = run_zoo("presets", str(tmp_path), *ZOO)
    assert sorted(res) == sorted(ZOO)
    for name, r in res.items():
        assert r["finite"], (name, r)
        assert r["step"] == (4 if name == "progan_celeba" else 2), (name, r)
    assert "gp" in res["wgan_gp_cifar10"]["keys"] and "gp" in res["progan_celeba"]["keys"]
    assert "info_ce" in res["infogan_mnist"]["keys"]
    assert "progan_stage" in res["progan_celeba"]["keys"]
