"""`jaxgan sweep`: K independent GANs trained by ONE compiled program, `jax.vmap` over GANState.

Why: small GANs (the toys, digits) leave a CPU or an accelerator mostly idle, and GAN
results vary with the seed so much that one run proves little. Because a whole training
run is a pure function of its `GANState`, K runs are one vmapped state and one program:
one compile, one dispatch per chunk, K times the arithmetic per dispatch.

What may differ between runs is what lives in the state: the seed (parameters, data order
and every random number) and the optimizers' hyperparameters, which `inject_hyperparams`
keeps in the optimizer state (``optim.g.lr``, ``optim.d.lr``, ``b1``, ``b2``, ``eps``).
Anything that changes the program's shape (widths, batch size, losses) cannot be vmapped
and is refused with one line.

Each run gets ``WORKDIR/run_XX/`` with its own config.json, metrics.jsonl (health verdicts
included) and a sample PNG; a summary table ends the sweep.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan.config import Config, ConfigError, apply_overrides, resolve_auto, validate
from jaxgan.diagnostics.signals import interval_means
from jaxgan.guards import is_injected
from jaxgan.run import host_batch, make_monitor, verdict_fields

# Config keys a sweep may vary, and the name of the injected hyperparameter they set.
VMAPPABLE = {"lr": "learning_rate", "b1": "b1", "b2": "b2", "eps": "eps"}


def _check_key(key: str) -> tuple[str, str] | None:
    """('g'|'d', hyperparameter) for an optimizer key; None for `seed`; error otherwise."""
    if key == "seed":
        return None
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "optim" and parts[1] in ("g", "d") and \
            parts[2] in VMAPPABLE:
        return parts[1], VMAPPABLE[parts[2]]
    raise ConfigError(f"sweep key {key!r} cannot vary inside one compiled program; sweep "
                      f"seed or optim.{{g,d}}.{{{','.join(VMAPPABLE)}}} (other keys change "
                      "the program: run them as separate sweeps)")


def expand_runs(cfg: Config, seeds: int | Sequence[int],
                grid: dict[str, list[str]]) -> list[tuple[Config, dict[str, str]]]:
    """Every (seed, grid point) combination as (its full config, its overrides)."""
    seed_list = list(range(cfg.seed, cfg.seed + seeds)) if isinstance(seeds, int) else \
        list(seeds)
    if not seed_list:
        raise ConfigError("--seeds must be at least 1")
    for key in grid:
        _check_key(key)
    keys = sorted(grid)
    runs = []
    for seed in seed_list:
        for values in itertools.product(*(grid[k] for k in keys)):
            ov = {"seed": str(seed), **dict(zip(keys, values, strict=True))}
            runs.append((validate(apply_overrides(cfg, [f"{k}={v}" for k, v in ov.items()])),
                         ov))
    return runs


def _set_hyperparams(opt_state: Any, values: dict[str, jax.Array]) -> Any:
    found = []

    def visit(s):
        if is_injected(s):
            found.append(s)
            hp = dict(s.hyperparams)
            for name, v in values.items():
                if name not in hp:
                    raise ConfigError(f"the optimizer has no hyperparameter {name!r} to sweep")
                hp[name] = jnp.asarray(v, hp[name].dtype)
            return s._replace(hyperparams=hp)
        return s

    out = jax.tree.map(visit, opt_state, is_leaf=is_injected)
    if not found:
        raise ConfigError("the optimizer keeps no hyperparameters in its state to sweep")
    return out


def init_states(models: Any, run_cfgs: list[Config], sample_shape: tuple[int, ...]) -> Any:
    """The stacked GANState of all runs: vmapped init over seeds, then per-run hyperparams."""
    from jaxgan.state import init_state

    seeds = jnp.asarray([c.seed for c in run_cfgs], jnp.int32)
    states = jax.jit(jax.vmap(lambda s: init_state(models, s, sample_shape)))(seeds)
    per: dict[str, dict[str, jax.Array]] = {"g": {}, "d": {}}
    for player in ("g", "d"):
        for key, name in VMAPPABLE.items():
            vals = [getattr(getattr(c.optim, player), key) for c in run_cfgs]
            per[player][name] = jnp.asarray(vals, jnp.float32)
    return states.replace(g_opt_state=_set_hyperparams(states.g_opt_state, per["g"]),
                          d_opt_state=_set_hyperparams(states.d_opt_state, per["d"]))


def run_placement(n_runs: int) -> Callable[[Any], Any]:
    """Put the runs axis (axis 0) of a pytree across this process's devices.

    The runs never talk to each other, so XLA splits the vmapped program along that axis
    with no communication: 16 runs on 8 GPUs train 2 per GPU. With one device, or a run
    count the device count does not divide, everything stays on the default device.
    """
    devices = jax.local_devices()
    if len(devices) == 1 or n_runs % len(devices):
        return lambda tree: tree
    sharding = NamedSharding(Mesh(np.array(devices), ("runs",)), P("runs"))
    return lambda tree: jax.device_put(tree, sharding)


def sweep(cfg: Config, seeds: int | Sequence[int] = 1,
          overrides_grid: dict[str, list[str]] | None = None,
          workdir: str | Path | None = None, quiet: bool = False) -> list[dict[str, Any]]:
    """Train every (seed, grid point) run of `cfg` at once; return one summary row per run.

    With `workdir`, writes ``run_XX/`` per run (config.json, metrics.jsonl with health
    verdicts, samples/latest.png) and ``summary.json``. The rows hold the run's overrides,
    last metrics, verdict and, for toys, mode coverage; the final stacked state is in
    ``rows[i]["state"]`` only in memory (for tests and notebooks).
    """
    from jaxgan.data import make_source
    from jaxgan.losses import get_loss
    from jaxgan.run import sample_shape, vmapped_step
    from jaxgan.state import make_models

    if workdir is not None:
        from jaxgan.paths import local_workdir

        workdir = local_workdir(workdir)
    cfg = resolve_auto(cfg)
    runs = expand_runs(validate(cfg), seeds, overrides_grid or {})
    run_cfgs = [c for c, _ in runs]
    tc = cfg.train
    if tc.steps % tc.steps_per_call or tc.log_every % tc.steps_per_call:
        raise ConfigError("train.steps and train.log_every must be multiples of "
                          "train.steps_per_call for a sweep")
    sources = [make_source(c.data, c.seed) for c in run_cfgs]
    toy = sources[0].is_toy
    models = make_models(cfg)
    vstep = vmapped_step(cfg, models, get_loss(cfg.loss.name), sources[0])
    place = run_placement(len(runs))
    states = place(init_states(models, run_cfgs, sample_shape(cfg)))

    dirs, writers, monitors = _open_runs(runs, workdir, cfg)
    last: list[dict[str, Any]] = [{} for _ in runs]
    sums = None
    done = 0
    while done < tc.steps:
        batch = place(jax.tree.map(lambda *xs: np.stack(xs),
                                   *[host_batch(c, s, done)
                                     for c, s in zip(run_cfgs, sources, strict=True)]))
        states, m = vstep(states, batch)
        done += tc.steps_per_call
        sums = m if sums is None else jax.tree.map(jnp.add, sums, m)
        if done % tc.log_every == 0 or done >= tc.steps:
            host = jax.device_get(sums)
            count = tc.log_every if done % tc.log_every == 0 else done % tc.log_every
            for i in range(len(runs)):
                rec = {"step": done, **interval_means({k: v[i] for k, v in host.items()},
                                                      count),
                       "loss_name": cfg.loss.name}
                if monitors[i] is not None:
                    rec.update(verdict_fields(monitors[i].update(rec), full=False))
                if writers[i] is not None:
                    writers[i].write(rec)
                last[i] = rec
            sums = None
    rows = _finish(models, states, runs, sources, dirs, writers, last, toy)
    if workdir is not None:
        Path(workdir, "summary.json").write_text(json.dumps(
            [{k: v for k, v in r.items() if k != "state"} for r in rows], indent=2))
    if not quiet:
        print(format_summary(rows))
    return rows


def _open_runs(runs, workdir, cfg):
    from jaxgan.runtime import workdir_guard
    from jaxgan.writers import MetricsWriter

    dirs, writers, monitors = [], [], []
    for i, (c, _) in enumerate(runs):
        d = Path(workdir) / f"run_{i:02d}" if workdir is not None else None
        if d is not None:
            workdir_guard(c, d, force=False)
            if (d / "metrics.jsonl").exists():
                (d / "metrics.jsonl").unlink()  # a sweep restarts its runs from step 0
        dirs.append(d)
        writers.append(MetricsWriter(d, tensorboard=False) if d is not None else None)
        monitors.append(make_monitor(cfg))
    return dirs, writers, monitors


def _finish(models, states, runs, sources, dirs, writers, last, toy) -> list[dict[str, Any]]:
    from jaxgan.sampling import generate, write_samples

    rows = []
    for i, (c, ov) in enumerate(runs):
        state = jax.tree.map(lambda x, i=i: x[i], states)
        n = 1000 if toy else c.train.num_samples
        samples = generate(models, state, n, c.seed, use_ema=c.train.ema_decay > 0)
        row = {"run": f"run_{i:02d}", **ov, **{k: last[i].get(k) for k in
                                                ("step", "d_loss", "g_loss", "verdict")}}
        if toy:
            from jaxgan.metrics.mode_coverage import mode_coverage

            cov = mode_coverage(np.asarray(samples), sources[i].centers, sources[i].std)
            row.update(modes=int(cov["modes_captured"]),
                       high_quality=float(cov["high_quality_frac"]))
        if dirs[i] is not None:
            write_samples(samples, dirs[i] / "samples" / "latest.png",
                          sources[i].centers if toy else None)
            writers[i].close()
        row["state"] = state
        rows.append(row)
    return rows


def format_summary(rows: list[dict[str, Any]]) -> str:
    cols = [k for k in rows[0] if k != "state"]
    cells = [[_fmt(r.get(k)) for k in cols] for r in rows]
    widths = [max(len(c), *(len(x[j]) for x in cells)) for j, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


__all__ = ["sweep", "expand_runs", "init_states", "format_summary"]
