"""`train(cfg, workdir)`: the training loop and nothing else.

Everything with substance lives elsewhere (the step in `step.py`, data in `data/`,
checkpoints in `checkpoint.py`, files in `writers.py`, health in `diagnostics/`); this
module sequences them: build, restore or initialize, then dispatch compiled chunks of
`steps_per_call` iterations, fetching metrics from the devices only at log steps.

Resume is exact because everything a step consumes is a function of what a checkpoint
holds: the batch of iteration `s` is `source.batch(s)`, and every random number comes from
the state's key folded with the step.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxgan import config as config_lib
from jaxgan import parallel
from jaxgan.autopilot import Autopilot, config_at, read_applied
from jaxgan.checkpoint import Checkpointer
from jaxgan.classifier import health_classifier
from jaxgan.config import Config, ConfigError
from jaxgan.coverage_probe import CoverageProbe
from jaxgan.data import prefetch
from jaxgan.diagnostics.signals import interval_means
from jaxgan.evaluate import evaluate_state
from jaxgan.guards import all_finite, any_process, local_copy, scale_learning_rates
from jaxgan.models.family import generator_family
from jaxgan.paths import local_workdir
from jaxgan.run import (
    RunSetup,
    host_batches,
    images_seen,
    make_monitor,
    restore_latest,
    setup_run,
    verdict_fields,
)
from jaxgan.runtime import GracefulExit, load_run_config, workdir_guard
from jaxgan.sampling import generate, write_samples
from jaxgan.state import GANState, init_state
from jaxgan.writers import MetricsWriter, last_training_record, read_jsonl

__all__ = ["train", "TrainResult", "TrainingDiverged", "setup_run", "restore_latest",
           "load_run_config", "images_seen"]


class TrainingDiverged(RuntimeError):
    """NaN/Inf reached the losses, gradients or parameters; one line for the user."""


@dataclass
class TrainResult:
    state: GANState
    last_record: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    stopped_early: str = ""
    already_finished: bool = False  # the newest checkpoint had reached train.steps


@jax.jit
def _accumulate(sums: dict[str, jax.Array], m: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Running metric sums on device, no host sync; a light step's metrics lack the costly
    signals, which the interval's full step adds."""
    return {**sums, **{k: sums[k] + v if k in sums else v for k, v in m.items()}}


def _summarize(sums: dict[str, jax.Array], count: int) -> dict[str, float]:
    host = jax.device_get(sums)
    return interval_means({k: np.asarray(v) for k, v in host.items()}, count)


def _fresh_or_restored(run: RunSetup, ckpt: Checkpointer) -> tuple[int, GANState, bool]:
    restored = restore_latest(run, ckpt)
    if restored is not None:
        return restored[0], restored[1], True
    state = parallel.create_replicated(
        lambda: init_state(run.models, run.cfg.seed, run.sample_shape), run.mesh)
    return 0, state, False


