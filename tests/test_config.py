"""Config parsing: presets, dotted overrides, types, validation (and property-based tests)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import config as config_lib
from jaxgan.config import ConfigError, apply_overrides, from_dict, load_preset, resolve


def test_every_preset_loads_and_validates():
    names = config_lib.list_presets()
    assert {"dcgan_digits", "dcgan_mnist", "dcgan_cifar10", "toy_ring", "toy_grid"} <= set(names)
    for name in names:
        cfg = resolve(name)
        assert cfg.name == name
        assert load_preset(name).__class__ is config_lib.Config


def test_overrides_are_typed_and_dotted():
    cfg = resolve(None, ["train.steps=2000", "train.batch_size=64", "optim.d.lr=4e-4",
                         "seed=3", "health.enabled=false", "eval.metrics=fid,kid"])
    assert cfg.train.steps == 2000 and isinstance(cfg.train.steps, int)
    assert cfg.optim.d.lr == pytest.approx(4e-4) and cfg.optim.g.lr == pytest.approx(2e-4)
    assert cfg.seed == 3 and cfg.health.enabled is False
    assert cfg.eval.metrics == ["fid", "kid"]
    assert resolve(None, ["train.steps=1e3"]).train.steps == 1000


BAD = [
    (["nope.key=1"], "unknown config key 'nope.key'"),
    (["train.stepz=1"], "unknown config key 'train.stepz'"),
    (["train.steps=abc"], "train.steps must be an integer"),
    (["train.steps=1.5"], "train.steps must be an integer"),
    (["optim.d.lr=fast"], "optim.d.lr must be a number"),
    (["optim.d.lr=-1"], "optim.d.lr must be a positive learning rate"),
    (["train.batch_size=0"], "train.batch_size must be a positive integer"),
    (["train.n_critic=0"], "train.n_critic must be a positive integer"),
    (["data.resolution=48"], "data.resolution must be a power of two"),
    (["data.resolution=4"], "data.resolution must be a power of two"),
    (["data.channels=2"], "data.channels must be 1 or 3"),
    (["loss.name=wgan"], "loss.name='wgan' is not allowed"),
    (["data.source=hub"], "data.source='hub' is not allowed"),
    (["health.enabled=maybe"], "health.enabled must be true or false"),
    (["train=5"], "train is a section"),
    (["train.steps"], "must look like KEY=VALUE"),
    (["optim.g.b1=1.0"], "optim.g.b1 must be in [0, 1)"),
    (["data.source=npz"], "data.path must point to the npz"),
]


@pytest.mark.parametrize("overrides,message", BAD)
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ConfigError) as e:
        resolve(None, overrides)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_batch_not_divisible_by_devices():
    with pytest.raises(ConfigError, match="divisible by the device count 3"):
        resolve(None, ["train.batch_size=64"], device_count=3)


def test_unknown_preset_lists_choices():
    with pytest.raises(ConfigError, match="dcgan_digits"):
        resolve("dcgan_imaginary")


def test_json_and_python_config_files(tmp_path):
    cfg = resolve("toy_ring_vanilla", ["seed=9"])
    (tmp_path / "c.json").write_text(cfg.to_json())
    assert resolve(str(tmp_path / "c.json")).to_dict() == cfg.to_dict()
    (tmp_path / "mine.py").write_text(
        "from jaxgan.config import Config\n"
        "def get_config():\n    c = Config(name='mine')\n    c.train.steps = 7\n    return c\n")
    assert resolve(str(tmp_path / "mine.py")).train.steps == 7
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        resolve(str(tmp_path / "bad.json"))


@settings(max_examples=60, deadline=None)
@given(steps=st.integers(1, 10**9), lr=st.floats(1e-8, 10.0, allow_nan=False),
       seed=st.integers(0, 2**31 - 1), bs=st.sampled_from([8, 16, 64, 256]))
def test_overrides_round_trip(steps, lr, seed, bs):
    cfg = resolve(None, [f"train.steps={steps}", f"optim.g.lr={lr!r}", f"seed={seed}",
                         f"train.batch_size={bs}"])
    assert (cfg.train.steps, cfg.optim.g.lr, cfg.seed, cfg.train.batch_size) == \
        (steps, lr, seed, bs)
    again = from_dict(json.loads(cfg.to_json()))
    assert again.to_dict() == cfg.to_dict()


@settings(max_examples=60, deadline=None)
@given(key=st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="="),
                   min_size=1, max_size=20), value=st.text(max_size=10))
def test_arbitrary_overrides_never_crash(key, value):
    try:
        apply_overrides(config_lib.Config(), [f"{key}={value}"])
    except ConfigError as e:
        assert "\n" not in str(e)


def test_auto_layer_programs_resolve_by_backend(monkeypatch):
    """model.upsample/downsample=auto: the CPU-tuned programs on CPU, XLA's own convolutions
    on GPU/TPU; resolved when the config is, so config.json names the program."""
    import jax

    assert (config_lib.Config().model.upsample, config_lib.Config().model.downsample) == \
        ("auto", "auto")
    assert config_lib.load_preset("dcgan_digits").model.upsample == "auto"
    for backend, want in (("cpu", ("fast", "s2d")), ("gpu", ("transpose", "conv")),
                          ("tpu", ("transpose", "conv"))):
        monkeypatch.setattr(jax, "default_backend", lambda b=backend: b)
        cfg = resolve("dcgan_digits")
        assert (cfg.model.upsample, cfg.model.downsample) == want, backend
        saved = json.loads(cfg.to_json())["model"]
        assert (saved["upsample"], saved["downsample"]) == want
        kept = resolve("dcgan_digits", ["model.upsample=col2im", "model.downsample=s2d"])
        assert (kept.model.upsample, kept.model.downsample) == ("col2im", "s2d")
    assert config_lib.resolve_auto(load_preset("dcgan_digits"), "cpu").model.upsample == "fast"
    with pytest.raises(ConfigError, match="model.upsample"):
        resolve("dcgan_digits", ["model.upsample=fastest"])


def test_auto_is_written_concrete_and_old_fast_runs_resume_elsewhere(tmp_path, monkeypatch):
    """A Config built by hand with `auto` trains and its config.json says what ran (on this
    CPU: fast/s2d, the old defaults); that run then resumes where `auto` means XLA's own
    convolutions (a GPU, simulated), with the same parameters."""
    import jax
    import numpy as np

    import jaxgan

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", images=rng.integers(0, 255, (32, 8, 8, 1), dtype=np.uint8))
    ovr = ["data.source=npz", f"data.path={tmp_path / 'd.npz'}", "data.resolution=8",
           "model.g_width=8", "model.d_width=8", "model.latent_dim=8", "train.batch_size=8",
           "train.num_samples=4", "train.progress=false", "train.log_every=2",
           "train.checkpoint_every=2", "train.sample_every=100", "health.enabled=false"]
    wd = tmp_path / "run"
    hand = apply_overrides(load_preset("dcgan_digits"), [*ovr, "train.steps=2"])
    assert hand.model.upsample == "auto"
    jaxgan.train(hand, wd)
    model = json.loads((wd / "config.json").read_text())["model"]
    assert (model["upsample"], model["downsample"]) == ("fast", "s2d")

    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    cfg = resolve("dcgan_digits", [*ovr, "train.steps=4"])
    assert (cfg.model.upsample, cfg.model.downsample) == ("transpose", "conv")
    result = jaxgan.train(cfg, wd)
    assert int(result.state.step) == 4 and result.last_record["step"] == 4
    assert (wd / "checkpoints" / "4").is_dir()
    model = json.loads((wd / "config.json").read_text())["model"]
    assert (model["upsample"], model["downsample"]) == ("transpose", "conv")
