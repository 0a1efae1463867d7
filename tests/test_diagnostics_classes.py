"""The live coverage signals of image runs: the class count (`health.class_signal`) and the
pixel-space spread, the mode-collapse rule on each, and a real training run that logs them."""

import json

import numpy as np
import pytest

from jaxgan.diagnostics import detectors as det
from jaxgan.diagnostics.class_modes import CLASS_MIN_SAMPLES, CLASS_SHARE, class_count
from jaxgan.diagnostics.spread import mean_pairwise_distance, pixel_spread
from tests.test_diagnostics_detectors import LAG, ONSET, edit, healthy, replay


def onehot(classes, k=10, p=0.95):
    probs = np.full((len(classes), k), (1 - p) / (k - 1))
    probs[np.arange(len(classes)), classes] = p
    return probs


def test_class_count_counts_confident_samples_per_class():
    # 100 confident samples: 60 of class 0, 30 of class 1, 9 of class 2, 1 of class 3;
    # a class needs max(0.2 * 100 / 10, 2) = 2 samples, so class 3 (one stray) is not one
    probs = onehot([0] * 60 + [1] * 30 + [2] * 9 + [3])
    unsure = np.full((100, 10), 0.1)  # 100 samples the classifier is not sure of
    out = class_count(np.concatenate([probs, unsure]))
    assert out == {"classes_captured": 3, "num_classes": 10, "class_confident": 0.5}
    assert max(CLASS_SHARE * 100 / 10, CLASS_MIN_SAMPLES) == 2


def test_class_count_of_nothing_recognizable_and_of_nan():
    out = class_count(np.full((50, 10), 0.1))
    assert out["classes_captured"] == 0 and out["class_confident"] == 0.0
    probs = onehot(list(range(10)) * 5)
    probs[:25] = np.nan  # a diverged generator's NaN samples count for no class
    out = class_count(probs)
    assert out["class_confident"] == 0.5 and out["classes_captured"] == 10


@pytest.mark.parametrize("captured,expected", [(4, True), (5, False)])
def test_classes_captured_borderline(captured, expected):
    recs = edit(healthy(50), 0, num_classes=10, classes_captured=10, class_confident=0.7)
    edit(recs, ONSET, classes_captured=captured)
    v = replay(recs)
    assert (v[ONSET + LAG].name == "mode_collapse") is expected
    if expected:
        assert v[ONSET + LAG - 1].name == "healthy"
        assert "classes_captured=4/10" in v[-1].evidence[0]


def test_few_classes_are_not_judged_while_nothing_is_recognizable():
    # a generator that draws blobs: the classifier is sure of 10 % of them, 2 classes
    recs = edit(healthy(50), 0, num_classes=10, classes_captured=2, class_confident=0.1)
    assert {v.name for v in replay(recs)} == {"healthy"}
    assert det.CLASSES_MIN_CONFIDENT == 0.2
    edit(recs, ONSET, class_confident=0.2)  # now recognizable: the 2 classes are a collapse
    assert replay(recs)[-1].name == "mode_collapse"


def test_a_digits_run_logs_the_class_count(tmp_path, monkeypatch):
    from jaxgan import config as C
    from jaxgan.trainer import train

    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))
    cfg = C.resolve("dcgan_digits", ["train.steps=20", "train.log_every=10",
                                     "train.sample_every=20", "train.checkpoint_every=20",
                                     "train.progress=false", "model.g_width=8",
                                     "model.d_width=8"], 1)
    train(cfg, tmp_path / "run")
    recs = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    recs = [r for r in recs if "d_loss" in r]
    assert len(recs) == 2
    for r in recs:
        assert r["num_classes"] == 10 and 0 <= r["classes_captured"] <= 10
        assert 0.0 <= r["class_confident"] <= 1.0
        # and the EMA generator's, which the user samples (train.ema_decay 0.999)
        assert 0 <= r["ema_classes_captured"] <= 10 and 0.0 <= r["ema_class_confident"] <= 1.0
        assert 0.0 < r["pixel_spread"] < 3.0 and 0.0 < r["ema_pixel_spread"] < 3.0
    assert list((tmp_path / "cache" / "classifiers").glob("digits_*.msgpack"))
    # the probe's one-call signals equal the plain path on the final checkpoint: both
    # generators through `generate`, the classifier, and the real subset's spread
    from jaxgan import streams
    from jaxgan.classifier import health_classifier
    from jaxgan.data.images import to_unit_range
    from jaxgan.readers import load_run
    from jaxgan.sampling import generate

    loaded = load_run(tmp_path / "run")
    assert loaded.step == recs[-1]["step"] == 20
    clf = health_classifier(cfg, loaded.setup.source)
    images = loaded.setup.source.images
    real = to_unit_range(images[np.sort(np.random.default_rng(cfg.seed).choice(
        len(images), 256, replace=False))])
    for prefix, use_ema in (("", False), ("ema_", True)):
        fake = generate(loaded.setup.models, loaded.state, 256, use_ema=use_ema,
                        seed=cfg.seed + streams.CLASS_SIGNAL_SEED_OFFSET)
        want = {**class_count(clf.apply(fake)[1]), **pixel_spread(fake, real)}
        for k in ("classes_captured", "class_confident", "pixel_spread"):
            assert recs[-1][prefix + k] == pytest.approx(want[k], rel=1e-5, abs=1e-6), k
    # the next run on the dataset loads the cached classifier instead of training one
    import jaxgan.classifier as clf_mod
    from jaxgan.data import make_source

    monkeypatch.setattr(clf_mod, "train_classifier", lambda *a, **k: pytest.fail("retrained"))
    assert clf_mod.health_classifier(cfg, make_source(cfg.data, 0)).module.num_classes == 10
    toy = C.resolve("toy_ring_vanilla", [], 1)
    assert clf_mod.health_classifier(toy, make_source(toy.data, 0)) is None


