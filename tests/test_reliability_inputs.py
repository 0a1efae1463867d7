"""Every bad input: one line naming what is wrong and what is allowed, exit status 2, no
traceback, nothing written over. A table through the real CLI entry point (in-process),
a few through the real command, and property-based tests of the config parser."""

import json
import os
import string

import numpy as np
import pytest
from _reliability import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxgan import config as config_lib
from jaxgan.cli import main
from jaxgan.config import ConfigError

TOY = ["--config", "toy_ring_vanilla", "train.progress=false"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad inputs on disk: a regular file, bad JSON, garbage PNGs, an npz with wrong keys,
    garbage Inception weights, a real statistics file for fid to get as far as weights."""
    d = tmp_path_factory.mktemp("bad")
    (d / "afile").write_text("not a directory")
    (d / "bad.json").write_text("{not json")
    (d / "list.json").write_text("[1, 2]")
    (d / "pngs").mkdir()
    for i in range(3):
        (d / "pngs" / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage " * 4)
    (d / "empty").mkdir()
    np.savez(d / "wrong_keys.npz", pictures=np.zeros((4, 8, 8, 1), np.uint8))
    np.savez(d / "stats.npz", mu=np.zeros(2048), sigma=np.eye(2048))
    np.savez(d / "images.npz", images=np.zeros((4, 8, 8, 3), np.uint8))
    (d / "weights.pth").write_bytes(b"definitely not inception weights" * 100)
    return d


# (argv, what the one line must say). `{d}` is the fixture's directory, `{wd}` a workdir.
TABLE = [
    (["train", "--config", "nope"], "unknown preset 'nope'; choose one of"),
    (["train", "--config", "{d}/missing.json"], "does not exist"),
    (["train", "--config", "{d}/bad.json"], "is not valid JSON"),
    (["train", "--config", "{d}/list.json"], "must be a JSON object"),
    (["train", "bogus.key=1"], "unknown config key 'bogus.key'; allowed:"),
    (["train", "train.stepz=1"], "unknown config key 'train.stepz'; in section 'train'"),
    (["train", "train.steps"], "must look like KEY=VALUE"),
    (["train", "=3"], "has an empty key"),
    (["train", "train=5"], "train is a section"),
    (["train", "train.steps=abc"], "train.steps must be an integer, got 'abc'"),
    (["train", "train.steps=1.5"], "train.steps must be an integer"),
    (["train", "optim.d.lr=fast"], "optim.d.lr must be a number"),
    (["train", "health.enabled=maybe"], "health.enabled must be true or false"),
    (["train", "optim.g.lr=-1e-4"], "optim.g.lr must be a positive learning rate"),
    (["train", "optim.d.lr=0"], "optim.d.lr must be a positive learning rate"),
    (["train", "train.batch_size=0"], "train.batch_size must be a positive integer"),
    (["train", "train.n_critic=0"], "train.n_critic must be a positive integer"),
    (["train", "train.steps=-5"], "train.steps must be a positive integer"),
    (["train", "optim.g.b1=1.0"], "optim.g.b1 must be in [0, 1)"),
    (["train", "data.resolution=48"], "data.resolution must be a power of two from 8 to 256"),
    (["train", "data.channels=2"], "data.channels must be 1 or 3"),
    (["train", "loss.name=wgan"], "loss.name='wgan' is not allowed; choose one of"),
    (["train", "train.on_nan=ignore"], "train.on_nan='ignore' is not allowed; choose one of"),
    (["train", "tricks.diffaugment=zoom"], "tricks.diffaugment has 'zoom'"),
    (["train", "data.source=tfds"], "data.name must name a tfds dataset"),
    (["train", *TOY, "train.steps=5", "train.steps_per_call=2"],
     "train.steps=5 must be a multiple of train.steps_per_call=2"),
    (["train", "data.source=folder", "data.path={d}/nowhere"], "{d}/nowhere"),
    (["train", "data.source=folder", "data.path={d}/empty"], "{d}/empty"),
    (["train", "data.source=folder", "data.path={d}/pngs"], "{d}/pngs"),
    (["train", "data.source=npz", "data.path={d}/wrong_keys.npz"], "wrong_keys.npz"),
    (["train", "data.source=npz", "data.path={d}/missing.npz"], "missing.npz"),
    (["train", "--workdir", "{d}/afile/sub", *TOY], "cannot be created"),
    (["sample", "{d}/nowhere"], "holds no config.json"),
    (["sample", "{d}", "--out", "x.gif"], "--out must end in .png"),
    (["fid", "{d}/images.npz", "{d}/stats.npz", "--weights", "{d}/missing.pth"],
     "missing.pth"),
    (["fid", "{d}/images.npz", "{d}/stats.npz", "--weights", "{d}/weights.pth"],
     "{d}/weights.pth: cannot read as a PyTorch state dict"),
    (["fid", "{d}/nowhere", "{d}/images.npz"], "{d}/nowhere: not found or not supported"),
    (["fid", "{d}/images.npz", "{d}/empty"], "{d}/empty: no images found"),
    (["fid", "{d}/images.npz", "{d}/stats.npz"], "FID Inception weights not found"),
    (["train", "--bogus-flag"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv,message", TABLE, ids=[" ".join(a)[:60] for a, _ in TABLE])
def test_bad_input_one_line_exit_2(argv, message, files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake would land here
    wd = tmp_path / "wd"
    argv = [a.format(d=files, wd=wd) for a in argv]
    if argv[0] == "train" and "--workdir" not in argv and "--bogus-flag" not in argv:
        argv[1:1] = ["--workdir", str(wd)]
    before = sorted(p.name for p in files.iterdir())
    code = main(argv)
    out, err = capsys.readouterr()
    err = err.strip()
    assert code == 2, (code, err)
    assert len(err.splitlines()) == 1, err
    assert err.startswith("jaxgan: ") and "Traceback" not in err
    assert message.format(d=files) in err, err
    assert not wd.exists() and not (tmp_path / "runs").exists()  # nothing written
    assert sorted(p.name for p in files.iterdir()) == before


def test_a_different_runs_workdir_is_refused_and_config_json_kept(tmp_path, capsys):
    wd = tmp_path / "wd"
    wd.mkdir()
    cfg = config_lib.resolve("toy_ring_vanilla", ["train.progress=false", "seed=1"])
    (wd / "config.json").write_text(cfg.to_json())
    original = (wd / "config.json").read_bytes()
    code = main(["train", "--workdir", str(wd), *TOY, "seed=2", "optim.d.lr=1e-2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"workdir {wd} holds a different run (optim.d.lr: 0.001 -> 0.01 and 1 more)" in err
    assert "pass --force" in err
    assert (wd / "config.json").read_bytes() == original
    assert sorted(p.name for p in wd.iterdir()) == ["config.json"]


def test_real_command_batch_not_divisible_by_devices_and_bad_workdir(tmp_path):
    """Through the installed command, with 3 host devices."""
    (tmp_path / "afile").write_text("x")
    r = run("train", "--workdir", str(tmp_path / "wd"), *TOY, "train.batch_size=16",
            devices=3)
    assert r.returncode == 2
    assert r.stderr.strip() == ("jaxgan: train.batch_size=16 must be divisible by the device "
                                "count 3 (the batch is split over devices)")
    assert not (tmp_path / "wd").exists()
    r = run("train", "--workdir", str(tmp_path / "afile" / "sub"), *TOY)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot be created" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "afile").read_text() == "x"


# ---- property-based tests of the parser and overrides ----------------------------------

_INT_KEYS = ["train.steps", "train.batch_size", "train.n_critic", "model.latent_dim",
             "train.log_every", "seed"]
_FLOAT_KEYS = ["optim.g.lr", "optim.d.lr", "tricks.r1_gamma", "train.ema_decay"]
_text = st.text(alphabet=string.ascii_letters + string.digits + "._-=, ", max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_INT_KEYS + _FLOAT_KEYS), _text), max_size=4))
def test_any_override_strings_give_a_config_or_one_line_config_error(pairs):
    overrides = [f"{k}={v}" for k, v in pairs]
    try:
        cfg = config_lib.resolve("toy_ring_vanilla", overrides)
    except ConfigError as e:
        msg = str(e)
        assert msg and "\n" not in msg
        assert any(k in msg for k, _ in pairs) or "KEY=VALUE" in msg
        return
    for k, _ in pairs:  # the last override of a key wins, with the declared type
        last = [vv for kk, vv in pairs if kk == k][-1]
        section, _, name = k.rpartition(".")
        obj = cfg
        for part in section.split(".") if section else []:
            obj = getattr(obj, part)
        got = getattr(obj, name)
        assert type(got) is (int if k in _INT_KEYS else float)
        assert got == pytest.approx(float(last.strip()))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 64), st.floats(1e-7, 1.0),
       st.booleans(), st.sampled_from(["stop", "rollback"]))
def test_resolved_configs_round_trip_through_config_json(steps, batch, lr, ema, on_nan):
    cfg = config_lib.resolve("toy_ring_vanilla", [f"train.steps={steps}",
                                                  f"train.batch_size={batch}",
                                          f"optim.d.lr={lr!r}", f"health.enabled={ema}",
                                          f"train.on_nan={on_nan}"])
    again = config_lib.from_dict(json.loads(cfg.to_json()))
    assert again.to_dict() == cfg.to_dict()
    assert again.train.steps == steps and again.optim.d.lr == lr
    assert config_lib.apply_overrides(again, []).to_dict() == cfg.to_dict()


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase + "._", min_size=1, max_size=24))
def test_unknown_keys_are_named(key):
    flat = set()

    def walk(d, prefix=""):
        for k, v in d.items():
            flat.add(prefix + k)
            if isinstance(v, dict):
                walk(v, prefix + k + ".")

    walk(config_lib.Config().to_dict())
    if key in flat or not key.strip("."):
        return
    with pytest.raises(ConfigError) as e:
        config_lib.apply_overrides(config_lib.Config(), [f"{key}=1"])
    assert "\n" not in str(e.value)
    assert "unknown config key" in str(e.value) or "is not a section" in str(e.value) or \
        "is a section" in str(e.value) or "must be" in str(e.value)


def test_env_var_distributed_settings_are_read(monkeypatch):
    """JAXGAN_* variables are what a launcher sets; without a coordinator nothing starts."""
    from jaxgan import parallel

    monkeypatch.delenv("JAXGAN_COORDINATOR", raising=False)
    monkeypatch.setenv("JAXGAN_NUM_PROCESSES", "2")
    monkeypatch.setenv("JAXGAN_PROCESS_ID", "1")
    assert parallel.maybe_initialize_distributed() is False
    assert os.environ["JAXGAN_PROCESS_ID"] == "1"
