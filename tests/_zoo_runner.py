"""Runs zoo trainings for tests/test_zoo_*.py in a fresh process; prints one JSON line.

A separate process so that XLA:CPU can be told to skip its expensive backend passes
(``XLA_FLAGS`` must be set before JAX starts): compile time of these tiny convolutional
steps drops about 5x, and these tests check behaviour, not kernel speed.

    python tests/_zoo_runner.py presets WORKDIR NAME [NAME ...]
    python tests/_zoo_runner.py cgan WORKDIR STEPS
    python tests/_zoo_runner.py infogan WORKDIR STEPS
    python tests/_zoo_runner.py progan_resume WORKDIR
    python tests/_zoo_runner.py infogan_grid WORKDIR
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
FAST_XLA = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


def run_zoo(*args: str, timeout: int = 1500, fast: bool = True) -> dict:
    """Run `_zoo_runner.py` with `args`; `fast` selects the cheap compile pipeline (good for
    few steps; dense layers run slower under it, so long MLP-heavy trainings skip it)."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    if fast:
        env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + FAST_XLA).strip()
    out = subprocess.run([sys.executable, str(HERE / "_zoo_runner.py"), *args], env=env,
                         capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("ZOO_RESULT ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    return json.loads(lines[-1][len("ZOO_RESULT "):])


TINY = ["data.source=digits", "data.channels=1", "data.resolution=8", "model.g_width=4",
        "model.d_width=4", "train.batch_size=4", "train.steps=2", "train.num_samples=4",
        "train.progress=false", "health.enabled=false", "train.steps_per_call=1",
        "train.log_every=1", "eval.every=0"]


def _train(preset: str, workdir: Path, overrides: list[str]):
    from jaxgan import config as C
    from jaxgan.trainer import train

    cfg = C.apply_overrides(C.load_preset(preset), overrides)
    return cfg, train(cfg, workdir)


def presets(workdir: Path, names: list[str]) -> dict:
    out = {}
    for name in names:
        t = time.time()
        extra = []
        if name.startswith("infogan"):
            extra = ["model.latent_dim=16", "model.infogan.categorical=10"]
        elif name.startswith("progan"):
            extra = ["data.resolution=16", "model.progan.stage_steps=1", "train.steps=4",
                     "model.latent_dim=8", "train.batch_size=8",
                     "model.progan.batch_sizes=8,4"]  # two programs: stage 0; stages 1-2
        else:
            extra = ["model.latent_dim=8"]
        _, res = _train(name, workdir / name, TINY + extra)
        rec = res.last_record
        out[name] = {"step": rec["step"], "d_loss": rec["d_loss"], "g_loss": rec["g_loss"],
                     "finite": bool(np.isfinite(rec["d_loss"]) and np.isfinite(rec["g_loss"])),
                     "keys": sorted(rec), "seconds": time.time() - t}
    return out


def _classifier():
    """Logistic regression on the real 8x8 digits, in the trainer's [-1, 1] scale."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    d = load_digits()
    x = np.round(d.images * 255.0 / 16.0) / 127.5 - 1.0
    return LogisticRegression(max_iter=3000).fit(x.reshape(len(x), -1), d.target)


def cgan(workdir: Path, steps: int) -> dict:
    from jaxgan.sampling import generate
    from jaxgan.state import make_models

    cfg, res = _train("cgan_digits", workdir, [f"train.steps={steps}", "train.progress=false",
                                               "health.enabled=false",
                                               "train.checkpoint_every=100000",
                                               "train.sample_every=100000",
                                               "train.log_every=50"])
    samples = generate(make_models(cfg), res.state, 500, 0, use_ema=False)
    requested = np.arange(500) % 10  # `generate` cycles the labels 0..9
    pred = _classifier().predict(samples.reshape(500, -1))
    return {"accuracy": float(np.mean(pred == requested)),
            "per_class": np.bincount(pred, minlength=10).tolist()}


def infogan(workdir: Path, steps: int) -> dict:
    from jaxgan.models.infogan import traversal_grid
    from jaxgan.state import make_models

    cfg, res = _train("infogan_digits", workdir, [f"train.steps={steps}",
                                                  "train.progress=false",
                                                  "health.enabled=false",
                                                  "train.checkpoint_every=100000",
                                                  "train.sample_every=100000",
                                                  "train.log_every=50"])
    models = make_models(cfg)
    clf = _classifier()
    preds = []
    for seed in range(10):  # 10 noise vectors x 10 categories (continuous codes at 0)
        g = traversal_grid(models, res.state, cfg, steps=1, seed=seed)
        preds.append(clf.predict(g.reshape(len(g), -1)))
    preds = np.stack(preds)  # (noise, category)
    return {"preds": preds.tolist(), "info_ce": res.last_record.get("info_ce")}


def infogan_grid(workdir: Path) -> dict:
    """2 tiny infogan_digits iterations sampled at step 2: the traversal PNGs written and
    the grid recomputed from the final state (ema_decay is 0: the raw generator)."""
    from PIL import Image

    from jaxgan.models.infogan import traversal_panel
    from jaxgan.state import make_models
    from jaxgan.writers import make_grid

    cfg, res = _train("infogan_digits", workdir, TINY + [
        "model.latent_dim=16", "train.sample_every=2", "train.checkpoint_every=100"])
    files = sorted(p.name for p in (workdir / "samples").iterdir())
    png = np.asarray(Image.open(workdir / "samples" / "traversal_latest.png"))
    images, ncols = traversal_panel(make_models(cfg), res.state, cfg, 10, cfg.seed)
    grid = make_grid(images, ncols=ncols)[..., 0]
    scale = png.shape[0] // grid.shape[0]
    return {"files": files, "png_shape": list(png.shape), "grid_shape": list(grid.shape),
            "ncols": ncols, "n_images": len(images), "scale": scale,
            "png_equals_grid": bool(np.array_equal(png[::scale, ::scale], grid)),
            "png_std": float(png.std()),
            # how much moving continuous code 0 changes row 0 (columns 0 vs 9)
            "cont_effect": float(np.abs(images[0] - images[9]).max()),
            "cat_effect": float(np.abs(images[0] - images[ncols]).max())}


def progan_resume(workdir: Path) -> dict:
    """5 iterations straight vs 3 + resume + 2 at 8x8 (stages 0 and 1, 2 iterations per
    phase): the checkpoint at step 3 is mid-fade-in (stage 1, alpha 0.5). As in the
    preset, the batch shrinks with the stage (8 at 4x4, 4 at 8x8) and the drift penalty
    is on."""
    import jax

    from jaxgan.models.progan import schedule

    over = TINY + ["model.progan.stage_steps=2", "model.latent_dim=8",
                   "train.checkpoint_every=100", "tricks.gp_weight=0", "train.batch_size=8",
                   "model.progan.batch_sizes=8,4"]
    _, a = _train("progan_celeba", workdir / "straight", over + ["train.steps=5"])
    _, b1 = _train("progan_celeba", workdir / "resumed", over + ["train.steps=3"])
    _, b = _train("progan_celeba", workdir / "resumed", over + ["train.steps=5"])
    leaves = zip(jax.tree.leaves((a.state.g_params, a.state.d_params, a.state.ema_params)),
                 jax.tree.leaves((b.state.g_params, b.state.d_params, b.state.ema_params)),
                 strict=True)
    diff = max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in leaves)
    stage, alpha = schedule(int(b1.state.step), 2, 1)
    return {"max_diff": diff, "stages": [int(r["progan_stage"]) for r in a.records],
            "resumed_records": [int(r["step"]) for r in b.records],
            "resume_stage": int(stage), "resume_alpha": float(alpha),
            "first_part_steps": int(b1.state.step), "final_step": int(b.state.step),
            "recorded_grow": np.asarray(b1.state.g_batch_stats["grow"]).tolist(),
            "drift": [r.get("drift") for r in a.records]}


def main() -> None:
    mode, workdir = sys.argv[1], Path(sys.argv[2])
    if mode == "presets":
        out = presets(workdir, sys.argv[3:])
    elif mode == "cgan":
        out = cgan(workdir, int(sys.argv[3]))
    elif mode == "infogan":
        out = infogan(workdir, int(sys.argv[3]))
    elif mode == "progan_resume":
        out = progan_resume(workdir)
    elif mode == "infogan_grid":
        out = infogan_grid(workdir)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print("ZOO_RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
