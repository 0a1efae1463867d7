"""Writes the notebooks from plain Python cell lists (run: python notebooks/_build.py).

Keeping the cells here makes notebook diffs reviewable; the .ipynb files are committed
without outputs and executed in CI by tests/test_notebooks.py with small step counts.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent


def md(s):
    return new_markdown_cell(s.strip())


def code(s):
    return new_code_cell(s.strip())


QUICKSTART = [
    md("""
# jaxgan quickstart: a DCGAN on the embedded digits

This notebook trains the default preset (`dcgan_digits`: a DCGAN with fully connected
layers on the 8x8 handwritten digits that ship with scikit-learn), shows the sample grids, the loss
and health plots, samples from the checkpoint and computes sample-quality metrics.
Everything here is also a command: `jaxgan train`, `jaxgan sample`, `jaxgan doctor`.

`JAXGAN_NB_STEPS` sets the number of training steps (CI runs it with a few dozen).
"""),
    code("""
import os
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, Markdown, display

from jaxgan import config as config_lib
from jaxgan.trainer import train

STEPS = int(os.environ.get("JAXGAN_NB_STEPS", "3000"))
workdir = Path(tempfile.mkdtemp()) / "dcgan_digits"
cfg = config_lib.resolve("dcgan_digits", [
    f"train.steps={STEPS}", f"train.log_every={max(STEPS // 40, 1)}",
    f"train.sample_every={max(STEPS // 4, 1)}", f"train.checkpoint_every={STEPS}"])
print(cfg.model, cfg.train, sep="\\n")
"""),
    md("## Train\nThe progress bar shows steps/s, both losses and the live health verdict."),
    code("""
result = train(cfg, workdir)
print(result.last_record["step"], "steps; verdict:", result.last_record.get("verdict"))
sorted(p.name for p in workdir.iterdir())
"""),
    md("## Samples from a fixed noise batch (EMA generator)"),
    code("""
for png in sorted((workdir / "samples").glob("step_*.png")):
    print(png.name)
display(Image(filename=str(workdir / "samples" / "latest.png"), width=384))
"""),
    md("## Losses and health\n`jaxgan doctor` replays `metrics.jsonl` through the detectors "
       "and writes `doctor/report.md` with plots; verdicts are drawn as bands."),
    code("""
from jaxgan.diagnostics import diagnose, format_timeline, write_report

report_path = write_report(workdir)
print(format_timeline(diagnose(workdir)))
for png in sorted(report_path.parent.glob("*.png")):
    display(Image(filename=str(png), width=640))
"""),
    md("## Sample from the checkpoint\nThe same thing `jaxgan sample WORKDIR --num 64 "
       "--out samples.npz` does, as library calls."),
    code("""
from jaxgan.checkpoint import Checkpointer
from jaxgan.sampling import generate
from jaxgan.trainer import restore_latest, setup_run

run = setup_run(cfg)
step, state = restore_latest(run, Checkpointer(workdir / "checkpoints", read_only=True))
fake = generate(run.models, state, 500, seed=123)
print("checkpoint step", step, "samples", fake.shape, fake.min().round(3), fake.max().round(3))
"""),
    md("""
## Metrics
The FID Inception weights are not downloadable offline, so here the metrics run on pixel
features: improved precision/recall (k=3), density/coverage (k=5) and KID between 500 real
digits and 500 samples. With the weights file (`JAXGAN_INCEPTION_WEIGHTS`), `jaxgan fid`
and the Inception features give the paper-comparable numbers.
"""),
    code("""
from jaxgan.data import make_source
from jaxgan.metrics import density_coverage, precision_recall

source = make_source(cfg.data, cfg.seed)
real = source.batch(0, 500)["image"].reshape(500, -1)
gen = fake.reshape(500, -1)
noise = np.random.default_rng(0).uniform(-1, 1, gen.shape).astype(np.float32)
rows = {"generator": gen, "uniform noise (baseline)": noise}
lines = ["| samples | precision | recall | density | coverage |", "|---|---|---|---|---|"]
for name, x in rows.items():
    pr, dc = precision_recall(real, x), density_coverage(real, x)
    lines.append(f"| {name} | {pr['precision']:.3f} | {pr['recall']:.3f} | "
                 f"{dc['density']:.3f} | {dc['coverage']:.3f} |")
