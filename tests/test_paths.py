"""URL workdirs are refused in one line, before anything is written (issue 14, item 2)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _reliability import TOY

from jaxgan.config import ConfigError
from jaxgan.paths import local_workdir, refuse_url

EXE = os.path.join(os.path.dirname(sys.executable), "jaxgan")


def jaxgan_in(cwd, *args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})


@pytest.mark.parametrize("argv", [
    ["train", *TOY, "--workdir", "gs://my-bucket/ring"],
    ["train", "--config", "toy_ring", "--workdir", "file:///tmp/ring"],
    ["sample", "gs://my-bucket/ring", "--num", "4"],
    ["sample", "runs/x", "--out", "gs://my-bucket/s.png"],
    ["eval", "s3://my-bucket/ring"],
    ["doctor", "gs://my-bucket/ring"],
    ["sweep", "--config", "toy_ring", "--seeds", "2", "--workdir", "gs://my-bucket/sw"],
])
def test_real_command_refuses_a_url_and_writes_nothing(argv, tmp_path):
    r = jaxgan_in(tmp_path, *argv)
    assert r.returncode == 2, r.stderr[-2000:]
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "is a URL" in err[0] and "gcsfuse" in err[0] and "mount path" in err[0]
    assert list(tmp_path.iterdir()) == []  # no ./gs:/my-bucket/..., nothing at all


def test_message_names_the_bucket_and_a_mount_path():
    with pytest.raises(ConfigError) as e:
        refuse_url("gs://my-bucket/runs/ring")
    msg = str(e.value)
    assert msg.startswith("workdir gs://my-bucket/runs/ring is a URL (gs://)")
    assert "`gcsfuse my-bucket /mnt/my-bucket`" in msg and msg.endswith("/mnt/my-bucket/runs/ring")


@pytest.mark.parametrize("path", ["runs/ring", "/tmp/x", "gs:/odd/local", "C:dir", "a://"[1:]])
def test_local_paths_pass(path):
    assert local_workdir(path) == Path(path)


def test_library_calls_refuse_urls_too(tmp_path, monkeypatch):
    import jaxgan
    from jaxgan.config import resolve

    monkeypatch.chdir(tmp_path)
    cfg = resolve("toy_ring", ["train.steps=2"])
    for call in (lambda: jaxgan.train(cfg, "gs://b/r"), lambda: jaxgan.load_run("gs://b/r"),
                 lambda: jaxgan.train(cfg, Path("gs://b/r"))):  # a Path keeps one slash
        with pytest.raises(ConfigError, match="gcsfuse"):
            call()
    assert list(tmp_path.iterdir()) == []
