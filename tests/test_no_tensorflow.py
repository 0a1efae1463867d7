"""jaxgan where TensorFlow, tensorflow-datasets and tensorboardX are absent (an accelerator
image, e.g. the project's GPU machine): toy and .npz runs train, the tfds-backed sources
refuse in one line, TensorBoard output is skipped with one line.

The absence is made real in a subprocess: every finder on `sys.meta_path` is wrapped so
that those packages are not found, exactly as if they were not installed
(`importlib.util.find_spec` answers None, `import` raises ModuleNotFoundError). The wrapper
also records which of them an `import` statement tried to load, as opposed to a
`find_spec` probe (etils probes for tensorflow): for toy and npz runs there must be none,
so the test fails if jaxgan starts importing TensorFlow even where it is installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HIDDEN = ("tensorflow", "tensorflow_datasets", "tensorboardX")

SCRIPT = textwrap.dedent('''
    import contextlib, io, json, sys
    HIDDEN = {hidden!r}
    attempts = []

    class Hide:
        """Delegates to a real finder, except for the hidden packages."""
        def __init__(self, finder):
            self.finder = finder
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                if sys._getframe(2).f_code.co_name == "_find_and_load_unlocked":
                    attempts.append(name)  # an import statement, not a find_spec probe
                return None
            find = getattr(self.finder, "find_spec", None)
            return find(name, path, target) if find else None
        def __getattr__(self, attr):
            return getattr(self.finder, attr)

    sys.meta_path[:] = [Hide(f) for f in sys.meta_path]
    from jaxgan.cli import main

    out = {{}}
    for label, argv in {runs!r}:
        del attempts[:]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(argv)
        out[label] = {{"rc": rc, "stderr": err.getvalue(), "attempts": list(attempts)}}
    out["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN)
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def absent(tmp_path_factory):
    """Three `jaxgan train` commands in one process without the hidden packages."""
    import numpy as np

    tmp = tmp_path_factory.mktemp("notf")
    rng = np.random.default_rng(0)
    np.savez(tmp / "d.npz", images=rng.integers(0, 256, (48, 8, 8, 1), dtype=np.uint8))
    quiet = ["train.progress=false"]
    runs = [
        ("toy", ["train", "--config", "toy_ring", "--workdir", str(tmp / "toy"),
                 "train.steps=10", "train.steps_per_call=5", "train.log_every=5", *quiet]),
        ("npz", ["train", "--config", "dcgan_digits", "--workdir", str(tmp / "npz"),
                 "data.source=npz", f"data.path={tmp / 'd.npz'}", "train.batch_size=16",
                 "train.steps=2", "train.log_every=1", "health.enabled=false", *quiet]),
        ("digits", ["train", "--workdir", str(tmp / "digits"), "train.steps=2", *quiet]),
    ]
    code = SCRIPT.format(hidden=HIDDEN, runs=runs)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=tmp)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    return tmp, json.loads(line[-1][len("RESULT "):])


def _records(workdir):
    return [json.loads(ln) for ln in (workdir / "metrics.jsonl").read_text().splitlines()]


def test_nothing_hidden_is_ever_loaded(absent):
    _, out = absent
    assert out["loaded"] == []
    # toy and npz runs never even try to import TensorFlow or tfds (tensorboardX: tried,
    # optional); the digits refusal asks find_spec only
    for label in ("toy", "npz", "digits"):
        tried = {a.split(".")[0] for a in out[label]["attempts"]}
        assert tried <= {"tensorboardX"}, (label, tried)
    assert "tensorboardX" in {a.split(".")[0] for a in out["toy"]["attempts"]}


@pytest.mark.parametrize("label,steps", [("toy", [5, 10]), ("npz", [1, 2])])
def test_toy_and_npz_runs_train_without_tensorflow(absent, label, steps):
    tmp, out = absent
    assert out[label]["rc"] == 0, out[label]["stderr"][-2000:]
    recs = [r for r in _records(tmp / label) if "d_loss" in r]
    assert [r["step"] for r in recs] == steps
    assert all(0.0 < r["d_loss"] < 10.0 and 0.0 < r["g_loss"] < 10.0 for r in recs)
    assert (tmp / label / "samples" / "latest.png").stat().st_size > 100
    assert not (tmp / label / "tensorboard").exists()


def test_missing_tensorboardx_is_said_once_in_one_line(absent):
    from jaxgan.writers import TENSORBOARD_OFF

    _, out = absent
    lines = out["toy"]["stderr"].splitlines()
    assert lines.count(TENSORBOARD_OFF) == 1
    assert "Traceback" not in out["toy"]["stderr"]
    # said once per process: the second run of the process is silent about it
    assert TENSORBOARD_OFF not in out["npz"]["stderr"]


def test_digits_without_tensorflow_is_one_line_exit_2_and_writes_nothing(absent):
    tmp, out = absent
    d = out["digits"]
    assert d["rc"] == 2
    assert d["stderr"].strip().count("\n") == 0 and "Traceback" not in d["stderr"]
    assert d["stderr"].startswith("jaxgan: data.source=digits needs TensorFlow")
    assert "pip install tensorflow-cpu tensorflow-datasets" in d["stderr"]
    assert not (tmp / "digits").exists()


def test_require_tfds_names_only_what_is_missing(monkeypatch):
    import importlib.util

    from jaxgan.data import DataError
    from jaxgan.data.sources import require_tfds

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda n, *a: None if n == "tensorflow_datasets" else real(n, *a))
    with pytest.raises(DataError) as e:
        require_tfds("tfds")
    msg = str(e.value)
    assert "tensorflow_datasets is not installed: pip install tensorflow-datasets (" in msg
    assert "tensorflow-cpu" not in msg and "\n" not in msg
    monkeypatch.setattr(importlib.util, "find_spec", real)
    require_tfds("tfds")  # both installed here: no error
