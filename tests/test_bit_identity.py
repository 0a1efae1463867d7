"""Refactors keep training bit-identical: short real runs end on stored state digests.

Each run goes through `jaxgan.train` (the loop, the data feed, the compiled step, the
checkpoints) and ends with a sha256 over every leaf of the final `GANState` (G, D and EMA
parameters, batch statistics, both optimizer states, step and key), compared with a digest
recorded on the code before the architecture refactor (config -> Run -> step). A refactor
that moves code must leave these numbers alone; a change that means to alter the math must
say so and re-record them (``python tests/test_bit_identity.py`` prints the current digests).

The configs do not come from the preset files: each is the preset's values written out
here over the schema defaults (`Config()`), so that re-tuning a preset's values does not
move a digest, while a refactor of what the values mean does. The runs together cover the
step's parts: EMA, scan over steps, n_critic, label smoothing and flips, instance noise
with annealing, R1, DiffAugment, a conditional D, WGAN-GP with ProGAN's drift, growth and
per-stage batches, InfoGAN's mutual information, PacGAN packing and the on-device toy
sampler.

Bits are only comparable on the machine that recorded them: XLA:CPU compiles for the host's
vector ISA and rounds reductions differently on each. On the recording machine, forcing
`--xla_cpu_max_isa=AVX` moved the final states far: per-leaf sums differed by up to 9x a
leaf's L2 norm after 20-100 steps (Adam's first steps turn rounding noise in near-zero
gradients into full-size updates), while the tiny 8-12-step runs stayed within 6e-6. No
tolerance separates that from a change of the math, so the digests are compared only where
the backend, the JAX version and the CPU (its name and every cpuinfo flag, plus any ISA cap
in XLA_FLAGS) are the recording ones, and the tests skip, saying so, elsewhere. The
checked-in checkpoint's restore is compared bit for bit everywhere (it is bytes on disk).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxgan import config as config_lib

RECORDED_ON = ("cpu", "0.10.2")  # (backend, jax version) that produced DIGESTS
RECORDED_CPU = "af4e4414"  # cpu_fingerprint() of the machine that produced DIGESTS

COMMON = ["train.progress=false", "train.sample_every=100000", "train.num_samples=16",
          "model.upsample=fast", "model.downsample=s2d", "train.cpu_dots=auto"]

RUNS: dict[str, list[str]] = {
    # dcgan_digits (the default job), 20 of its 2000 steps
    "dcgan_digits": [
        "name=dcgan_digits", "data.source=digits", "data.resolution=16", "data.channels=1",
        "model.latent_dim=64", "model.g_width=64", "model.d_width=64",
        "loss.name=non_saturating", "optim.g.lr=2e-4", "optim.d.lr=2e-4",
        "train.batch_size=64", "train.steps_per_call=1", "train.ema_decay=0.999",
        "train.steps=20", "train.log_every=10", "train.checkpoint_every=20"],
    # a tiny conditional DCGAN with every D-side trick at once, 2 critic rounds, scan of 2
    "dcgan_tricks": [
        "name=dcgan_tricks", "data.source=digits", "data.resolution=8", "data.channels=1",
        "model.latent_dim=8", "model.g_width=8", "model.d_width=8", "model.num_classes=10",
        "model.generator=conditional", "model.discriminator=projection",
        "loss.name=hinge", "tricks.label_smoothing=0.1", "tricks.label_flip=0.1",
        "tricks.instance_noise=0.1", "tricks.instance_noise_anneal_steps=8",
        "tricks.r1_gamma=1.0", "tricks.diffaugment=color,translation,cutout",
        "optim.g.lr=2e-4", "optim.d.lr=4e-4", "train.batch_size=8", "train.n_critic=2",
        "train.steps_per_call=2", "train.ema_decay=0.99", "train.steps=12",
        "train.log_every=4", "train.checkpoint_every=12"],
    # infogan_digits, 20 of its 1000 steps
    "infogan_digits": [
        "name=infogan_digits", "data.source=digits", "data.resolution=8", "data.channels=1",
        "model.generator=infogan", "model.discriminator=infogan", "model.latent_dim=74",
        "model.infogan.categorical=10", "model.infogan.continuous=2", "model.infogan.weight=1.0",
        "model.g_width=32", "model.d_width=32", "loss.name=non_saturating",
        "optim.g.lr=1e-3", "optim.d.lr=2e-4", "train.batch_size=64",
        "train.steps_per_call=1", "train.ema_decay=0.0", "train.steps=20",
        "train.log_every=10", "train.checkpoint_every=20"],
    # progan_celeba's recipe on the 8x8 digits: growth 4x4 -> 8x8 in 2-step phases,
    # per-stage batches 8 then 4, WGAN-GP with the drift penalty
    "progan_digits": [
        "name=progan_digits", "data.source=digits", "data.resolution=8", "data.channels=1",
        "model.generator=progan", "model.discriminator=progan", "model.latent_dim=32",
        "model.g_width=4", "model.d_width=4", "model.progan.stage_steps=2",
        "model.progan.batch_sizes=8,4", "loss.name=wasserstein", "tricks.gp_weight=10.0",
        "tricks.drift_penalty=0.001", "optim.g.lr=1e-3", "optim.d.lr=1e-3",
        "optim.g.b1=0.0", "optim.d.b1=0.0", "optim.g.b2=0.99", "optim.d.b2=0.99",
        "train.batch_size=8", "train.ema_decay=0.999", "train.steps=8",
        "train.log_every=2", "train.checkpoint_every=8"],
    # toy_ring (PacGAN pack 4, 3 x 256 MLPs), 100 of its 10000 steps
    "toy_ring": [
        "name=toy_ring", "data.source=toy_ring", "model.generator=mlp",
        "model.discriminator=mlp", "model.latent_dim=256", "model.mlp.hidden=256",
        "model.mlp.depth=3", "model.pack=4", "loss.name=non_saturating",
        "optim.g.lr=5e-4", "optim.d.lr=1e-3", "optim.g.b1=0.5", "optim.d.b1=0.5",
        "train.batch_size=256", "train.steps_per_call=50", "train.ema_decay=0.999",
        "train.steps=100", "train.log_every=50", "train.checkpoint_every=100"],
}

DIGESTS: dict[str, str] = {
    "dcgan_digits": "8ecd33e80e8b2a1b51786c458757869a8449485d250bbc730a911154bba17a9c",
    "dcgan_tricks": "e3d81b4a455efa39f4eeff1269e2e55287dd374fdc81b04f8c282996bcbeefc1",
    "infogan_digits": "826e44f3df78eb2da253ee9fecb1fadbb8d53379df81d80fb5de0f8a2fd1fbdb",
    "progan_digits": "00bb2aa0fd90990a2b99615f7d6b85839b11b03afd227ce2490f1492efc07041",
    "toy_ring": "82ad8536a82d3048ac0fb55c32450f1012a46cf5ff16c39b50713d238164f23f",
}


def frozen_config(name: str, *extra: str) -> config_lib.Config:
    """The run's config from the schema defaults and the values above, never a preset."""
    cfg = config_lib.apply_overrides(config_lib.Config(), [*COMMON, *RUNS[name], *extra])
    return config_lib.validate(cfg, jax.device_count())


