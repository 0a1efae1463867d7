"""The public names of `import jaxgan` are what they say, whatever was imported before."""

import subprocess
import sys

CHECK = r"""
import importlib, pkgutil, sys, types
import jaxgan
# every submodule and subpackage of jaxgan first, as a notebook's earlier cells might
for m in pkgutil.iter_modules(jaxgan.__path__):
    importlib.import_module(f"jaxgan.{m.name}")
import jaxgan.evaluate, jaxgan.trainer, jaxgan.readers
bad = []
for name, where in jaxgan._LAZY.items():
    obj = getattr(jaxgan, name)
    if isinstance(obj, types.ModuleType) or obj is not getattr(sys.modules[where], name):
        bad.append(name)
ev = jaxgan.evaluate
if not callable(ev) or ev is not sys.modules["jaxgan.evaluate"].evaluate:
    bad.append("evaluate")
if jaxgan.train is not sys.modules["jaxgan.trainer"].train:
    bad.append("train")
from jaxgan import evaluate, load_run, train
if (evaluate, load_run, train) != (ev, jaxgan.load_run, jaxgan.train):
    bad.append("from-import")
for name in jaxgan.__all__:
    getattr(jaxgan, name)
print("BAD", bad)
"""


def test_api_names_survive_importing_the_submodules():
    r = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                       timeout=600, env={**__import__("os").environ, "JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == "BAD []"
