"""What a run writes for people to read: metrics.jsonl's progress keys and TensorBoard's
grouped scalars, config, images and eval records, read back with TensorFlow's own event
reader (tensorboardX, which writes them, has none)."""

import json
import time

import numpy as np
import pytest
from _reliability import TOY, run

from jaxgan.writers import read_jsonl, tb_tag

GROUPS = {"loss", "d", "g", "health", "train", "eval"}


def events(workdir):
    """Every summary value of a run's event files: [(step, value proto)], file order."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tensorflow.python.summary.summary_iterator import summary_iterator

    out = []
    for path in sorted((workdir / "tensorboard").glob("events.out.tfevents*")):
        for event in summary_iterator(str(path)):
            out.extend((event.step, v) for v in event.summary.value)
    return out


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A toy run (2 critic steps per iteration) stopped at step 6 and resumed to 8, with
    evaluations at 3 and 6 while training and `jaxgan eval` at the end."""
    wd = tmp_path_factory.mktemp("tb") / "run"
    args = ["train", "--workdir", str(wd), *TOY, "train.n_critic=2", "train.log_every=2",
            "train.checkpoint_every=2", "train.sample_every=6", "eval.every=3",
            "eval.num_samples=200"]
    t0 = time.monotonic()
    first = run(*args, "train.steps=6")
    t1 = time.monotonic()
    assert first.returncode == 0, first.stderr[-2000:]
    second = run(*args, "train.steps=8")
    t2 = time.monotonic()
    assert second.returncode == 0, second.stderr[-2000:]
    ev = run("eval", str(wd), "--json", "eval.num_samples=200")
    assert ev.returncode == 0, ev.stderr[-2000:]
    return wd, (t1 - t0, t2 - t1), json.loads(ev.stdout)


def test_records_carry_wall_time_across_resumes_and_images_seen(toy_run):
    wd, (took1, took2), _ = toy_run
    recs = [r for r in read_jsonl(wd / "metrics.jsonl") if r.get("kind") != "eval"]
    assert [r["step"] for r in recs] == [2, 4, 6, 8]
    # D's real images: batch 16, two critic rounds per iteration
    assert [r["images_seen"] for r in recs] == [2 * 16 * 2, 4 * 32, 6 * 32, 8 * 32]
    times = [r["wall_time"] for r in recs]
    assert all(a < b for a, b in zip(times, times[1:], strict=False)), times
    assert 0 < times[2] <= took1  # the first process's time since it started
    # the resumed process continues from step 6's time and adds its own (setup included)
    assert times[2] < times[3] <= took1 + took2


def test_tensorboard_scalars_are_grouped_and_equal_metrics_jsonl(toy_run):
    wd, _, ev_cli = toy_run
    got: dict[tuple[str, int], float] = {}
    for step, v in events(wd):
        if v.WhichOneof("value") == "simple_value":
            assert (v.tag, step) not in got, v.tag  # each value written once
            got[(v.tag, step)] = v.simple_value
    want: dict[tuple[str, int], float] = {}
    for rec in read_jsonl(wd / "metrics.jsonl"):
        for k, x in rec.items():
            if x in ("inf", "-inf", "nan"):  # JSON has no Inf/NaN: metrics.jsonl says so
                x = float(x)
            if k != "step" and isinstance(x, int | float):
                want[(tb_tag(k, rec.get("kind")), rec["step"])] = x
    assert set(got) == set(want)
    for key, x in want.items():
        assert got[key] == pytest.approx(x, rel=1e-6, abs=1e-30, nan_ok=True), key  # float32
    tags = {t for t, _ in got}
    assert {t.split("/", 1)[0] for t in tags} == GROUPS
    for tag in ("loss/d_loss", "loss/g_loss", "loss/d_loss_real", "d/d_real_acc",
                "d/d_fake_acc", "d/d_grad_norm", "g/g_grad_norm", "g/g_update_ratio",
                "health/diversity_ratio", "health/nonfinite", "health/near_mode_frac",
                "train/wall_time", "train/images_seen", "train/steps_per_s",
                "eval/modes_captured", "eval/reverse_kl"):
        assert tag in tags, tag
    # `jaxgan eval`'s record reached TensorBoard too, at its step
    assert got[("eval/reverse_kl", 8)] == pytest.approx(ev_cli["reverse_kl"], rel=1e-6)
    assert sorted(s for t, s in got if t == "eval/modes_captured") == [3, 6, 8]
    verdicts = [s for s, v in events(wd) if v.tag.startswith("health/verdict")]
    assert verdicts == [2, 4, 6, 8]