def state_digest(state) -> str:
    """sha256 over every leaf of a state: its path, dtype, shape and bytes."""
    h = hashlib.sha256()
    leaves = jax.tree_util.tree_flatten_with_path(jax.device_get(state))[0]
    for path, leaf in leaves:
        a = np.asarray(jax.random.key_data(leaf) if jax.dtypes.issubdtype(
            getattr(leaf, "dtype", None), jax.dtypes.prng_key) else leaf)
        h.update(f"{jax.tree_util.keystr(path)}|{a.dtype}|{a.shape}|".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def cpu_fingerprint() -> str:
    """What XLA:CPU compiles for: the CPU's name, its cpuinfo flags and any ISA cap."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    name = re.search(r"model name\s*:\s*(.*)", info)
    flags = re.search(r"flags\s*:\s*(.*)", info)
    isa = sorted(flags.group(1).split() if flags else [])
    cap = re.findall(r"--xla_cpu_max_isa=\S+", os.environ.get("XLA_FLAGS", ""))
    text = "|".join([name.group(1) if name else "", *isa, *cap])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _on_recorded_platform() -> bool:
    """Skip off the recorded backend/JAX; True when the CPU is the recording one."""
    here = (jax.default_backend(), jax.__version__)
    if here != RECORDED_ON:
        pytest.skip(f"digests were recorded on {RECORDED_ON}, this is {here}")
    return cpu_fingerprint() == RECORDED_CPU


def _skip_off_the_recording_cpu(same_cpu: bool) -> None:
    if not same_cpu:
        pytest.skip(f"digests were recorded on CPU {RECORDED_CPU}, this is "
                    f"{cpu_fingerprint()} (XLA rounds differently; see the docstring)")


def run_digest(name: str, workdir: Path) -> str:
    from jaxgan import train

    return state_digest(train(frozen_config(name), workdir).state)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_short_training_ends_on_the_recorded_state(name, tmp_path):
    _skip_off_the_recording_cpu(_on_recorded_platform())
    assert run_digest(name, tmp_path / name) == DIGESTS[name]


FIXTURE = Path(__file__).parent / "fixtures" / "run_before_16"  # config.json + checkpoints/
FIXTURE_RUN = [*COMMON, "name=ckpt_fixture", "data.source=digits", "data.resolution=8",
               "model.latent_dim=8", "model.g_width=8", "model.d_width=8",
               "train.batch_size=8", "train.ema_decay=0.99", "train.log_every=1",
               "train.checkpoint_every=2", "train.steps=2"]
FIXTURE_DIGESTS = {2: "4486a50b92d7e0eeff87a9d000c72e0d955944a14b1d58afe814825ce9642c1f",
                   4: "faef2094cdcedaea0fba0b4d1646b91353bac50751f2956ac95872d7e8bc5d56"}


def test_checkpoint_written_before_the_refactor_still_restores(tmp_path):
    """A run written by the code before the refactor (2 steps of a tiny DCGAN, checked in)
    restores through `load_run` to its recorded state, plain orbax still reads it, and
    `train` resumes it to step 4 on the digest a straight 4-step run had then."""
    import shutil

    import orbax.checkpoint as ocp

    from jaxgan import load_run, train

    same_cpu = _on_recorded_platform()
    work = tmp_path / "run"
    shutil.copytree(FIXTURE, work)
    cfg = config_lib.apply_overrides(config_lib.Config(), FIXTURE_RUN)
    assert config_lib.load_preset(str(work / "config.json")).to_dict() == cfg.to_dict()
    loaded = load_run(work)
    assert loaded.step == 2 and state_digest(loaded.state) == FIXTURE_DIGESTS[2]
    raw = ocp.PyTreeCheckpointer().restore(work / "checkpoints" / "2" / "default")
    for name in ("g_params", "d_params", "ema_params", "g_batch_stats", "d_batch_stats"):
        ours = jax.tree.leaves(jax.device_get(getattr(loaded.state, name)))
        theirs = jax.tree.leaves(raw[name])
        assert len(ours) == len(theirs) and (ours or "batch_stats" in name)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    result = train(config_lib.apply_overrides(cfg, ["train.steps=4"]), work)
    assert int(result.state.step) == 4
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(result.state.g_params))
    _skip_off_the_recording_cpu(same_cpu)
    assert state_digest(result.state) == FIXTURE_DIGESTS[4]


def test_digest_sees_one_bit():
    """The digest is not blind: flipping one bit of one parameter changes it."""
    state = {"g": np.zeros((3,), np.float32), "d": np.ones((2,), np.float32)}
    base = state_digest(state)
    flipped = {**state, "g": np.array([0.0, 0.0, np.float32(1e-45)], np.float32)}
    assert state_digest(flipped) != base
    assert state_digest({"g": state["g"], "d": state["d"]}) == base


if __name__ == "__main__":  # print the digests of the code as it is now
    import tempfile

    print("cpu_fingerprint:", cpu_fingerprint())
    with tempfile.TemporaryDirectory() as tmp:
        for n in (sys.argv[1:] or sorted(RUNS)):
            print(f'    "{n}": "{run_digest(n, Path(tmp) / n)}",', flush=True)
