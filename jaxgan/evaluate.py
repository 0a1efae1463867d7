"""A run's metrics: `evaluate(workdir)` for a checkpoint, `evaluate_state` for a state
(`jaxgan eval WORKDIR` is `jaxgan.cli.eval`).

Samples come from the EMA generator (where the run keeps one). Which metrics run is
`eval.metrics`; left empty, jaxgan picks what the data allow: mode coverage for the 2-D
toys, the classifier metrics for labelled image datasets (training the dataset's
classifier once if it is not cached), and FID when the Inception weights can be found.
Results are appended to the run's `metrics.jsonl` as one record with `"kind": "eval"`,
which the health monitor and the doctor leave aside (the toys' `modes_captured` and
`num_modes` are read by the mode-collapse detector), and to its TensorBoard events under
``eval/``. FID that cannot run for want of the Inception weights is skipped with one line
that says how to supply them, never silently; a record with FID names its square-root
method (`fid_method`), since FIDs computed differently are not comparable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jax

from jaxgan import streams
from jaxgan.errors import ConfigError
from jaxgan.metrics.registry import FID_METHOD, METRICS, EvalInputs, compute_metrics  # noqa: F401

_SKIP_SAID: set[str] = set()  # say "FID skipped" once per process, not at every eval


def _default_metrics(cfg, source) -> list[str]:
    if source.is_toy:
        return ["mode_coverage"]
    out = []
    if source.labels is not None and source.num_classes >= 2:
        out.append("classifier")
    from jaxgan.metrics import find_weights
    from jaxgan.metrics.weights import ENV_WEIGHTS, OFFICIAL_NAME, cache_dir

    try:
        find_weights(None)
        out.append("fid")
    except Exception as e:  # not found, not downloadable, or $JAXGAN_INCEPTION_WEIGHTS bad
        given = os.environ.get(ENV_WEIGHTS)
        why = str(e).strip().splitlines()[0] if given else f"no {OFFICIAL_NAME} found"
        if why not in _SKIP_SAID and jax.process_index() == 0:
            _SKIP_SAID.add(why)
            print(f"jaxgan: FID skipped ({why}); to compute FID, KID and IS put "
                  f"{OFFICIAL_NAME} in {cache_dir()}/ or set ${ENV_WEIGHTS}=FILE",
                  file=sys.stderr)
    return out


def evaluate(workdir: str | Path, overrides: list[str] | tuple[str, ...] = (),
             write: bool = True, progress: bool | None = None, step: int | None = None
             ) -> dict[str, Any]:
    """Compute the metrics for the newest checkpoint of `workdir` (or a kept `step`);
    append them to its metrics.jsonl and its TensorBoard events under ``eval/`` (from the
    first process only). `progress` as in `evaluate_state`."""
    from jaxgan.readers import load_run

    workdir = Path(workdir)
    run = load_run(workdir, overrides, step=step)
    record = evaluate_state(run.setup, run.state, run.step, progress=progress)
    if write and jax.process_index() == 0:
        with (workdir / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        from jaxgan.writers import tensorboard_record

        tensorboard_record(workdir, record)
    return record


def evaluate_state(run: Any, state: Any, step: int, progress: bool | None = None
                   ) -> dict[str, Any]:
    """The configured metrics for an in-memory state (the trainer calls this every
    `eval.every` steps; `evaluate` for a workdir's checkpoint).

    Every process of a multi-host run calls it: each samples the same images from its own
    copy of the state, extracts Inception features of its share only, and all get the same
    record. Inception extraction shows a progress bar on the first process when `progress`
    (default `train.progress`) is on and stderr is a terminal.
    """
    from jaxgan.sampling import generate

    cfg = run.cfg
    progress = cfg.train.progress if progress is None else progress
    if jax.process_count() > 1:  # sample locally: every process draws the same images
        from jaxgan.guards import local_copy

        state = local_copy(state)
    names = list(cfg.eval.metrics) or _default_metrics(cfg, run.source)
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise ConfigError(f"eval.metrics has unknown {unknown}; choose from {', '.join(METRICS)}")
    n = cfg.eval.num_samples
    fake = generate(run.models, state, n, seed=cfg.seed + streams.EVAL_SEED_OFFSET,
                    use_ema=cfg.train.ema_decay > 0)
    record: dict[str, Any] = {"step": step, "kind": "eval", "eval_samples": n}
    record.update(compute_metrics(names, EvalInputs(cfg, run.source, fake, progress)))
    return record