def test_tensorboard_has_the_config_as_hparams_and_text_and_the_scatter_images(toy_run):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    wd, _, _ = toy_run
    config = json.loads((wd / "config.json").read_text())
    flat = {}

    def walk(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                flat[prefix + k] = ",".join(map(str, v)) if isinstance(v, list) else v
    walk(config)
    starts = [v for _, v in events(wd) if v.tag == "_hparams_/session_start_info"]
    assert len(starts) == 2  # one per process that trained (start and resume)
    data = HParamsPluginData.FromString(starts[-1].metadata.plugin_data.content)
    hp = {}
    for k, v in data.session_start_info.hparams.items():
        kind = v.WhichOneof("kind")
        hp[k] = getattr(v, kind)
    assert hp.keys() == flat.keys()
    for k, v in flat.items():
        assert hp[k] == (float(v) if not isinstance(v, bool | str) else v), k
    assert hp["train.steps"] == 8.0 and hp["data.source"] == "toy_ring"
    text = [v for _, v in events(wd) if v.tag.startswith("config")]
    assert text and json.loads(text[-1].tensor.string_val[0].decode()) == config

    images = [(s, v.image) for s, v in events(wd) if v.tag == "samples"]
    assert [s for s, _ in images] == [6, 8]  # sample_every=6 and the end
    from io import BytesIO

    from PIL import Image

    png = Image.open(BytesIO(images[0][1].encoded_image_string))
    assert png.size == (images[0][1].width, images[0][1].height) and png.size[0] > 100
    assert np.asarray(png).std() > 0  # a plot, not a blank


def test_images_seen_counts_every_critic_batch_of_every_stage():
    """With a Progressive GAN's per-stage batches the count is the sum of the batches D
    read, not step * batch_size."""
    from jaxgan import config as config_lib
    from jaxgan.run import host_batch_plan, images_seen

    cfg = config_lib.resolve("progan_celeba", ["model.progan.stage_steps=3",
                                               "model.progan.batch_sizes=16,8,4",
                                               "train.n_critic=2", "data.resolution=16",
                                               "train.batch_size=16"])
    plan = host_batch_plan(cfg)
    for step in range(0, 25):
        assert images_seen(cfg, step) == sum(plan(k)[1] for k in range(2 * step)), step
    assert images_seen(cfg, 3) == 3 * 2 * 16 and images_seen(cfg, 4) == 96 + 2 * 8
    plain = config_lib.resolve("toy_ring_vanilla", ["train.n_critic=5"])
    assert images_seen(plain, 7) == 7 * 5 * plain.train.batch_size


def test_tensorboards_own_reader_sees_the_scalars_and_images(toy_run):
    """`tensorboard --logdir` reads the run with TensorBoard's EventAccumulator: the same
    scalars as metrics.jsonl, at the same steps, and the sample images."""
    from io import BytesIO

    from PIL import Image
    from tensorboard.backend.event_processing import event_accumulator as ea

    wd, _, _ = toy_run
    acc = ea.EventAccumulator(str(wd / "tensorboard"),
                              size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    got = {(tag, e.step): e.value for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)}
    want = {}
    for rec in read_jsonl(wd / "metrics.jsonl"):
        for k, x in rec.items():
            if x in ("inf", "-inf", "nan"):
                x = float(x)
            if k != "step" and isinstance(x, int | float):
                want[(tb_tag(k, rec.get("kind")), rec["step"])] = x
    assert set(got) == set(want)
    for key, x in want.items():
        assert got[key] == pytest.approx(x, rel=1e-6, abs=1e-30, nan_ok=True), key
    assert [e.step for e in acc.Scalars("loss/d_loss")] == [2, 4, 6, 8]
    images = acc.Images("samples")
    assert [e.step for e in images] == [6, 8]
    png = Image.open(BytesIO(images[-1].encoded_image_string))
    assert png.size == (images[-1].width, images[-1].height) and np.asarray(png).std() > 0


def test_the_tensorboard_viewer_is_installed():
    """The README's `tensorboard --logdir runs` has its command (a dependency)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("tensorboard") or str(Path(sys.executable).parent / "tensorboard")
    r = subprocess.run([exe, "--version_tb"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip()[0].isdigit(), r.stderr[-1000:]
