"""What the presets produce, judged by evidence jaxgan does not compute (benchmarks/judge.py).

The five-seed measurements are benchmarks (`benchmarks/preset_seeds.py`); these tests
assert what is cheap: the judge ranks real digits above damaged ones, and a short run of
the packed `toy_ring` covers more modes than the plain recipe at the same budget, and a short
`toy_grid` run covers more modes, more sharply, than the plain recipe on the grid.
"""

import os
import sys

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from judge import (  # noqa: E402
    MNIST_DIR,
    TOYS,
    DigitsJudge,
    MnistJudge,
    frechet_distance,
    mnist_images,
    mode_count,
)

from jaxgan.config import resolve  # noqa: E402
from jaxgan.sampling import generate  # noqa: E402
from jaxgan.state import make_models  # noqa: E402
from jaxgan.sweep import sweep  # noqa: E402


@pytest.fixture(scope="module")
def judge():
    return DigitsJudge()


def _held_out_images(judge):
    """The judge's held-out digits as a generator would emit them: 16x16 in [-1, 1]."""
    x = judge.held_x.reshape(-1, 8, 8) / 8.0 - 1.0
    return np.repeat(np.repeat(x, 2, 1), 2, 2)


def test_judge_ranks_real_digits_above_blurred_and_collapsed_ones(judge):
    real = _held_out_images(judge)
    good = judge.score(real)
    assert good.confident > 0.85 and good.classes_at_3pct == 10
    assert good.entropy_bits > 3.25 and abs(good.nn_ratio - 1.0) < 1e-9
    blurred = judge.score(gaussian_filter(real, sigma=(0, 1.5, 1.5)))
    assert blurred.confident < good.confident - 0.3 and blurred.nn_ratio > 1.3
    labels = judge.held_y
    collapsed = judge.score(real[np.isin(labels, [0, 1])])  # two classes only
    assert collapsed.classes_at_3pct == 2 and collapsed.entropy_bits < 1.3  # 1 bit + errors
    noise = judge.score(np.random.default_rng(0).uniform(-1, 1, real.shape))
    # an MLP is confident far from its data (noise is mostly a confident "4"): the
    # nearest-neighbour ratio and the class entropy are what expose it
    assert noise.nn_ratio > 2.0 and noise.entropy_bits < 1.0


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the shared MNIST test set is not here")
def test_mnist_judge_ranks_held_out_digits_above_blurred_and_collapsed_ones():
    """The MNIST judge (an sklearn MLP on 8,000 of the 10,000 real test digits at 16x16):
    the 2,000 held-out digits, fed as a 32x32 generator would emit them, are classified and
    confident, and lie close to the training digits in its hidden features; blurred or
    two-class sets do not."""
    from jaxgan.data.images import to_resolution

    images = to_resolution(mnist_images()[..., None], 32, 1)[..., 0]
    judge = MnistJudge(images)
    assert judge.held_out_accuracy > 0.94
    real = images[8000:].astype(np.float64) / 127.5 - 1.0
    good = judge.score(real)
    assert good.confident > 0.93 and good.classes_at_3pct == 10 and good.entropy_bits > 3.28
    fd_real = frechet_distance(judge.features(real), judge.train_features)  # measured 6.2
    assert fd_real < 10
    blurred = gaussian_filter(real, sigma=(0, 2.0, 2.0))
    b = judge.score(blurred)
    # measured: 0.756 confident, NN ratio 1.13, FD 21.1 against 0.961 / 1.00 / 6.2
    assert b.confident < good.confident - 0.15 and b.nn_ratio > 1.08
    assert frechet_distance(judge.features(blurred), judge.train_features) > 2.5 * fd_real
    collapsed = real[np.isin(judge.held_y, [0, 1])]
    c = judge.score(collapsed)
    assert c.classes_at_3pct == 2 and c.entropy_bits < 1.3  # measured 1.09 bits, FD 71.2
    assert frechet_distance(judge.features(collapsed), judge.train_features) > 5 * fd_real


def test_mode_count_follows_the_veegan_protocol():
    centers, std = TOYS["toy_ring"]
    rng = np.random.default_rng(0)
    on = centers[rng.integers(0, 3, 900)] + std * rng.normal(size=(900, 2))
    off = rng.uniform(-3, 3, (100, 2)) * 10  # far from every mode
    m = mode_count(np.concatenate([on, off]), centers, std)
    assert m["modes"] == 3 and abs(m["high_quality"] - 0.9 * (1 - np.exp(-4.5))) < 0.02


def _short_scores(toy: str, preset: str, steps: int, seeds: list[int], *extra: str):
    """Judge a short run of a preset per seed (2,500 samples, EMA where it has one)."""
    centers, std = TOYS[toy]
    cfg = resolve(preset, [f"train.steps={steps}", "train.progress=false", *extra])
    rows = sweep(cfg, seeds=seeds, quiet=True)
    models = make_models(cfg)
    return [mode_count(generate(models, r["state"], 2500, 777,
                                use_ema=cfg.train.ema_decay > 0), centers, std)
            for r in rows]


def test_short_packed_toy_ring_covers_more_modes_than_the_plain_recipe():
    """1,500 iterations at seeds 0 and 3: the shipped toy_ring (PacGAN packing, 3 x 256
    MLPs, batch 1,024, EMA) against the plain recipe it replaced (toy_ring_vanilla).
    Measured 2026-12-03: 8 / 8 modes against 4 / 2."""
    counts = {p: [m["modes"] for m in _short_scores("toy_ring", p, 1500, [0, 3])]
              for p in ("toy_ring", "toy_ring_vanilla")}
    print(counts)
    assert min(counts["toy_ring"]) >= 7, counts
    assert min(counts["toy_ring"]) > max(counts["toy_ring_vanilla"]), counts


def test_short_toy_grid_beats_the_plain_recipe_on_modes_and_sharpness():
    """3,000 iterations (the cosine decays over them) at seeds 0 and 3: the shipped toy_grid
    against the plain recipe on the same grid (toy_ring_vanilla with data.source=toy_grid).
    Measured 2026-12-02: toy_grid 20 / 21 modes at 15.9 / 18.9 % high quality, the plain
    recipe 12 / 13 modes at 3.5 / 4.9 %; the bounds sit between the two with room."""
    ours = _short_scores("toy_grid", "toy_grid", 3000, [0, 3])
    plain = _short_scores("toy_grid", "toy_ring_vanilla", 3000, [0, 3], "data.source=toy_grid")
    scores = {"toy_grid": ours, "plain": plain}
    print(scores)
    assert min(m["modes"] for m in ours) >= 17, scores
    assert min(m["modes"] for m in ours) >= max(m["modes"] for m in plain) + 4, scores
    assert min(m["high_quality"] for m in ours) >= 0.10, scores
    assert min(m["high_quality"] for m in ours) >= 2 * max(m["high_quality"] for m in plain)