display(Markdown("\\n".join(lines)))
"""),
]


FAILURES = [
    md("""
# Failure modes, reproduced and caught

Practitioners' guides to GAN training warn of mode collapse, convergence failure, vanishing
generator gradients and divergence. This notebook makes each one happen on purpose, with
the presets of jaxgan's *failure zoo* (`jaxgan/configs/zoo_*.py`, small MLP GANs on the
8-Gaussian ring), and shows what the health monitor said, since when, on what evidence,
and what it suggests — next to the samples.

`JAXGAN_NB_STEPS` set (as in CI) runs only the two quickest entries.
"""),
    code("""
import os
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown, display

from jaxgan.diagnostics import diagnose, format_timeline, write_report
from jaxgan.zoo import ZOO, run_entry

FAST = "JAXGAN_NB_STEPS" in os.environ
entries = [e for e in ZOO if not FAST or e.preset in ("zoo_vanishing_gradient", "zoo_diverged")]
root = Path(tempfile.mkdtemp())
[(e.preset, e.expected, e.within_steps) for e in entries]
"""),
    code("""
runs = {}
for entry in entries:
    workdir = root / entry.preset
    runs[entry.preset] = run_entry(entry, seed=0, workdir=workdir)
    print(f"{entry.preset:26s} expected {entry.expected:20s} saw {runs[entry.preset].seen}")
"""),
    md("## Each run: the doctor's verdict timeline, evidence and remedies, and the samples"),
    code("""
for entry in entries:
    workdir = root / entry.preset
    report = diagnose(workdir)
    display(Markdown(f"### `{entry.preset}` — expected `{entry.expected}`"))
    print(format_timeline(report))
    final = report.final
    if final.evidence:
        print("evidence:", *final.evidence, sep="\\n  ")
    if final.remedies:
        print("try:", *final.remedies, sep="\\n  ")
    path = write_report(workdir)
    for png in sorted(path.parent.glob("*.png"))[:2]:  # the panels that had data
        display(Image(filename=str(png), width=560))
    latest = workdir / "samples" / "latest.png"
    if latest.exists():
        display(Image(filename=str(latest), width=280))
"""),
]


RESEARCH = [
    md("""
# Research prototyping: a new loss and a new regularizer, no library changes

A jaxgan step is a pure function built from plain functions, so a new idea is a few lines
of JAX plugged into `make_train_step`. Here: a *smooth hinge* loss and a zero-centred
gradient penalty on the **fake** samples (an "R2" penalty), trained on the 8-Gaussian ring
for several seeds at once with `jax.vmap` over the whole train state, then compared with
mode-coverage metrics and the health monitor's verdicts.
"""),
    code("""
import os

import jax
import jax.numpy as jnp
import numpy as np
from IPython.display import Markdown, display

from jaxgan import config as config_lib
from jaxgan.data import make_source
from jaxgan.diagnostics import HealthMonitor
from jaxgan.losses import GANLoss, get_loss
from jaxgan.metrics import mode_coverage
from jaxgan.multistep import scan_steps
from jaxgan.state import init_state, make_models
from jaxgan.step import make_train_step

STEPS = int(os.environ.get("JAXGAN_NB_STEPS", "3000"))
SEEDS = 4
cfg = config_lib.resolve("toy_ring_vanilla")
source = make_source(cfg.data, cfg.seed)
models = make_models(cfg)
"""),
    md("## A new loss and a new regularizer: pure functions"),
    code("""
def smooth_hinge_d(real, fake, real_target=1.0):
    return jax.nn.softplus(1.0 - real), jax.nn.softplus(1.0 + fake)