def train(cfg: Config, workdir: str | Path, force: bool = False) -> TrainResult:
    """Train (or resume) the run described by `cfg` in `workdir`.

    Writes config.json, metrics.jsonl, TensorBoard events, sample grids and orbax
    checkpoints. Re-running the same call on the same workdir resumes from the newest
    complete checkpoint and continues exactly; on a run whose newest checkpoint already
    reached `train.steps` it says so and returns that state (`already_finished`).
    SIGTERM/SIGINT finish the step in flight, save and return (`stopped_early="signal"`);
    NaN/Inf follows `train.on_nan`, except that with `health.on_failure=remedy` it is a
    `diverged` verdict the autopilot answers first (restore, that verdict's remedies,
    counted against `health.max_remedies`). Process 0 prints one line each on stderr:
    what runs where, "resumed from step N", and "compiling the step..." before the first
    call.
    """
    started = time.perf_counter()
    workdir = local_workdir(workdir)
    cfg = config_lib.resolve_auto(cfg)  # config.json names the layer programs that ran
    run = setup_run(cfg)
    is_main = jax.process_index() == 0
    workdir_guard(cfg, workdir, force=force, write=is_main)
    tc = cfg.train
    ckpt = Checkpointer(workdir / "checkpoints", keep=tc.keep_checkpoints,
                        keep_every=tc.keep_every, keep_best=tc.keep_best,
                        keep_best_mode=tc.keep_best_mode)
    pilot = Autopilot(cfg, workdir) if cfg.health.on_failure == "remedy" else None
    if pilot is not None and pilot.applied:  # resuming a remedied run: its config
        run = setup_run(pilot.config(cfg))
        pilot.resume(run, ckpt)
    elif pilot is None and (applied := read_applied(workdir)):  # remedied, autopilot now off
        run = setup_run(config_at(cfg, applied, (ckpt.latest_step() or 0) + 1))
    writer = progress = monitor = probe = None
    exit_flag = GracefulExit()
    rollbacks, stop, wall0 = 0, False, 0.0
    try:
        step, state, resumed = _fresh_or_restored(run, ckpt)
        if pilot is not None:
            pilot.note_start(step, state)
        result = TrainResult(state)
        if step >= tc.steps:
            result.already_finished = True
            result.last_record = last_training_record(workdir / "metrics.jsonl")
            if is_main:
                print(f"jaxgan: {workdir} already finished at step {step}"
                      f"{f' (train.steps={tc.steps})' if step != tc.steps else ''}; nothing "
                      "to do (raise train.steps to continue)", file=sys.stderr)
        else:
            if is_main:
                _announce(run, step if resumed else None)
            writer = MetricsWriter(workdir, resume_step=step if resumed else None) \
                if is_main else None
            if writer is not None:
                wall0 = writer.resumed_wall_time
                writer.add_config(cfg.to_dict())
            monitor = make_monitor(cfg, () if writer is None else read_jsonl(writer.path))
            classifier = health_classifier(cfg, run.source) if monitor is not None and \
                cfg.health.class_signal else None
            if is_main:  # the first call compiles: ~30 s with the bar still at 0 %
                print("jaxgan: compiling the step...", file=sys.stderr, flush=True)
            progress = _progress(cfg, step) if is_main else None
            exit_flag.install()
        progress_of = _progress_keys(cfg, started, wall0)
        while step < tc.steps and not stop:
            sums: dict[str, jax.Array] | None = None
            count, t_last, s_last = 0, time.perf_counter(), step
            nan_at: dict[str, Any] | None = None
            failed_at: dict[str, Any] | None = None
            batches = prefetch(host_batches(run, step, tc.steps), size=2)
            try:
                for host in batches:
                    batch = parallel.host_to_global(host, run.mesh, batch_axis=2)
                    state, m = run.step_at(step)(state, batch)
                    step += tc.steps_per_call
                    sums = m if sums is None else _accumulate(sums, m)
                    count += tc.steps_per_call
                    stop = any_process(exit_flag.requested)  # same decision on every host
                    at_end = step >= tc.steps or stop
                    is_log = step % tc.log_every == 0 or at_end
                    is_ckpt = step % tc.checkpoint_every == 0 or at_end
                    if is_log or is_ckpt:  # NaN/Inf is flagged on device; fetch the flag
                        summary = _summarize(sums, count)
                        if summary.get("nonfinite", 0.0) > 0:
                            nan_at = {"step": step, **summary, **progress_of(step)}
                            break
                    if is_log:
                        now = time.perf_counter()
                        rec = {"step": step, **summary,
                               "steps_per_s": (step - s_last) / max(now - t_last, 1e-9),
                               **progress_of(step), "loss_name": run.cfg.loss.name}
                        sums, count, t_last, s_last = None, 0, now, step
                        # modes/classes/spread for the detector; each process samples
                        # from its own full copy (no collective)
                        if monitor is not None or run.source.is_toy:
                            if probe is None or probe.run is not run:  # a remedy's new run
                                probe = CoverageProbe(run, classifier)
                            rec.update(probe(state, step))
                        _log(rec, cfg, monitor, writer, progress, result, exit_flag)
                        stop = stop or any_process(exit_flag.requested)  # health stop
                        if pilot is not None and pilot.acts_on(run.cfg, rec):
                            failed_at = rec
                            break
                    best = None  # keep_best: the evaluated steps carry their metrics
                    if cfg.eval.every and step % cfg.eval.every == 0:
                        ev = evaluate_state(run, state, step)
                        if writer is not None:
                            writer.write(ev)
                        best = _best_metrics(ev, tc.keep_best) if tc.keep_best else None
                    if is_main and (step % tc.sample_every == 0 or step >= tc.steps
                                    or result.stopped_early):  # not on a signal: be quick
                        _write_grid(run, state, workdir, step, writer)
                    if is_ckpt or stop or best is not None:
                        if not all_finite(state):  # never let a checkpoint hold NaN
                            nan_at = {"step": step, "nonfinite": 1.0, **progress_of(step)}
                            break
                        ckpt.save(step, state, force=True, metrics=best)
                        if pilot is not None:
                            pilot.note_checkpoint(step, state, result.last_record)
                    if stop or step >= tc.steps:
                        break
            finally:
                batches.close()
            if failed_at is not None:
                acted = pilot.remedy(run, ckpt, failed_at)
                if acted is None:  # nothing left to try: stop with the doctor's report
                    result.stopped_early = failed_at["verdict"]
                    stop = True
                else:
                    step, state, run, entry = acted
                    _announce_remedy(entry, writer, progress, tc.steps)
            if nan_at is not None:  # a `diverged` verdict: the autopilot's, else on_nan's
                nan_rec = {**nan_at, "verdict": "diverged"}
                if writer is not None:
                    writer.write(nan_rec)
                acted = None if pilot is None else pilot.remedy(run, ckpt, nan_rec)
                stop = False
                if acted is not None:
                    step, state, run, entry = acted
                    _announce_remedy(entry, writer, progress, tc.steps)
                else:
                    rollbacks += 1
                    step, state = _handle_nan(run, ckpt, nan_at, rollbacks, workdir)
                    if progress is not None:
                        progress.reset(total=tc.steps)
                        progress.update(step)
    finally:
        try:  # handlers stay installed through the final commit: a 2nd signal exits quietly
            ckpt.close()
            if pilot is not None:
                pilot.close()
        finally:
            exit_flag.uninstall()
        if writer is not None:
            writer.close()
        if progress is not None:
            progress.close()
    if result.stopped_early and is_main:
        _write_doctor(workdir)
    if exit_flag.requested and not result.stopped_early:
        result.stopped_early = "signal"
    result.state = state
    return result


