"""The real `jaxgan` command end to end, and its one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jaxgan.cli import main

TINY = ["data.resolution=8", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
        "train.batch_size=8", "train.num_samples=16"]


def jaxgan(*args, cwd=None):
    exe = os.path.join(os.path.dirname(sys.executable), "jaxgan")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=900,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})


def test_train_then_sample_end_to_end(tmp_path):
    wd = tmp_path / "run"
    r = jaxgan("train", "--workdir", str(wd), "train.steps=4", "train.log_every=2",
               "train.sample_every=2", "train.checkpoint_every=2", *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    records = [json.loads(line) for line in (wd / "metrics.jsonl").read_text().splitlines()]
    assert [rec["step"] for rec in records] == [2, 4]
    for key in ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_grad_norm",
                "d_grad_norm", "steps_per_s"):
        assert all(np.isfinite(rec[key]) for rec in records), key
    assert 0.0 <= records[-1]["d_real_acc"] <= 1.0
    grid = Image.open(wd / "samples" / "step_0000004.png")
    assert grid.size[0] >= 256 and grid.mode == "L"
    assert (wd / "samples" / "latest.png").read_bytes() == \
        (wd / "samples" / "step_0000004.png").read_bytes()
    assert any(p.name.startswith("events.out.tfevents") for p in (wd / "tensorboard").iterdir())
    assert sorted(p.name for p in (wd / "checkpoints").iterdir() if p.name.isdigit()) == \
        ["2", "4"]
    assert json.loads((wd / "config.json").read_text())["train"]["steps"] == 4

    r = jaxgan("sample", str(wd), "--num", "10", "--out", str(tmp_path / "s.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    samples = np.load(tmp_path / "s.npz")["samples"]
    assert samples.shape == (10, 8, 8, 1) and samples.dtype == np.float32
    # 4 steps of an 8-width generator: small but not constant outputs
    assert samples.min() >= -1.0 and samples.max() <= 1.0 and samples.std() > 1e-4
    r = jaxgan("sample", str(wd), "--num", "9", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0 and Image.open(tmp_path / "s.png").size[0] > 0

    # a checkpoint can be read without jaxgan, with plain orbax
    import orbax.checkpoint as ocp

    raw = ocp.PyTreeCheckpointer().restore(str(wd / "checkpoints" / "4" / "default"))
    assert int(raw["step"]) == 4 and "g_params" in raw


@pytest.mark.parametrize("args,message", [
    (["train", "--config", "nope"], "unknown preset 'nope'"),
    (["train", "train.steps=abc"], "train.steps must be an integer"),
    (["train", "data.resolution=48"], "data.resolution must be a power of two"),
    (["train", "bogus.key=1"], "unknown config key 'bogus.key'"),
    (["train", "--bogus-flag"], "unrecognized arguments"),
    (["sample", "/nonexistent/run"], "holds no config.json"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_real_command_bad_preset_no_traceback():
    r = jaxgan("train", "--config", "nope")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("jaxgan: unknown preset")
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("argv,flag,overrides", [
    (["train", "a.b=1", "--force", "c.d=2"], ("force", True), ["a.b=1", "c.d=2"]),
    (["bench", "a.b=1", "--json", "c.d=2"], ("json", True), ["a.b=1", "c.d=2"]),
    (["sweep", "--config", "toy_ring_vanilla", "a.b=1,2", "--seeds", "3", "c.d=2"], ("seeds", 3),
     ["a.b=1,2", "c.d=2"]),
    (["eval", "RUN", "k=1", "--json", "j=2"], ("json", True), ["k=1", "j=2"]),
])
def test_options_and_overrides_in_any_order(argv, flag, overrides):
    """What users type: options between KEY=VALUEs must not cut the overrides short."""
    from jaxgan.cli import build_parser

    args = build_parser().parse_args(argv)
    assert getattr(args, flag[0]) == flag[1]
    assert args.overrides == overrides


# ---- issue 14: start and resume say what they do; version, config, presets ----------


def _said(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("jaxgan:")]


def test_start_resume_and_finished_runs_say_so(tmp_path):
    """One line each on stderr: the preset, devices and global batch; where a resume picks
    up; "compiling" before the first call; a finished run says so instead of a summary."""
    from _reliability import run

    wd = str(tmp_path / "run")
    args = ["train", "--workdir", wd, "train.log_every=2", "train.sample_every=2",
            "train.checkpoint_every=2", "train.progress=false", *TINY]
    r = run(*args, "train.steps=2", devices=2)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _said(r.stderr) == ["jaxgan: dcgan_digits on 2 cpu devices, global batch 8 (4 per "
                               "device)", "jaxgan: compiling the step..."]
    assert r.stdout.splitlines()[0].startswith(f"jaxgan: step 2 in {wd}: d_loss=")

    r = run(*args, "train.steps=4")
    assert r.returncode == 0, r.stderr[-2000:]
    assert _said(r.stderr) == ["jaxgan: dcgan_digits on 1 cpu device, global batch 8",
                               "jaxgan: resumed from step 2", "jaxgan: compiling the step..."]
    assert r.stdout.splitlines()[0].startswith(f"jaxgan: step 4 in {wd}: d_loss=")

    r = run(*args, "train.steps=4")
    assert r.returncode == 0, r.stderr[-2000:]
    assert _said(r.stderr) == [f"jaxgan: {wd} already finished at step 4; nothing to do "
                               "(raise train.steps to continue)"]
    assert "step 0" not in r.stdout and "jaxgan: step" not in r.stdout
    assert [json.loads(ln)["step"] for ln in open(os.path.join(wd, "metrics.jsonl"))] == [2, 4]


def test_version_and_config_verb():
    r = jaxgan("--version")
    assert r.returncode == 0 and r.stdout == "jaxgan 0.1.0\n"

    from jaxgan import config as config_lib
    from jaxgan.schema import describe_keys

    r = jaxgan("config", "toy_ring_vanilla", "train.steps=7", "--config.seed=3",
               "--config.optim.d.lr", "5e-4")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    want = config_lib.resolve("toy_ring_vanilla", ["train.steps=7", "seed=3", "optim.d.lr=5e-4"])
    assert got == want.to_dict() and got["train"]["steps"] == 7 and got["seed"] == 3
    assert json.loads(jaxgan("config").stdout) == config_lib.resolve(None).to_dict()

    r = jaxgan("config", "--config", "toy_ring_vanilla", "--keys")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    keys = describe_keys()
    assert len(lines) == 1 + len(keys) and lines[0].split()[:3] == ["KEY", "TYPE", "DEFAULT"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines[1:]}
    assert list(rows) == [k for k, _, _ in keys]
    assert rows["train.steps"] == ["int", "2000", "3000"]  # default, then toy_ring's
    assert rows["train.keep_every"] == ["int", "0"]  # toy_ring keeps the default
    assert rows["optim.d.lr"] == ["float", "0.0002", "0.001"]
    assert rows["eval.metrics"] == ["list[str]", "[]"]
    assert rows["health.enabled"] == ["bool", "true"]

    r = jaxgan("config", "train.stepz=1")
    assert r.returncode == 2 and "unknown config key 'train.stepz'" in r.stderr


@pytest.mark.parametrize("verb", [["train"], ["bench"], ["eval", "RUN"],
                                  ["sweep", "--config", "toy_ring_vanilla"], ["config"]])
def test_config_flag_alias_in_every_verb(verb):
    """`--config.KEY=VALUE` and `--config.KEY VALUE` (ml_collections flags, as big_vision
    and the Flax examples take them) are KEY=VALUE overrides."""
    from jaxgan.cli import build_parser

    args = build_parser().parse_args([*verb, "--config.train.steps=5", "a.b=1",
                                      "--config.optim.g.lr", "1e-3"])
    assert args.overrides == ["train.steps=5", "a.b=1", "optim.g.lr=1e-3"]
    if verb[0] in ("train", "bench", "sweep"):
        assert args.config == (verb[2] if len(verb) > 2 else None)


def test_config_flag_alias_without_value_is_one_line(capsys):
    assert main(["train", "--config.train.steps"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("jaxgan: --config.train.steps needs a value: --config.train.steps=VALUE "
                   "or --config.train.steps VALUE (see `jaxgan train --help`)")


def test_presets_prints_each_first_paragraph_whole(capsys):
    import importlib

    from jaxgan.config import list_presets

    assert main(["presets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(list_presets())
    for name, line in zip(list_presets(), out, strict=True):
        doc = importlib.import_module(f"jaxgan.configs.{name}").__doc__
        para = " ".join(ln.strip() for ln in doc.strip().split("\n\n")[0].splitlines())
        assert line.split(None, 1) == [name, para]
    cgan = out[list_presets().index("cgan_mnist")]
    assert cgan.endswith("(Miyato & Koyama 2018) with the hinge loss.")  # was cut at line 1