def test_d_winning_names_the_cause_and_keeps_the_collapse_as_evidence():
    recs = edit(healthy(50), 0, num_classes=10, classes_captured=10, class_confident=0.7)
    edit(recs, ONSET, d_real_acc=0.99, d_fake_acc=0.99, d_loss_fake=0.05, d_loss=0.1,
         g_loss=5.0, d_fake_prob=0.01, classes_captured=1)
    last = replay(recs)[-1]
    assert last.name == "convergence_failure"
    assert any(e.startswith("also mode_collapse: classes_captured=1/10") for e in last.evidence)


# --- pixel spread ---------------------------------------------------------------------------

def test_mean_pairwise_distance_equals_the_pairs_one_by_one():
    """Against every distinct pair's distance taken separately, on images with a large
    common offset (where a Gram-matrix form loses near-duplicates' distances)."""
    x = np.random.default_rng(0).normal(size=(40, 4, 4, 1)) + 50.0
    flat = x.reshape(40, -1)
    pairs = [np.linalg.norm(flat[i] - flat[j]) for i in range(40) for j in range(i + 1, 40)]
    assert mean_pairwise_distance(x) == pytest.approx(np.mean(pairs), rel=1e-12)
    near = np.concatenate([x[:1], x[:1] + 1e-4])  # near-duplicates: the distance survives
    assert mean_pairwise_distance(near) == pytest.approx(1e-4 * 4, rel=1e-6)
    same = np.repeat(x[:1], 10, axis=0)
    assert mean_pairwise_distance(same) == pytest.approx(0.0, abs=1e-6)


def test_pixel_spread_of_real_collapsed_and_nan_samples():
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, size=(256, 8, 8, 1))
    held_out = rng.uniform(-1, 1, size=(256, 8, 8, 1))
    assert pixel_spread(held_out, real)["pixel_spread"] == pytest.approx(1.0, abs=0.02)
    blob = np.repeat(real[:1], 256, axis=0) + 0.01 * rng.normal(size=(256, 8, 8, 1))
    assert pixel_spread(blob, real)["pixel_spread"] < 0.02  # every z, one image
    three = real[rng.integers(0, 3, 256)]  # three images: spread, but far below the data's
    assert 0.3 < pixel_spread(three, real)["pixel_spread"] < 0.95
    assert pixel_spread(np.full_like(real, np.nan), real) == {"pixel_spread": 0.0}


@pytest.mark.parametrize("spread,expected", [(0.05, "mode_collapse"), (0.5, "healthy")])
def test_mode_collapse_from_a_sustained_low_pixel_spread(spread, expected):
    recs = edit(healthy(50), 0, pixel_spread=0.9, ema_pixel_spread=0.9)
    edit(recs, ONSET, pixel_spread=spread)
    v = replay(recs)
    assert v[-1].name == expected
    if expected == "mode_collapse":
        assert v[-1].evidence[0].startswith(f"pixel_spread={spread:g} <")


def test_an_ema_generator_with_no_spread_is_a_collapse():
    recs = edit(healthy(50), 0, pixel_spread=0.9, ema_pixel_spread=0.9)
    edit(recs, ONSET, ema_pixel_spread=0.03)
    v = replay(recs)
    assert v[-1].name == "mode_collapse"
    assert v[-1].evidence[0].startswith("pixel_spread=0.03 by the EMA generator")


# G's collapse read in pixels (the failure benchmark's D-dominated MNIST runs at step 400:
# D ahead, G's samples nearly one image, G's loss and D(G(z)) at levels a healthy
# dcgan_digits run also shows) or in D's features with no pixel spread to read (its digits
# run with a latent of 1, seed 3: D ahead from step 100, 67 % of its batch near-duplicates
# at step 400, pixel spread 0.19-0.31): D is winning the game and G's collapse is how it
# loses; with D short of ahead it stays a collapse, and G spread out it is no failure
COLLAPSED = {"pixel_spread": ({"pixel_spread": 0.1}, {"pixel_spread": 0.5},
                              "G offers D nearly one image", "pixel_spread=0.1"),
             "dup_frac": ({"dup_frac": 0.7}, {"dup_frac": 0.2, "real_dup_frac": 0.0},
                          "near-duplicates in D's own features", "dup_frac=0.7")}


@pytest.mark.parametrize("signal", sorted(COLLAPSED))
@pytest.mark.parametrize("acc,expected", [(0.92, "convergence_failure"), (0.8, "mode_collapse")])
def test_d_ahead_over_a_collapsed_g_is_a_convergence_failure(signal, acc, expected):
    collapsed, spread_out, because, also = COLLAPSED[signal]
    recs = edit(healthy(50), 0, pixel_spread=0.9)
    edit(recs, ONSET, **collapsed, d_real_acc=acc, d_fake_acc=acc + 0.03)
    v = replay(recs)
    assert v[-1].name == expected
    if expected == "convergence_failure":
        assert any(because in e for e in v[-1].evidence)
        assert any(e.startswith(f"also mode_collapse: {also}") for e in v[-1].evidence)
        assert v[ONSET + LAG].name == expected and v[ONSET + LAG - 1].name == "healthy"
    edit(recs, ONSET, **spread_out)
    assert replay(recs)[-1].name == "healthy"
    if signal == "dup_frac":  # as duplicated as the real batch: no collapse either
        edit(recs, ONSET, dup_frac=0.7, real_dup_frac=0.6)
        assert replay(recs)[-1].name == "healthy"
