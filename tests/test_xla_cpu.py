"""The XLA:CPU speed settings change how the step runs, never what it computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from jaxgan import xla_cpu
from jaxgan.bench import prepare
from jaxgan.config import ConfigError, resolve

# Known-answer vectors of Threefry-2x32 with 20 rounds (Salmon et al. 2011, Random123).
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]

# Draws that a process without jaxgan (so with JAX's own rolled lowering) also makes.
DRAWS = """
import json, jax
k = jax.random.key(42)
z = jax.jit(lambda k: jax.random.normal(k, (3, 257)))(k)
u = jax.jit(lambda k: jax.random.randint(jax.random.fold_in(k, 7), (64,), 0, 10))(k)
print(json.dumps({"z": z.tolist(), "u": u.tolist()}))
"""


# Whether `install()` unrolls on this JAX: on the series it was measured on (0.10), not on
# 0.11 (minutes of compile, jaxgan/xla_cpu.py).
UNROLLS = xla_cpu.unroll_by_default()


# The unrolled lowering applied explicitly, in a process of its own: the change is
# process-wide, and on JAX 0.11 it would make every later compile of this test worker take
# minutes.
UNROLLED = """
import json, jax, jax.numpy as jnp, jax.extend.random as jrandom
from jaxgan import xla_cpu
assert xla_cpu.unroll_threefry()
hlo = jax.jit(lambda k: jax.random.normal(k, (512, 256))).lower(
    jax.random.key(0)).compile().as_text()
f = jax.jit(jrandom.threefry_2x32)
kat = [[int(v) for v in f(jnp.array(k, jnp.uint32), jnp.array(c, jnp.uint32))]
       for k, c in {pairs}]
print(json.dumps({{"loop": " while(" in hlo, "kat": kat}}))
"""


def test_unrolled_threefry_has_no_loop_and_gives_the_known_answers():
    code = UNROLLED.format(pairs=[(k, c) for k, c, _ in KAT])
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                    capture_output=True, text=True).stdout)
    assert not out["loop"]  # the rolled lowering is a while loop of five rounds
    assert out["kat"] == [list(e) for _, _, e in KAT]


def test_unrolled_only_on_the_measured_jax_series():
    assert xla_cpu.jax_series("0.10.2") == (0, 10) and xla_cpu.jax_series("0.11.2") == (0, 11)
    assert xla_cpu.jax_series("garbage") == (0, 0)
    assert xla_cpu.unroll_by_default("0.10.2")
    assert not xla_cpu.unroll_by_default("0.11.2") and not xla_cpu.unroll_by_default("0.12.0")
    assert UNROLLS == (xla_cpu.jax_series() == (0, 10))


def test_unrolled_threefry_draws_what_jax_alone_draws():
    ref = json.loads(subprocess.run([sys.executable, "-c", DRAWS], check=True,
                                    capture_output=True, text=True).stdout)
    here = json.loads(subprocess.run(
        [sys.executable, "-c", "from jaxgan import xla_cpu\nassert xla_cpu.unroll_threefry()\n"
         + DRAWS],
        check=True, capture_output=True, text=True).stdout)
    np.testing.assert_array_equal(np.array(here["z"]), np.array(ref["z"]))
    np.testing.assert_array_equal(np.array(here["u"]), np.array(ref["u"]))


# Whether this process compiles Threefry as JAX's rolled loop, after `setup` ran.
LOWERING = """
import sys
{setup}
import jax
hlo = jax.jit(lambda k: jax.random.normal(k, (512, 256))).lower(
    jax.random.key(0)).compile().as_text()
print("rolled" if " while(" in hlo else "unrolled")
"""
IMPORTS = "import jaxgan, jaxgan.step, jaxgan.trainer, jaxgan.runtime, jaxgan.sweep, jaxgan.bench"
TRAIN = """
import jaxgan
cfg = jaxgan.resolve("toy_ring_vanilla", ["train.steps=2", "train.log_every=1",
                                  "train.progress=false",
                                  "model.mlp.hidden=8", "model.mlp.depth=1",
                                  "train.batch_size=8", "train.steps_per_call=1"])
jaxgan.train(cfg, sys.argv[1])
"""


@pytest.mark.parametrize("setup,opt_out,want", [
    (IMPORTS, None, "rolled"),  # importing anything of jaxgan changes nothing
    (TRAIN, None, "unrolled" if UNROLLS else "rolled"),  # the run assembly applies it
    (TRAIN, "0", "rolled"),  # unless opted out
    (IMPORTS + "\nfrom jaxgan import xla_cpu\nassert xla_cpu.install()", "1", "unrolled"),
])
def test_lowering_change_is_explicit_and_opt_out(setup, opt_out, want, tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop(xla_cpu.OPT_OUT_ENV, None)
    if opt_out is not None:
        env[xla_cpu.OPT_OUT_ENV] = opt_out
    r = subprocess.run([sys.executable, "-c", LOWERING.format(setup=setup),
                        str(tmp_path / "run")], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == want
    if setup is TRAIN:
        assert (tmp_path / "run" / "checkpoints" / "2").is_dir()  # it really trained


def test_dots_library_choice():
    assert xla_cpu.dots_library(resolve("toy_ring_vanilla")) == "eigen"
    assert xla_cpu.dots_library(resolve("dcgan_digits")) == "ynn"
    assert xla_cpu.dots_library(resolve("toy_ring_vanilla", ["train.cpu_dots=ynn"])) == "ynn"
    assert xla_cpu.compiler_options(resolve("toy_ring_vanilla"), "cpu") == {
        "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION"}
    assert xla_cpu.compiler_options(resolve("toy_ring_vanilla"), "gpu") == {}
    assert xla_cpu.compiler_options(resolve("dcgan_digits"), "cpu") == {}
    with pytest.raises(ConfigError, match="cpu_dots"):
        resolve("toy_ring_vanilla", ["train.cpu_dots=mkl"])


def test_eigen_dots_compute_the_step_ynn_computes():
    """The toy step with its dots on Eigen (auto) and on YNNPACK: same state after 20 steps,
    up to float32 summation order; and the Eigen build really has no dot in YNNPACK."""
    ovr = ["train.batch_size=64", "train.steps_per_call=20"]
    states, texts = [], []
    for lib in ("auto", "ynn"):
        p = prepare(resolve("toy_ring_vanilla", [*ovr, f"train.cpu_dots={lib}"]))
        texts.append(p.compiled.as_text())
        p.run(1)
        states.append(jax.device_get((p.state.g_params, p.state.d_params)))
    ynn_dots = [t.count("ynn_fusion") for t in texts]
    assert ynn_dots[0] == 0 < ynn_dots[1]
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5),
                 *states)


SPLIT = """
import jax
from jaxgan.xla_cpu import split_cpu_for_runs
print(split_cpu_for_runs({n}), jax.device_count())
"""


@pytest.mark.parametrize("n_runs,forced", [(6, ""), (5, ""), (4, "3")])
def test_split_cpu_for_runs(n_runs, forced):
    """One CPU device per core when the cores divide the runs; a forced count is kept."""
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={forced}"
           if forced else ""}
    out = subprocess.run([sys.executable, "-c", SPLIT.format(n=n_runs)], check=True,
                         capture_output=True, text=True, env=env).stdout.split()
    cores = len(os.sched_getaffinity(0))
    want = max(d for d in range(1, cores + 1) if n_runs % d == 0)
    if forced:
        assert out == ["0", forced]
    else:
        assert out == ([str(want), str(want)] if want > 1 else ["0", "1"])
