"""`jaxgan eval` and the dataset classifier: real numbers on the embedded digits and toys."""

import json

import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan.classifier import classifier_metrics, load_classifier, train_classifier
from jaxgan.cli import main
from jaxgan.data import make_source
from jaxgan.evaluate import evaluate
from jaxgan.trainer import train


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    cfg = config_lib.resolve("dcgan_digits")
    path = tmp_path_factory.mktemp("clf") / "digits.msgpack"
    clf = train_classifier(cfg, path, steps=300)
    return cfg, clf


def test_classifier_learns_digits_and_reloads(digits_classifier):
    cfg, clf = digits_classifier
    assert clf.test_accuracy > 0.9, clf.test_accuracy
    again = load_classifier(clf.path)
    src = make_source(cfg.data, cfg.seed)
    x = src.batch(0, 64)["image"]
    np.testing.assert_allclose(again.apply(x)[1], clf.apply(x)[1], atol=1e-6)


def test_classifier_metrics_separate_real_from_bad_samples(digits_classifier):
    cfg, clf = digits_classifier
    src = make_source(cfg.data, cfg.seed)
    a = src.batch(0, 800)["image"]
    b = src.batch(1, 800)["image"]
    real_vs_real = classifier_metrics(clf, a, b)
    ones = src.images[src.labels == 1].astype(np.float32) / 127.5 - 1.0
    collapsed = classifier_metrics(clf, a, np.repeat(ones, 5, axis=0)[:800])
    noise = classifier_metrics(clf, a, np.random.default_rng(0).uniform(-1, 1, a.shape)
                               .astype(np.float32))
    assert real_vs_real["class_coverage"] == 1.0
    assert real_vs_real["classifier_score"] > 7.0  # ceiling 10 (classes)
    assert collapsed["class_coverage"] <= 0.2 and collapsed["classifier_score"] < 2.0
    assert collapsed["class_kl_uniform"] > 1.5  # ~log 10 for one class
    assert real_vs_real["classifier_fd"] < 0.2 * min(collapsed["classifier_fd"],
                                                     noise["classifier_fd"])


