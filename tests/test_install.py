"""The install the README promises: the library alone for the main job, the test extra for
the tests, CI doing exactly what the Quickstart says, and the dependency bounds and extras
of pyproject.toml (issue 14, items 3-5)."""

import re
import tomllib
from pathlib import Path

import jax
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_quickstart_installs_the_library_alone_then_the_test_extra():
    assert quickstart_commands() == ['pip install -e . && jaxgan train',
                                     'pip install -e ".[test]" && python -m pytest']


def test_ci_runs_exactly_the_quickstart_commands():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    run = [line.strip() for line in script
           if re.match(r"\s*(pip install|python -m pytest)", line)]
    steps = [part.strip() for cmd in quickstart_commands() for part in cmd.split("&&")]
    assert run == [s for s in steps if s != "jaxgan train"]  # training: tests/test_cli.py


def deps(names):
    return {Requirement(r).name.lower(): Requirement(r) for r in names}


def test_the_library_needs_no_torch_and_brings_the_viewer():
    runtime = deps(PYPROJECT["dependencies"])
    assert not {"torch", "torchvision", "pytorch-fid"} & set(runtime)
    assert "tensorboard" in runtime and "tensorboardx" in runtime
    test = deps(PYPROJECT["optional-dependencies"]["test"])
    assert {"torch", "torchvision", "pytorch-fid"} <= set(test)  # the parity tests stay


def test_jax_is_bounded_where_xla_cpu_reaches_into_its_internals():
    jax_req = deps(PYPROJECT["dependencies"])["jax"]
    assert Version(jax.__version__) in jax_req.specifier
    assert Version("0.11.9") in jax_req.specifier and Version("0.12.0") not in jax_req.specifier
    extras = PYPROJECT["optional-dependencies"]
    assert extras["cuda12"] == ["jax[cuda12]"] and extras["cuda13"] == ["jax[cuda13]"]
    assert extras["cuda"] == extras["cuda12"] and extras["tpu"] == ["jax[tpu]"]
