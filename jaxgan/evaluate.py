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
import numpy as np

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


def toy_mode_signals(run: Any, state: Any, n: int = 2500, use_ema: bool = False
                     ) -> dict[str, Any]:
    """The live mode count of the current generator on a 2-D toy, for the mode-collapse
    detector (the D-feature diversity ratio misses a collapse onto a curve that spans the
    data: such a curve is as spread out as the real mixture).

    `n` samples (the VEEGAN/PacGAN protocol's 2,500), each assigned to its nearest mode when
    within a quarter of the smallest distance between modes ("near"; looser than the
    evaluation's 3 std, which a converging run does not meet yet). Modes are counted among
    the near samples only, at every record, however few they are: a mode counts as captured
    when it holds at least `MODE_SHARE` of its fair share of the near samples (and at least
    `MODE_MIN_SAMPLES`; both in `jaxgan.diagnostics.toy_modes`), so an off-mode generator
    still gets a count, and the share of samples near no mode is reported beside it
    (`toy_off_mode`) instead of suppressing it. `use_ema` counts the EMA generator's
    samples instead (`coverage_signals` logs both).
    """
    from jaxgan.diagnostics.toy_modes import mode_count
    from jaxgan.sampling import generate

    src = run.source
    centers = np.asarray(src.centers, np.float64)
    fake = generate(run.models, state, n, seed=run.cfg.seed + streams.TOY_MODES_SEED_OFFSET,
                    use_ema=use_ema)
    return mode_count(np.asarray(fake, np.float64), centers)


def image_signals(run: Any, state: Any, classifier: Any, n: int = 256,
                  use_ema: bool = False) -> dict[str, Any]:
    """The live coverage signals of the current generator on an in-memory image dataset,
    for the mode-collapse detector, from `n` samples of the training generator (or of the
    EMA generator with `use_ema`; `coverage_signals` logs both):

    - the class count of a labelled dataset (with `classifier`, jaxgan's small classifier,
      `jaxgan.classifier.health_classifier`), counted by
      `jaxgan.diagnostics.class_modes.class_count`;
    - the pixel-space spread against a fixed subset of the real images
      (`jaxgan.diagnostics.spread.pixel_spread`), which needs no labels.
    """
    from jaxgan.data.images import to_unit_range
    from jaxgan.diagnostics.class_modes import class_count
    from jaxgan.diagnostics.spread import REAL_SAMPLES, pixel_spread
    from jaxgan.sampling import generate

    images = getattr(run.source, "images", None)
    if classifier is None and images is None:
        return {}
    fake = generate(run.models, state, n, seed=run.cfg.seed + streams.CLASS_SIGNAL_SEED_OFFSET,
                    use_ema=use_ema)
    fake = np.asarray(fake, np.float32)
    if images is not None and fake.shape[1:] != images.shape[1:]:
        return {}  # a growing generator (ProGAN) below the data's resolution: nothing to count
    out: dict[str, Any] = {}
    if classifier is not None:
        _, probs = classifier.apply(fake)
        out.update(class_count(probs))
    if images is not None:
        pick = np.random.default_rng(run.cfg.seed).choice(
            len(images), min(REAL_SAMPLES, len(images)), replace=False)
        out.update(pixel_spread(fake, to_unit_range(images[np.sort(pick)])))
    return out


# The EMA generator's coverage signals: the ones that change between the two generators.
EMA_COVERAGE_KEYS = ("modes_captured", "toy_off_mode", "classes_captured", "class_confident",
                     "pixel_spread")


def coverage_signals(run: Any, state: Any, classifier: Any, step: int) -> dict[str, Any]:
    """The live mode count (2-D toys), or class count (labelled images, with `classifier`)
    and pixel spread (in-memory images) of the training generator, and the same of the EMA
    generator as `ema_*` beside them.

    Why both: the detector watches the game through the training generator, but the user's
    samples come from the EMA generator, an average of G's recent parameters that need not
    draw what G draws (on the failure benchmark's toy_ring runs with G 10x faster than D it
    is far less precise than G: near 5-8 of the 8 modes, almost none within 3 std of one,
    benchmarks/RESULTS.md, session 12). The EMA counts are left out while the EMA is a
    copy of G (`train.ema_decay` 0, or before `train.ema_start`). Empty when there is
    nothing to measure (a streamed dataset without a classifier).
    """
    if run.source.is_toy:
        def count(use_ema: bool) -> dict[str, Any]:
            return toy_mode_signals(run, state, use_ema=use_ema)
    else:
        def count(use_ema: bool) -> dict[str, Any]:
            return image_signals(run, state, classifier, use_ema=use_ema)
    out = count(False)
    tc = run.cfg.train
    if tc.ema_decay > 0 and step >= tc.ema_start and out:
        ema = count(True)
        out.update({f"ema_{k}": ema[k] for k in EMA_COVERAGE_KEYS if k in ema})
    return out
