"""The light commands load only what they use: `jaxgan --help` no JAX, `jaxgan sample` and
`jaxgan doctor` of an image run no dataset and no TensorFlow (their speed is measured in
benchmarks/light_commands.py, not asserted here)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_cli import TINY, jaxgan

# Runs a `jaxgan` command line in a process where TensorFlow and tfds cannot be imported
# (DESIGN.md: `sys.modules[name] = None` makes `import name` raise ImportError), then
# prints which heavy modules it did load.
BLOCKED = """
import json, sys
for name in ("tensorflow", "tensorflow_datasets"):
    sys.modules[name] = None
from jaxgan.cli import main
code = main(json.loads(sys.argv[1]))
heavy = ("jax", "flax", "tensorflow", "tensorflow_datasets", "matplotlib", "orbax")
print(json.dumps({"code": code,
                  "loaded": sorted(m for m in heavy if sys.modules.get(m) is not None)}))
"""


def blocked(*argv):
    r = subprocess.run([sys.executable, "-c", BLOCKED, json.dumps(list(argv))],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1]), r


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A tiny run of the digits preset (its data come through tfds, so TensorFlow)."""
    wd = tmp_path_factory.mktemp("light") / "run"
    r = jaxgan("train", "--workdir", str(wd), "train.steps=4", "train.log_every=2",
               "train.sample_every=4", "train.checkpoint_every=2", "train.progress=false",
               *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((wd / "config.json").read_text())["data"]["source"] == "digits"
    return wd


def test_sample_of_an_image_run_loads_no_dataset_and_no_tensorflow(digits_run, tmp_path):
    out = tmp_path / "s.npz"
    res, r = blocked("sample", str(digits_run), "--num", "16", "--out", str(out))
    assert res["code"] == 0, r.stderr[-2000:]
    assert "tensorflow" not in res["loaded"] and "tensorflow_datasets" not in res["loaded"]
    samples = np.load(out)["samples"]
    assert samples.shape == (16, 8, 8, 1) and samples.dtype == np.float32
    assert np.isfinite(samples).all() and samples.std() > 1e-4
    # the same numbers as an unrestricted `jaxgan sample`
    r = jaxgan("sample", str(digits_run), "--num", "16", "--out", str(tmp_path / "t.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "t.npz")["samples"], samples)
    res, r = blocked("sample", str(digits_run), "--num", "9", "--out", str(tmp_path / "s.png"))
    assert res["code"] == 0 and (tmp_path / "s.png").stat().st_size > 0, r.stderr[-2000:]


def test_load_run_loads_the_dataset_only_when_read(digits_run):
    from jaxgan.readers import LazySource, load_run

    run = load_run(digits_run)
    assert isinstance(run.source, LazySource) and not run.source.loaded
    assert run.sample(4).shape == (4, 8, 8, 1)
    assert not run.source.loaded and not getattr(run.source, "is_toy", True)
    assert len(run.source) == 1797 and run.source.loaded  # eval's real images: loaded now


def test_doctor_loads_no_tensorflow(digits_run):
    res, r = blocked("doctor", str(digits_run), "--json", "--no-report")
    assert res["code"] == 0, r.stderr[-2000:]
    assert "tensorflow" not in res["loaded"]
    report = json.loads("\n".join(r.stdout.strip().splitlines()[:-1]))
    assert report["num_records"] == 2 and report["final"]["name"] == "healthy"


def test_help_and_version_load_no_jax():
    for argv in (["--help"], ["--version"], []):
        res, r = blocked(*argv)
        assert res["loaded"] == [], (argv, res)
    res, r = blocked("--help")
    assert res["code"] == 0 and "doctor" in r.stdout and "sweep" in r.stdout


def test_help_lines_of_the_lazy_verbs_are_their_modules_own():
    """`jaxgan --help` lists the lazily built verbs with the help their parsers give."""
    import argparse

    from jaxgan.cli import LAZY_VERBS, build_parser

    def helps(parser):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return {a.dest: a.help for a in sub._choices_actions}

    full, lazy = helps(build_parser()), helps(build_parser([]))
    assert set(LAZY_VERBS) <= set(full)
    assert lazy == full