def smooth_hinge_g(fake):
    return -fake


smooth_hinge = GANLoss(smooth_hinge_d, smooth_hinge_g)


def r2_penalty(logits_fn, d_params, real, fake, y, key, gamma=1.0):
    \"\"\"gamma/2 * E ||grad_x D(x)||^2 on generated samples.\"\"\"
    grads = jax.grad(lambda x: jnp.sum(logits_fn(d_params, x, y)))(fake)
    sq = jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1)
    return 0.5 * gamma * jnp.mean(sq), {"r2": jnp.mean(sq)}
"""),
    md("## Several seeds in one compiled program: `vmap` over the whole state"),
    code("""
def sweep(loss, penalty, steps, seeds=SEEDS, per_call=50):
    step = make_train_step(models, loss, d_penalty=penalty, ema_decay=0.0,
                           sample_real=lambda k: source.sample(k, 1)[0])
    many = jax.jit(jax.vmap(scan_steps(step), in_axes=(0, None)))
    states = jax.vmap(lambda s: init_state(models, s, (2,)))(jnp.arange(seeds))
    dummy = {"image": jnp.zeros((per_call, 1, cfg.train.batch_size, 1))}
    history = []
    for _ in range(max(steps // per_call, 1)):
        states, sums = many(states, dummy)
        history.append(jax.tree.map(lambda v: np.asarray(v) / per_call, sums))
    return states, history


def evaluate(states, history, loss_name):
    rows = []
    for i in range(SEEDS):
        state_i = jax.tree.map(lambda x, i=i: x[i], states)
        z = jax.random.normal(jax.random.PRNGKey(99), (2000, models.latent_dim))
        x = np.asarray(models.generator.apply({"params": state_i.g_params}, z, None,
                                              train=False))
        cov = mode_coverage(x, source.centers, source.std)
        monitor = HealthMonitor(window=10, loss_name=loss_name)
        for k, h in enumerate(history):
            rec = {key: float(v[i]) for key, v in h.items()}
            verdict = monitor.update({"step": (k + 1) * 50, "loss_name": loss_name, **rec})
        rows.append((i, cov["modes_captured"], cov["high_quality_frac"], cov["reverse_kl"],
                     verdict.name))
    return rows


results = {}
for name, loss, penalty in [("non-saturating (baseline)", get_loss("non_saturating"), None),
                            ("smooth hinge + R2", smooth_hinge, r2_penalty)]:
    states, history = sweep(loss, penalty, STEPS)
    results[name] = evaluate(states, history, "hinge" if penalty else "non_saturating")
"""),
    md("## Compare: modes captured (of 8), share of high-quality samples, reverse KL, verdict"),
    code("""
lines = ["| variant | seed | modes | high-quality | reverse KL | verdict |",
         "|---|---|---|---|---|---|"]
for name, rows in results.items():
    for seed, modes, hq, rkl, verdict in rows:
        lines.append(f"| {name} | {seed} | {modes} | {hq:.2f} | {rkl:.2f} | {verdict} |")
display(Markdown("\\n".join(lines)))
"""),
    code("""
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
variants = [("non-saturating", get_loss("non_saturating"), None),
            ("smooth hinge + R2", smooth_hinge, r2_penalty)]
for ax, (name, loss, penalty) in zip(axes, variants, strict=True):
    states, _ = sweep(loss, penalty, STEPS, seeds=1)
    state0 = jax.tree.map(lambda x: x[0], states)
    z = jax.random.normal(jax.random.PRNGKey(7), (1000, models.latent_dim))
    x = np.asarray(models.generator.apply({"params": state0.g_params}, z, None, train=False))
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
    ax.scatter(source.centers[:, 0], source.centers[:, 1], c="red", marker="x")
    ax.set_title(name)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
plt.show()
"""),
]


def write(name, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01_quickstart.ipynb", QUICKSTART)
    write("02_failure_modes.ipynb", FAILURES)
    write("03_research_prototyping.ipynb", RESEARCH)