def _announce(run: RunSetup, resumed_at: int | None) -> None:
    """What runs where: the start line, and where a resume picks up."""
    cfg, devices = run.cfg, jax.devices()
    kinds = sorted({d.device_kind for d in devices})
    hosts = f" on {jax.process_count()} processes" if jax.process_count() > 1 else ""
    per = f" ({cfg.train.batch_size // len(devices)} per device)" if len(devices) > 1 else ""
    print(f"jaxgan: {cfg.name} on {len(devices)} {'/'.join(kinds)} "
          f"device{'s' if len(devices) > 1 else ''}{hosts}, global batch "
          f"{cfg.train.batch_size}{per}", file=sys.stderr)
    if resumed_at is not None:
        print(f"jaxgan: resumed from step {resumed_at}", file=sys.stderr)


def _progress_keys(cfg: Config, started: float, wall0: float):
    """`step -> {"wall_time", "images_seen"}` for the records. wall_time: seconds this run
    has spent in `train`, summed over its resumes (the last kept record's plus this call's
    since it began, setup and compilation included; time between processes is not)."""
    def keys(step: int) -> dict[str, float | int]:
        return {"wall_time": wall0 + time.perf_counter() - started,
                "images_seen": images_seen(cfg, step)}
    return keys


def _best_metrics(record: dict[str, Any], name: str) -> dict[str, float]:
    """An eval record's numbers, stored beside the checkpoint so orbax can rank it."""
    numbers = {k: float(v) for k, v in record.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step"}
    if name not in numbers:
        raise ConfigError(f"train.keep_best={name} is not a metric of the eval records "
                          f"(they have {', '.join(sorted(numbers))}); choose one of those or "
                          "set eval.metrics to compute it")
    return {k: v for k, v in numbers.items() if np.isfinite(v)}


def _announce_remedy(entry: dict[str, Any], writer: MetricsWriter | None, progress: Any,
                     total: int) -> None:
    """The autopilot's action, in metrics.jsonl (and so TensorBoard and the doctor), and
    one line on stderr; the progress bar goes back to the healthy step."""
    if writer is not None:
        writer.write({"step": entry["step"], "autopilot": entry["remedy"],
                      "autopilot_verdict": entry["verdict"],
                      "autopilot_failed_at": entry["failed_at"],
                      "autopilot_overrides": " ".join(entry["overrides"])})
    if jax.process_index() == 0:
        print(f"jaxgan: {entry['verdict']} at step {entry['failed_at']}; autopilot: "
              f"{entry['what']} ({' '.join(entry['overrides'])}), continuing from the "
              f"healthy step {entry['step']}", file=sys.stderr)
    if progress is not None:
        progress.reset(total=total)
        progress.update(entry["step"])


def _handle_nan(run: RunSetup, ckpt: Checkpointer, nan_at: dict[str, Any], rollbacks: int,
                workdir: Path) -> tuple[int, GANState]:
    """`train.on_nan`: raise TrainingDiverged (stop), or restore the last good checkpoint
    with halved learning rates (rollback), at most `train.max_rollbacks` times. With
    `health.on_failure=remedy` the autopilot answers a NaN first (as a `diverged`
    verdict); this is what happens when it has nothing left to apply.

    Checkpoints are never written with NaN, so the newest one is the last good one.
    """
    tc = run.cfg.train
    ckpt.wait()
    if tc.on_nan != "rollback" or rollbacks > tc.max_rollbacks:
        if jax.process_index() == 0:
            _write_doctor(workdir)
        done = rollbacks - 1
        raise TrainingDiverged(
            f"NaN/Inf in losses, gradients or parameters by step {nan_at['step']}"
            f"{f' after {done} rollbacks' if done else ''}; the last good checkpoint is "
            f"step {ckpt.latest_step()}; see {workdir / 'doctor' / 'report.md'}; try lower "
            "learning rates, optim.d.grad_clip, or train.on_nan=rollback")
    step, state, _ = _fresh_or_restored(run, ckpt)
    state = scale_learning_rates(state, 0.5)
    if jax.process_index() == 0:
        print(f"jaxgan: NaN/Inf by step {nan_at['step']}; rolled back to step {step} with "
              f"halved learning rates (rollback {rollbacks}/{tc.max_rollbacks})",
              file=sys.stderr)
    return step, state


def _log(rec, cfg, monitor, writer, progress, result, exit_flag) -> None:
    if monitor is not None:
        rec.update(verdict_fields(monitor.update(rec)))
    result.records.append(rec)
    result.last_record = rec
    if writer is not None:
        writer.write(rec)
    if progress is not None:
        progress.update(rec["step"] - progress.n)
        progress.set_postfix(_postfix(rec), refresh=False)
    if monitor is not None and cfg.health.on_failure == "stop" and \
            rec["verdict"] not in ("healthy", "warming_up"):
        result.stopped_early = rec["verdict"]
        exit_flag.requested = True


def _write_doctor(workdir: Path) -> None:
    from jaxgan.diagnostics.doctor import write_report

    try:
        write_report(workdir)
    except Exception as e:  # the report is a courtesy; never mask the real outcome
        print(f"jaxgan: could not write the doctor report: {e}", file=sys.stderr)


def _write_grid(run: RunSetup, state: GANState, workdir: Path, step: int, writer) -> None:
    cfg = run.cfg
    toy = run.source.is_toy
    n = 1000 if toy else cfg.train.num_samples
    if jax.process_count() > 1:  # only this process samples: use its own full copy
        state = local_copy(state)
    samples = generate(run.models, state, n, cfg.seed, use_ema=cfg.train.ema_decay > 0)
    path = workdir / "samples" / f"step_{step:07d}.png"
    if toy:  # a scatter plot of the samples over the modes
        from jaxgan.writers import scatter_png

        image = scatter_png(samples, path, run.source.centers)
    else:
        from jaxgan.writers import make_grid

        write_samples(samples, path)
        image = make_grid(samples)
    latest = workdir / "samples" / "latest.png"
    latest.write_bytes(path.read_bytes())
    if writer is not None:
        writer.add_image("samples", image, step)
    panels = generator_family(cfg).panels  # the family's own figures beside the grid
    for name, (images, ncols) in (panels(run.models, state, cfg) if panels else {}).items():
        from jaxgan.writers import make_grid, save_png

        path = workdir / "samples" / f"{name}_{step:07d}.png"
        grid = make_grid(images, ncols=ncols)
        save_png(grid, path)
        (workdir / "samples" / f"{name}_latest.png").write_bytes(path.read_bytes())
        if writer is not None:
            writer.add_image(name, grid, step)


def _progress(cfg: Config, start: int):
    if not cfg.train.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=cfg.train.steps, initial=start, desc=cfg.name, unit="step",
                dynamic_ncols=True, file=sys.stderr)


def _postfix(rec: dict[str, Any]) -> dict[str, str]:
    out = {"it/s": f"{rec['steps_per_s']:.1f}", "D": f"{rec.get('d_loss', 0):.3f}",
           "G": f"{rec.get('g_loss', 0):.3f}"}
    if "verdict" in rec:
        out["health"] = rec["verdict"]
    if rec.get("at_risk"):
        out["at_risk"] = rec["at_risk"]
    return out