def test_eval_on_a_toy_run_appends_mode_coverage(tmp_path, capsys):
    cfg = config_lib.resolve("toy_ring_vanilla", ["train.steps=100", "train.progress=false",
                                          "train.log_every=50", "eval.num_samples=500"])
    train(cfg, tmp_path)
    assert main(["eval", str(tmp_path), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["step"] == 100 and rec["num_modes"] == 8 and rec["kind"] == "eval"
    assert 0 <= rec["modes_captured"] <= 8 and 0.0 <= rec["high_quality_frac"] <= 1.0
    last = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert last == rec
    direct = evaluate(tmp_path, write=False)
    assert direct["modes_captured"] == rec["modes_captured"]  # same samples, same numbers


def test_eval_rejects_unknown_metric_in_one_line(tmp_path, capsys):
    cfg = config_lib.resolve("toy_ring_vanilla", ["train.steps=50", "train.progress=false",
                                          "train.log_every=50"])
    train(cfg, tmp_path)
    capsys.readouterr()  # the trainer's own lines
    assert main(["eval", str(tmp_path), "eval.metrics=bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown ['bogus']" in err and len(err.splitlines()) == 1


def test_eval_inception_metrics_with_and_without_progress(tmp_path, capsys, monkeypatch):
    """`jaxgan eval` with Inception metrics: --no-progress (and any non-terminal stderr)
    leaves stdout one JSON line and stderr empty; on a terminal the bar goes to stderr
    only, and the numbers do not change."""
    import io
    import sys

    from jaxgan.metrics import weights as W
    from jaxgan.metrics.torch_pickle import save_state_dict

    weights = tmp_path / "random.pth"
    save_state_dict(W.random_state_dict(seed=0), weights)
    monkeypatch.setenv(W.ENV_WEIGHTS, str(weights))
    monkeypatch.setenv(W.ENV_CACHE, str(tmp_path / "cache"))
    wd = tmp_path / "run"
    cfg = config_lib.resolve("dcgan_digits", [
        "train.steps=2", "train.batch_size=8", "model.g_width=8", "model.d_width=8",
        "train.progress=false", "train.log_every=1", "train.checkpoint_every=2"])
    train(cfg, wd)
    capsys.readouterr()
    args = ["eval", str(wd), "--json", "eval.metrics=is,kid", "eval.num_samples=10"]
    assert main([*args[:3], "--no-progress", *args[3:]]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    (line,) = out.strip().splitlines()
    quiet = json.loads(line)
    assert quiet["step"] == 2 and quiet["eval_samples"] == 10
    # one image per split of the 10: each split's score is exp(KL(p || p)) = 1
    assert quiet["is"] == pytest.approx(1.0, abs=1e-9) and np.isfinite(quiet["kid"])

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert main([*args, "train.progress=true"]) == 0
    out = capsys.readouterr().out
    (line,) = out.strip().splitlines()
    assert json.loads(line) == quiet  # same samples, same numbers
    assert "Inception: samples" in screen.getvalue() and "Inception" not in out
    logged = [json.loads(r) for r in (wd / "metrics.jsonl").read_text().splitlines()]
    assert [r for r in logged if r.get("kind") == "eval"] == [quiet, quiet]


@pytest.fixture
def unlabelled_run(tmp_path):
    """A 2-step run on an .npz of images without labels: FID is the only default metric."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "faces.npz", images=rng.integers(0, 256, (32, 8, 8, 1), np.uint8))
    wd = tmp_path / "run"
    cfg = config_lib.resolve("dcgan_digits", [
        "data.source=npz", f"data.path={tmp_path / 'faces.npz'}", "data.resolution=8",
        "train.steps=2", "train.batch_size=8", "model.g_width=8", "model.d_width=8",
        "model.latent_dim=8", "train.progress=false", "train.log_every=1",
        "train.checkpoint_every=2", "train.sample_every=2", "train.num_samples=16"])
    train(cfg, wd)
    return wd


def test_eval_says_when_fid_is_skipped_and_how_to_supply_the_weights(
        unlabelled_run, tmp_path, capsys, monkeypatch):
    import sys

    from jaxgan.metrics import weights as W

    # the module (`jaxgan.evaluate` is the function): forget that it already said so
    monkeypatch.setattr(sys.modules["jaxgan.evaluate"], "_SKIP_SAID", set())
    monkeypatch.setattr(W, "_download", lambda dest: False)  # as on a machine offline
    monkeypatch.setenv(W.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(W.ENV_WEIGHTS, raising=False)
    capsys.readouterr()
    assert main(["eval", str(unlabelled_run), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"jaxgan: FID skipped (no {W.OFFICIAL_NAME} found); to compute FID, KID and IS put "
        f"{W.OFFICIAL_NAME} in {tmp_path / 'cache'}/ or set $JAXGAN_INCEPTION_WEIGHTS=FILE"]
    assert json.loads(out) == {"step": 2, "kind": "eval", "eval_samples": 1000}

    monkeypatch.setenv(W.ENV_WEIGHTS, str(tmp_path / "missing.pth"))  # a wrong path: named
    assert main(["eval", str(unlabelled_run), "--json"]) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"jaxgan: FID skipped ({tmp_path / 'missing.pth'}: Inception "
                           "weights file not found (given by $JAXGAN_INCEPTION_WEIGHTS)")


def test_eval_record_names_the_fid_method(unlabelled_run, tmp_path, capsys, monkeypatch):
    from jaxgan.metrics import weights as W
    from jaxgan.metrics.torch_pickle import save_state_dict

    weights = tmp_path / "random.pth"
    save_state_dict(W.random_state_dict(seed=0), weights)
    monkeypatch.setenv(W.ENV_WEIGHTS, str(weights))
    monkeypatch.setenv(W.ENV_CACHE, str(tmp_path / "cache"))
    capsys.readouterr()
    assert main(["eval", str(unlabelled_run), "--json", "--no-progress",
                 "eval.num_samples=10"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rec = json.loads(out)
    assert rec["fid_method"] == "eigh" and np.isfinite(rec["fid"]) and rec["fid"] > 0
    logged = [json.loads(ln) for ln in (unlabelled_run / "metrics.jsonl").read_text()
              .splitlines()]
    assert logged[-1] == rec
